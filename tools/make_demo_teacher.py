"""Train the teacher that ``kimi-fann demo`` distils, and store it in the package.

The teacher is a float network of 21-256-128-3 (38,915 parameters) trained with RPROP on
PROBEN1's thyroid training set as FANN ships it, stored losslessly (deflate: RPROP leaves a few
weights near FANN's limit of 1500, which 8-bit group scales would not survive).
Deterministic: the same file on every run.

    python tools/make_demo_teacher.py            # writes src/kimi_fann/datasets/thyroid-teacher.kfn
    python tools/make_demo_teacher.py --check    # fails if the stored teacher differs from a new one
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

import kimi_fann as kf
from kimi_fann import datasets, kfn

TARGET = Path(__file__).resolve().parents[1] / "src" / "kimi_fann" / "datasets" / "thyroid-teacher.kfn"


def train_teacher() -> kf.Network:
    train, _ = datasets.load("thyroid")
    net = kf.Network([train.num_input, 256, 128, train.num_output], hidden="sigmoid_symmetric",
                     output="sigmoid", seed=0)
    net.training_algorithm = "rprop"
    net.train(train, max_epochs=150, target_error=0.0)
    return net


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare with the stored teacher instead of writing")
    args = parser.parse_args()
    blob = kfn.dumps(train_teacher(), compress="deflate")
    if args.check:
        same = TARGET.exists() and TARGET.read_bytes() == blob
        print("stored teacher is up to date" if same else f"{TARGET} differs from a freshly trained teacher")
        return 0 if same else 1
    TARGET.write_bytes(blob)
    teacher = kfn.loads(blob)
    _, test = datasets.load("thyroid")
    accuracy = np.mean(teacher.run(test.inputs).argmax(1) == test.outputs.argmax(1))
    print(f"wrote {TARGET} ({len(blob)} bytes): {teacher.total_connections} parameters, "
          f"test accuracy {100 * accuracy:.2f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
