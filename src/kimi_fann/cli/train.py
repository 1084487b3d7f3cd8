"""``kimi-fann train``: train a float network on a FANN .data file: a fixed topology, or one that
grows its own hidden neurons (``--cascade``, FANN's Cascade2)."""

from __future__ import annotations

import argparse
import time

import numpy as np

from ..cascade import FannRandom
from ..data import TrainingData
from ..errors import ConfigError
from ..network import ACTIVATIONS, TRAINING_ALGORITHMS, Network
from ._common import Progress, add_json_flag, save_model, table


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a network on a FANN .data file",
                       description="Train a float network (FANN semantics) and save it as .net, .kfn or .onnx.",
                       epilog="activations (NAME): " + ", ".join(ACTIVATIONS))
    p.add_argument("data", help="training pairs, FANN .data")
    p.add_argument("--hidden", type=int, nargs="+", default=None, metavar="N",
                   help="hidden layer sizes (default 16; not with --cascade)")
    # the twenty activation names listed once, in the epilog, rather than inline twice
    p.add_argument("--hidden-activation", choices=ACTIVATIONS, default="sigmoid_symmetric", metavar="NAME",
                   help="hidden layers' activation (default sigmoid_symmetric)")
    p.add_argument("--output-activation", choices=ACTIVATIONS, default="sigmoid", metavar="NAME",
                   help="output layer's activation (default sigmoid)")
    p.add_argument("--algorithm", choices=TRAINING_ALGORITHMS, default="rprop",
                   help="training algorithm (default rprop; with --cascade: rprop, quickprop or sarprop)")
    p.add_argument("--epochs", type=int, default=1000, help="maximum epochs (default 1000; not with --cascade)")
    p.add_argument("--target-error", type=float, default=1e-3, help="stop at this MSE (default 0.001)")
    c = p.add_argument_group("cascade training", "FANN's Cascade2 (fann_cascadetrain_on_data): a shortcut network "
                             "that adds one hidden neuron at a time, the best of a pool of trained candidates")
    c.add_argument("--cascade", action="store_true", help="grow the hidden neurons instead of --hidden layers")
    c.add_argument("--max-neurons", type=int, default=30, metavar="N", help="hidden neurons at most (default 30)")
    c.add_argument("--candidate-activations", nargs="+", choices=ACTIVATIONS, metavar="NAME",
                   help="the candidates' activation functions (default FANN's ten)")
    c.add_argument("--candidate-steepnesses", type=float, nargs="+", metavar="S",
                   help="the candidates' steepnesses (default 0.25 0.5 0.75 1)")
    c.add_argument("--candidate-groups", type=int, metavar="N",
                   help="candidates per activation function and steepness (default 2)")
    c.add_argument("--max-out-epochs", type=int, metavar="N", help="epochs of one output training at most (default 150)")
    c.add_argument("--max-cand-epochs", type=int, metavar="N",
                   help="epochs of one candidate training at most (default 150)")
    c.add_argument("--fann-seed", type=int, metavar="SEED",
                   help="draw the candidates' weights as libfann does after srand(SEED) (glibc's rand()): the "
                        "network libfann grows from the same start (default: the --seed generator)")
    p.add_argument("--test", metavar="DATA", help="test pairs (FANN .data) to report the error on")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--output", metavar="MODEL", help="write the network (.net, .kfn or .onnx)")
    add_json_flag(p)
    p.set_defaults(run=run, show=show)


def run(args: argparse.Namespace) -> dict:
    train = TrainingData.load(args.data)
    if args.cascade:
        net, result = _grow(args, train)
    else:
        cascade_only = [flag for flag, value in (("--max-neurons", args.max_neurons != 30),
                                                 ("--candidate-activations", args.candidate_activations),
                                                 ("--candidate-steepnesses", args.candidate_steepnesses),
                                                 ("--candidate-groups", args.candidate_groups),
                                                 ("--max-out-epochs", args.max_out_epochs),
                                                 ("--max-cand-epochs", args.max_cand_epochs),
                                                 ("--fann-seed", args.fann_seed is not None)) if value]
        if cascade_only:
            raise ConfigError(f"{', '.join(cascade_only)}: only with --cascade")
        net = Network([train.num_input, *(args.hidden or [16]), train.num_output], hidden=args.hidden_activation,
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


def _grow(args: argparse.Namespace, train: TrainingData) -> tuple[Network, dict]:
    """Cascade training from a shortcut network without hidden neurons, a progress bar per neuron."""
    if args.hidden is not None:
        raise ConfigError("--hidden does not apply to --cascade: the network grows its own hidden neurons")
    net = Network([train.num_input, train.num_output], output=args.output_activation, shortcut=True, seed=args.seed)
    net.training_algorithm = args.algorithm
    if args.candidate_activations:
        net.cascade_activation_functions = args.candidate_activations
    if args.candidate_steepnesses:
        net.cascade_activation_steepnesses = args.candidate_steepnesses
    for attribute, value in (("cascade_num_candidate_groups", args.candidate_groups),
                             ("cascade_max_out_epochs", args.max_out_epochs),
                             ("cascade_max_cand_epochs", args.max_cand_epochs)):
        if value is not None:
            if value < 0:
                raise ConfigError(f"{attribute} must be a non-negative integer, got {value}")
            setattr(net, attribute, value)
    random = None if args.fann_seed is None else FannRandom(args.fann_seed)
    start = time.perf_counter()
    with Progress(args.max_neurons, "growing", unit="neuron") as bar:
        def report(neurons: int, mse: float, bit_fail: int) -> None:
            bar.advance_to(neurons)
            bar.describe(f"MSE {mse:.6f}")

        history = net.cascade_train(train, max_neurons=args.max_neurons, desired_error=args.target_error,
                                    random=random, callback=report)
    return net, {
        "data": args.data,
        "mode": "cascade",
        "layers": list(net.layers),
        "algorithm": net.training_algorithm,
        "neurons": history.neurons,
        "candidates": net.cascade_num_candidates,
        "epochs": history.epochs,
        "train_mse": history.mse,
        "train_bit_fail": history.bit_fail,
        "steps": [step.to_dict() for step in history.steps],
        "seconds": time.perf_counter() - start,
    }


def show(result: dict) -> None:
    if result.get("mode") == "cascade":
        rows = [(s["neurons"], s["epochs"], f"{s['mse']:.6f}", s["bit_fail"], s["activation"] or "-",
                 "-" if s["steepness"] is None else f"{s['steepness']:g}") for s in result["steps"]]
        print(table(rows, ("neurons", "epochs", "MSE", "bit fail", "last neuron", "steepness")))
        print(f"grew {result['neurons']} hidden neurons ({'-'.join(map(str, result['layers']))}, shortcut) with "
              f"{result['algorithm']} and {result['candidates']} candidates: {result['epochs']} epochs in "
              f"{result['seconds']:.2f} s, training MSE {result['train_mse']:.6f}")
    else:
        print(f"trained {'-'.join(map(str, result['layers']))} with {result['algorithm']}: {result['epochs']} "
              f"epochs in {result['seconds']:.2f} s, training MSE {result['train_mse']:.6f}")
    if "test_mse" in result:
        line = f"test MSE {result['test_mse']:.6f}"
        if "test_accuracy" in result:
            line += f", accuracy {100 * result['test_accuracy']:.1f}%"
        print(line)
    if "output" in result:
        print(f"wrote {result['output']}")
