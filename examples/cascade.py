"""Cascade-correlation: let the network grow its own hidden neurons, and compare it with networks
of fixed sizes trained on the same data.

FANN's two-spiral set (the classic cascade-correlation benchmark, shipped in the package) by
default; ``--set thyroid`` or ``--set diabetes`` for the others. Run it as
``python examples/cascade.py [--set NAME] [--neurons N] [--epochs E] [--seed S]``.
The cascade run draws its candidate weights as libfann does after ``srand(S)``: a C program
that starts from the same network gets the same grown network, bit for bit.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import kimi_fann as kf
from kimi_fann import datasets


def accuracy(net: kf.Network, data: kf.TrainingData) -> float:
    """Share of test pairs classified right: the largest output, or one output above 0.5."""
    y = net.run(data.inputs)
    if data.num_output > 1:
        return float(np.mean(y.argmax(1) == data.outputs.argmax(1)))
    return float(np.mean((y[:, 0] > 0.5) == (data.outputs[:, 0] > 0.5)))


def main(name: str, neurons: int, epochs: int, seed: int) -> None:
    train, test = datasets.load(name)
    print(f"{name}: {len(train)} training and {len(test)} test pairs, {train.num_input} inputs, "
          f"{train.num_output} output{'s' if train.num_output > 1 else ''}")
    rows = []

    # Cascade: a shortcut network without hidden neurons grows up to `neurons` of them.
    net = kf.Network([train.num_input, train.num_output], output="sigmoid", shortcut=True, seed=seed)
    start = time.perf_counter()
    history = net.cascade_train(train, max_neurons=neurons, desired_error=0.001, random=kf.FannRandom(seed))
    seconds = time.perf_counter() - start
    for step in history.steps[1:]:
        print(f"  neuron {step.neurons:2d}: {step.activation} (steepness {step.steepness:g}), "
              f"training MSE {step.mse:.5f}")
    rows.append((f"cascade, {history.neurons} neurons grown", net.total_connections, history.epochs, history.mse,
                 net.test(test), accuracy(net, test), seconds))

    # Fixed topologies, the same output activation, RPROP from Nguyen-Widrow weights.
    for hidden in ([8], [32], [32, 32]):
        fixed = kf.Network([train.num_input, *hidden, train.num_output], hidden="sigmoid_symmetric", output="sigmoid",
                           seed=seed)
        fixed.init_weights(train, seed=seed)
        start = time.perf_counter()
        mse = fixed.train(train, max_epochs=epochs, target_error=0.001)
        rows.append((f"fixed {'-'.join(map(str, fixed.layers))}", fixed.total_connections, len(mse), float(mse[-1]),
                     fixed.test(test), accuracy(fixed, test), time.perf_counter() - start))

    print(f"{'network':<28} {'weights':>7} {'epochs':>6} {'train MSE':>9} {'test MSE':>8} {'accuracy':>8} {'seconds':>7}")
    for label, weights, epochs_run, train_mse, test_mse, acc, secs in rows:
        print(f"{label:<28} {weights:>7} {epochs_run:>6} {train_mse:>9.5f} {test_mse:>8.5f} {100 * acc:>7.1f}% "
              f"{secs:>7.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", default="two-spiral", choices=datasets.NAMES)
    parser.add_argument("--neurons", type=int, default=30, help="hidden neurons cascade training may add")
    parser.add_argument("--epochs", type=int, default=20000, help="epochs of the fixed-size networks at most")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    main(args.set, args.neurons, args.epochs, args.seed)
