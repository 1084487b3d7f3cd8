"""Train libfann 2.2 and kimi-fann from the same initial network on FANN's benchmark sets and
print a Markdown table of their test errors (the table in docs/fann-parity.md).

usage: python bench/fann_parity_table.py [--epochs 100] [--hidden 12]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import kimi_fann as kf  # noqa: E402

import fannref  # noqa: E402
from fannsets import NAMES, fann_dataset  # noqa: E402


def compare(name: str, epochs: int, hidden: int, folder: Path) -> dict:
    train, test = fann_dataset(name)
    fann = fannref.FloatNet.standard([train.num_input, hidden, train.num_output])
    fannref.FloatNet.seed(1)  # after creation: fann_create_* reseeds rand() from /dev/urandom
    fann.set_activation_function_hidden(kf.ACTIVATIONS.index("sigmoid_symmetric"))
    fann.set_activation_function_output(kf.ACTIVATIONS.index("sigmoid"))
    fann.randomize_weights(-0.1, 0.1)  # FANN's default initial range
    path = folder / f"{name}.net"
    fann.save(str(path))
    ours = kf.Network.load(path)
    fann_train = fannref.TrainData.from_arrays(train.inputs, train.outputs)
    fann_test = fannref.TrainData.from_arrays(test.inputs, test.outputs)
    start = time.perf_counter()
    for _ in range(epochs):
        fann.train_epoch(fann_train)
    fann_seconds = time.perf_counter() - start
    start = time.perf_counter()
    ours.train(train, max_epochs=epochs, target_error=-1)
    our_seconds = time.perf_counter() - start
    row = {
        "name": name,
        "shape": f"{train.num_input}-{hidden}-{train.num_output}",
        "pairs": f"{len(train)}/{len(test)}",
        "fann_mse": fann.test_data(fann_test),
        "fann_bits": fann.get_bit_fail(),
        "our_mse": ours.test(test),
        "our_bits": ours.bit_fail,
        "fann_seconds": fann_seconds,
        "our_seconds": our_seconds,
    }
    fann_train.close()
    fann_test.close()
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--hidden", type=int, default=12)
    args = parser.parse_args()
    if not fannref.available():
        print("libfann 2.2 is not installed (apt-get install libfann-dev)", file=sys.stderr)
        return 1
    print(f"RPROP, {args.epochs} epochs, sigmoid_symmetric hidden / sigmoid output, same initial .net file\n")
    print("| data set | network | train/test pairs | libfann test MSE | kimi-fann test MSE | difference "
          "| failed bits (libfann / kimi-fann) | training time (libfann / kimi-fann) |")
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for name in NAMES:
            r = compare(name, args.epochs, args.hidden, Path(folder))
            diff = (r["our_mse"] - r["fann_mse"]) / r["fann_mse"]
            print(f"| {r['name']} | {r['shape']} | {r['pairs']} | {r['fann_mse']:.6f} | {r['our_mse']:.6f} "
                  f"| {100 * diff:+.4f}% | {r['fann_bits']} / {r['our_bits']} "
                  f"| {r['fann_seconds']:.2f} s / {r['our_seconds']:.2f} s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
