"""``kimi-fann train``: train a float network on a FANN .data file."""

from __future__ import annotations

import argparse
import time

import numpy as np

from ..data import TrainingData
from ..network import ACTIVATIONS, TRAINING_ALGORITHMS, Network
from ._common import Progress, add_json_flag, save_model


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a network on a FANN .data file",
                       description="Train a float network (FANN semantics) and save it as .net, .kfn or .onnx.",
                       epilog="activations (NAME): " + ", ".join(ACTIVATIONS))
    p.add_argument("data", help="training pairs, FANN .data")
    p.add_argument("--hidden", type=int, nargs="+", default=[16], metavar="N",
                   help="hidden layer sizes (default 16)")
    # the twenty activation names listed once, in the epilog, rather than inline twice
    p.add_argument("--hidden-activation", choices=ACTIVATIONS, default="sigmoid_symmetric", metavar="NAME",
                   help="hidden layers' activation (default sigmoid_symmetric)")
    p.add_argument("--output-activation", choices=ACTIVATIONS, default="sigmoid", metavar="NAME",
                   help="output layer's activation (default sigmoid)")
    p.add_argument("--algorithm", choices=TRAINING_ALGORITHMS, default="rprop",
                   help="training algorithm (default rprop)")
    p.add_argument("--epochs", type=int, default=1000, help="maximum epochs (default 1000)")
    p.add_argument("--target-error", type=float, default=1e-3, help="stop at this MSE (default 0.001)")
    p.add_argument("--test", metavar="DATA", help="test pairs (FANN .data) to report the error on")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--output", metavar="MODEL", help="write the network (.net, .kfn or .onnx)")
    add_json_flag(p)
    p.set_defaults(run=run, show=show)


def run(args: argparse.Namespace) -> dict:
    train = TrainingData.load(args.data)
    net = Network([train.num_input, *args.hidden, train.num_output], hidden=args.hidden_activation,
                  output=args.output_activation, seed=args.seed)
    net.training_algorithm = args.algorithm
    start = time.perf_counter()
    with Progress(args.epochs, "training", unit="epoch") as bar:
        history = net.train(train, max_epochs=args.epochs, target_error=args.target_error,
                            callback=lambda *_: bar.update())
    result = {
        "data": args.data,
        "layers": list(net.layers),
        "algorithm": net.training_algorithm,
        "epochs": len(history),
        "train_mse": float(history[-1]) if len(history) else None,
        "seconds": time.perf_counter() - start,
    }
    if args.test:
        test = TrainingData.load(args.test)
        result["test_mse"] = net.test(test)
        if test.num_output > 1:
            result["test_accuracy"] = float(np.mean(net.run(test.inputs).argmax(1) == test.outputs.argmax(1)))
    if args.output:
        save_model(args.output, net)
        result["output"] = args.output
    return result


def show(result: dict) -> None:
    print(f"trained {'-'.join(map(str, result['layers']))} with {result['algorithm']}: {result['epochs']} epochs "
          f"in {result['seconds']:.2f} s, training MSE {result['train_mse']:.6f}")
    if "test_mse" in result:
        line = f"test MSE {result['test_mse']:.6f}"
        if "test_accuracy" in result:
            line += f", accuracy {100 * result['test_accuracy']:.1f}%"
        print(line)
    if "output" in result:
        print(f"wrote {result['output']}")
