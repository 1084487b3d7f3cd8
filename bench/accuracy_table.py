"""Accuracy of every integer engine against the float network it came from, on FANN's data sets
and scikit-learn's digits: the table in docs/fixed-point.md.

usage: python bench/accuracy_table.py   (LiteRT rows need ai-edge-litert, digits scikit-learn)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import kimi_fann as kf  # noqa: E402

from fannsets import fann_dataset  # noqa: E402


def datasets() -> dict[str, tuple[kf.TrainingData, kf.TrainingData]]:
    sets = {}
    try:
        from sklearn.datasets import load_digits

        digits = load_digits()
        x, y = digits.data / 16.0, np.eye(10)[digits.target]
        order = np.random.default_rng(0).permutation(len(x))
        sets["digits"] = (kf.TrainingData(x[order[:1200]], y[order[:1200]]),
                          kf.TrainingData(x[order[1200:]], y[order[1200:]]))
    except ImportError:
        pass
    for name in ("thyroid", "mushroom", "gene"):
        sets[name] = fann_dataset(name)
    return sets


def engines(net: kf.Network, train: kf.TrainingData):
    yield "FANN fixed point (libfixedfann 2.2 semantics)", net.to_fixed().run
    yield "kimi-fann Q8", net.quantize(calibration=train.inputs).run
    yield "kimi-fann Q16, int8 weights", net.quantize(calibration=train.inputs, activation_bits=16).run
    yield "kimi-fann Q16, int16 weights", net.quantize(calibration=train.inputs, activation_bits=16, weight_bits=16).run
    try:
        import peers

        run = peers.litert_runner(net, train.inputs, 1)
        yield "LiteRT int8 (XNNPACK)", lambda x: np.concatenate([run(row[None, :]) for row in x.astype(np.float32)])
    except ImportError:
        pass


def main() -> int:
    print("| data set | engine | agreement with float (test) | max abs error | mean abs error |")
    print("|---|---|---|---|---|")
    for name, (train, test) in datasets().items():
        net = kf.Network([train.num_input, 24, train.num_output], hidden="sigmoid_symmetric", output="sigmoid", seed=1)
        net.training_algorithm = "incremental"
        net.learning_rate = 0.2
        net.train(train, max_epochs=60, target_error=0)
        inside = np.all((test.inputs >= train.inputs.min(0)) & (test.inputs <= train.inputs.max(0)), axis=1)
        x = test.inputs[inside]
        reference = net.run(x)
        for engine, run in engines(net, train):
            out = run(x)
            agree = np.mean(out.argmax(axis=1) == reference.argmax(axis=1))
            error = np.abs(out - reference)
            print(f"| {name} | {engine} | {100 * agree:.2f}% | {error.max():.2e} | {error.mean():.1e} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
