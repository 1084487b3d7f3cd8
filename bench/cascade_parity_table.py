"""Grow networks by cascade training in libfann 2.2 and in kimi-fann from the same starting .net
file and the same rand() stream (srand(seed) there, kf.FannRandom(seed) here) on FANN's
benchmark sets, and print a Markdown table: data set, algorithm, seed, neurons added, the MSE
after every neuron, the time of both, and whether the grown .net files are identical.

usage: python bench/cascade_parity_table.py [--neurons 4] [--max-epochs 150]
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
from fannsets import fann_train_path  # noqa: E402

ALGORITHMS = {"rprop": 2, "quickprop": 3, "sarprop": 4}
RUNS = [("diabetes", "rprop", 1), ("diabetes", "quickprop", 2), ("two-spiral", "rprop", 3),
        ("two-spiral", "quickprop", 4), ("robot", "rprop", 5), ("robot", "quickprop", 6), ("parity8", "rprop", 7),
        ("parity8", "sarprop", 8), ("soybean", "quickprop", 9), ("thyroid", "rprop", 10),
        ("thyroid", "quickprop", 11), ("mushroom", "rprop", 12)]


def compare(name: str, algorithm: str, seed: int, neurons: int, max_epochs: int, folder: Path) -> dict:
    path = fann_train_path(name)
    data = kf.TrainingData.load(path)
    start = kf.Network([data.num_input, data.num_output], output="sigmoid_symmetric", shortcut=True, seed=seed)
    start.training_algorithm = algorithm
    start.cascade_max_out_epochs = start.cascade_max_cand_epochs = max_epochs
    start_path = folder / f"{name}-{algorithm}-start.net"
    start.save(start_path)

    fann = fannref.FloatNet.load(start_path)
    theirs: list[float] = []
    fann.set_callback(lambda f, max_neurons, epochs: theirs.append(f.mse) or 0)
    fann_data = fannref.TrainData.load(path)
    fannref.srand(seed)
    t0 = time.perf_counter()
    fann.cascadetrain_on_data(fann_data, neurons, 1, 0.0)
    fann_seconds = time.perf_counter() - t0
    fann.save(str(folder / "libfann.net"))

    ours = kf.Network.load(start_path)
    t0 = time.perf_counter()
    history = ours.cascade_train(data, max_neurons=neurons, desired_error=0.0, random=kf.FannRandom(seed))
    seconds = time.perf_counter() - t0
    mse = [step.mse for step in history.steps]
    identical = ours.to_fann_text() == (folder / "libfann.net").read_bytes() and mse == theirs
    return {"set": name, "algorithm": algorithm, "seed": seed, "neurons": history.neurons, "mse": mse,
            "final": history.mse, "libfann": fann_seconds, "kimi_fann": seconds, "identical": identical}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--neurons", type=int, default=4)
    ap.add_argument("--max-epochs", type=int, default=150, help="cascade_max_out_epochs and _max_cand_epochs")
    args = ap.parse_args()
    if not fannref.available():
        sys.exit("libfann 2.2 is not installed")
    print(f"Cascade training, up to {args.neurons} neurons, default candidates, at most {args.max_epochs} epochs "
          "per phase, sigmoid_symmetric outputs, the same start and rand() stream\n")
    print("| data set | algorithm | seed | neurons added | MSE with 0, 1, 2, ... hidden neurons | final MSE | "
          "libfann / kimi-fann | identical |")
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, algorithm, seed in RUNS:
            r = compare(name, algorithm, seed, args.neurons, args.max_epochs, Path(tmp))
            print(f"| {r['set']} | {r['algorithm']} | {r['seed']} | {r['neurons']} | "
                  f"{', '.join(f'{m:.6f}' for m in r['mse'])} | {r['final']:.6f} | "
                  f"{r['libfann']:.2f} s / {r['kimi_fann']:.2f} s | {'yes' if r['identical'] else 'NO'} |", flush=True)


if __name__ == "__main__":
    main()
