"""The ``kimi-fann`` command line.

``kimi-fann demo | train | run | quantize | convert | analyze | distill | route | bench | info``,
each with ``--help`` and ``--json``. Exit codes: 0 on success, 1 when a run fails (a one-line
reason on stderr), 2 on bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
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
        try:
            result = args.run(args)
        except (KimiFannError, OSError, MemoryError, ImportError) as exc:
            if isinstance(exc, BrokenPipeError):
                raise
            print(f"kimi-fann {args.command}: error: {_reason(exc)}", file=sys.stderr)
            return 1
        if args.json:
            print(json.dumps(result, indent=2))
        else:
            args.show(result)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader stopped (kimi-fann run ... | head -1): no traceback, and none at exit when
        # Python flushes stdout again (the documented recipe: point it at /dev/null).
        try:
            stdout = sys.stdout.fileno()
        except (AttributeError, ValueError):  # not a file (a test's capture): nothing to flush at exit
            return 1
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stdout)
        os.close(devnull)
        return 1
    return 0


def _reason(exc: BaseException) -> str:
    """One line: an OSError as "FILE: reason" (not "[Errno 2] ..."), others as their message.

    Examples
    --------
    >>> _reason(FileNotFoundError(2, "No such file or directory", "x.net"))
    'x.net: no such file or directory'
    >>> _reason(PermissionError(13, "Permission denied", "out/model.kfn"))
    'out/model.kfn: permission denied'
    """
    if isinstance(exc, OSError) and exc.strerror and not isinstance(exc, KimiFannError):
        where = f"{exc.filename}: " if exc.filename is not None else ""
        return f"{where}{exc.strerror[:1].lower()}{exc.strerror[1:]}"
    return " ".join(str(exc).split()) or type(exc).__name__
