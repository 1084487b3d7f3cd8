"""The ``kimi-fann`` command line.

Exit codes: 0 on success, 1 when a run fails (one-line reason on stderr), 2 on bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Sequence

import numpy as np

from . import __version__, datasets
from .errors import KimiFannError
from .network import Network


def _demo(args: argparse.Namespace) -> dict:
    """Train a network on a bundled data set and measure its test error."""
    train, test = datasets.load(args.dataset)
    net = Network([train.num_input, args.hidden, train.num_output], hidden="sigmoid_symmetric",
                  output="sigmoid", seed=args.seed)
    net.training_algorithm = "rprop"
    start = time.perf_counter()
    history = net.train(train, max_epochs=args.epochs, target_error=args.target_error)
    seconds = time.perf_counter() - start
    test_mse = net.test(test)
    predicted = net.run(test.inputs).argmax(axis=1)
    accuracy = float(np.mean(predicted == test.outputs.argmax(axis=1)))
    return {
        "dataset": args.dataset,
        "layers": list(net.layers),
        "training_algorithm": net.training_algorithm,
        "epochs": len(history),
        "train_mse": float(history[-1]) if len(history) else None,
        "train_seconds": seconds,
        "test_mse": test_mse,
        "test_bit_fail": net.bit_fail,
        "test_accuracy": accuracy,
    }


def _print_demo(result: dict) -> None:
    print(f"kimi-fann {__version__} demo: {result['dataset']} with layers {result['layers']}, "
          f"{result['training_algorithm']}")
    print(f"  trained {result['epochs']} epochs in {result['train_seconds']:.3f} s, "
          f"final training MSE {result['train_mse']:.5f}")
    print(f"  test MSE {result['test_mse']:.5f}, failed bits {result['test_bit_fail']}, "
          f"classification accuracy {100 * result['test_accuracy']:.1f}%")


def _info(args: argparse.Namespace) -> dict:
    from .network import ACTIVATIONS, TRAINING_ALGORITHMS

    return {
        "version": __version__,
        "activations": list(ACTIVATIONS),
        "training_algorithms": list(TRAINING_ALGORITHMS),
        "datasets": list(datasets.NAMES),
    }


def _print_info(result: dict) -> None:
    print(f"kimi-fann {result['version']}")
    print("activations: " + ", ".join(result["activations"]))
    print("training algorithms: " + ", ".join(result["training_algorithms"]))
    print("bundled data sets: " + ", ".join(result["datasets"]))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kimi-fann", description="Tiny, fast, deterministic neural networks.")
    parser.add_argument("--version", action="version", version=f"kimi-fann {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="train a network on a bundled data set and report its test error")
    demo.add_argument("--dataset", choices=datasets.NAMES, default="diabetes")
    demo.add_argument("--hidden", type=int, default=16, help="neurons in the hidden layer (default 16)")
    demo.add_argument("--epochs", type=int, default=200, help="maximum epochs (default 200)")
    demo.add_argument("--target-error", type=float, default=1e-3, help="stop at this MSE (default 0.001)")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--json", action="store_true", help="print the result as JSON")
    demo.set_defaults(run=_demo, show=_print_demo)

    info = sub.add_parser("info", help="version and capabilities")
    info.add_argument("--json", action="store_true", help="print the result as JSON")
    info.set_defaults(run=_info, show=_print_info)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kimi-fann`` command."""
    args = _parser().parse_args(argv)
    try:
        result = args.run(args)
    except (KimiFannError, OSError, MemoryError) as exc:
        print(f"kimi-fann {args.command}: error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        args.show(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
