"""``kimi-fann info``: version and capabilities."""

from __future__ import annotations

import argparse

from .. import datasets
from .._version import __version__
from ..network import ACTIVATIONS, TRAINING_ALGORITHMS
from ..simd import simd_info
from ._common import add_json_flag


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("info", help="version and capabilities", description="Version, SIMD paths, functions, data sets.")
    add_json_flag(p)
    p.set_defaults(run=run, show=show)


def run(args: argparse.Namespace) -> dict:
    return {
        "version": __version__,
        "simd": simd_info(),
        "activations": list(ACTIVATIONS),
        "training_algorithms": list(TRAINING_ALGORITHMS),
        "datasets": list(datasets.NAMES),
    }


def show(result: dict) -> None:
    simd = result["simd"]
    print(f"kimi-fann {result['version']}")
    print(f"SIMD: {simd['active']} active; built {', '.join(simd['built'])}; supported {', '.join(simd['supported'])}")
    print("activations: " + ", ".join(result["activations"]))
    print("training algorithms: " + ", ".join(result["training_algorithms"]))
    print("bundled data sets: " + ", ".join(result["datasets"]))
