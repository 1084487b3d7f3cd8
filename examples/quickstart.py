"""Quick start: train a FANN-style network, test it, save it, and make an integer version.

Uses the diabetes data set that ships inside kimi-fann (FANN's PROBEN1 copy: 8 inputs in [0, 1],
two one-hot outputs). Run it as ``python examples/quickstart.py [--epochs N] [--out DIR]``.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

import kimi_fann as kf
from kimi_fann import datasets


def accuracy(outputs: np.ndarray, data: kf.TrainingData) -> float:
    """Share of rows whose largest output is the desired class."""
    return float(np.mean(outputs.argmax(axis=1) == data.outputs.argmax(axis=1)))


def main(epochs: int, out: Path) -> None:
    train, test = datasets.load("diabetes")
    print(f"data: {len(train)} training and {len(test)} test pairs, {train.num_input} inputs, "
          f"{train.num_output} outputs")

    # fann_create_standard(3, 8, 12, 2) + the activation functions, in one call
    net = kf.Network([train.num_input, 12, train.num_output], hidden="sigmoid_symmetric",
                     output="sigmoid", seed=0)
    net.training_algorithm = "rprop"  # FANN's default, spelled out

    def report(epoch: int, mse: float, bit_fail: int) -> None:
        if epoch % 25 == 0:
            print(f"  epoch {epoch:4d}  mse {mse:.5f}  failed bits {bit_fail}")

    history = net.train(train, max_epochs=epochs, target_error=1e-3, callback=report)
    print(f"trained {len(history)} epochs: training mse {history[-1]:.5f}")
    print(f"test mse {net.test(test):.5f}, test accuracy {accuracy(net.run(test.inputs), test):.1%}")

    # A FANN_FLO_2.1 .net file: libfann reads it, and so does kimi-fann, exactly.
    path = out / "diabetes.net"
    net.save(path)
    again = kf.Network.load(path)
    same = np.array_equal(again.run(test.inputs), net.run(test.inputs))
    print(f"saved {path.name} ({path.stat().st_size} bytes); reloaded outputs identical: {same}")

    # Integer-only inference: Q8, calibrated on the training inputs.
    q8 = net.quantize(calibration=train.inputs)
    y8 = q8.run(test.inputs)
    print(f"Q8: test accuracy {accuracy(y8, test):.1%}, max |Q8 - float| on test "
          f"{np.abs(y8 - net.run(test.inputs)).max():.4f}, SIMD path {kf.simd_path()}")

    # Any model (network, fixed-point network, router, mixture) in one native file; here the
    # float weights stored as 8-bit codes with a scale per group of 64, deflated.
    kfn = out / "diabetes.kfn"
    kf.save(kfn, net, compress="q8")
    small = kf.load(kfn)
    print(f"saved {kfn.name} ({kfn.stat().st_size} bytes), test accuracy after reloading "
          f"{accuracy(small.run(test.inputs), test):.1%}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=200, help="training epochs at most (200)")
    parser.add_argument("--out", type=Path, default=None, help="folder for the files (a temporary one)")
    args = parser.parse_args()
    if args.out is None:
        with tempfile.TemporaryDirectory() as tmp:
            main(args.epochs, Path(tmp))
    else:
        args.out.mkdir(parents=True, exist_ok=True)
        main(args.epochs, args.out)
