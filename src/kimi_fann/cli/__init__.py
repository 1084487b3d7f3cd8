"""The ``kimi-fann`` command line.

``kimi-fann demo | train | run | quantize | convert | analyze | distill | route | bench | info``,
each with ``--help`` and ``--json``. Exit codes: 0 on success, 1 when a run fails (a one-line
reason on stderr), 2 on bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from .._version import __version__
from ..errors import KimiFannError
from . import analyze, convert, distill, info, run, train

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kimi-fann",
        description="Tiny, fast, deterministic neural networks: FANN-compatible micro-experts, a SIMD "
                    "router, and an analyzer that distils large teachers into them.")
    parser.add_argument("--version", action="version", version=f"kimi-fann {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    distill.add_parsers(sub)   # demo, distill
    train.add_parser(sub)
    run.add_parsers(sub)       # run, route
    convert.add_parsers(sub)   # quantize, convert
    analyze.add_parsers(sub)   # analyze, bench
    info.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kimi-fann`` command; returns the exit code.

    Examples
    --------
    >>> main(["info", "--json"])  # doctest: +ELLIPSIS
    {...
    0
    """
    args = _parser().parse_args(argv)
    try:
        result = args.run(args)
    except (KimiFannError, OSError, MemoryError, ImportError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        print(f"kimi-fann {args.command}: error: {reason}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        args.show(result)
    return 0
