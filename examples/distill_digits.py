"""Distillation: a scikit-learn MLP teacher on the digits set into Q8 micro-experts.

1. Trains the teacher (an MLP with two hidden layers) on the first half of the digits.
2. Distils it into one student and into six experts behind a router, each at 1/20 of the
   teacher's parameters, and prints the report's agreement, accuracy, sizes and speed.
3. Saves the mixture as ``.kfn`` and its report as JSON (schema-valid), loads both back, and draws
   the training curves and the router load.

Needs the ``analyzer`` extra (scikit-learn, matplotlib). Run it as
``python examples/distill_digits.py [--hidden 256] [--out DIR]``.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.neural_network import MLPClassifier

import kimi_fann as kf
from kimi_fann import analyzer


def kind(model: object) -> str:
    """The model's kind: Network, FixedNetwork (Q8/Q16 or FANN fixed point) or MixtureOfExperts."""
    return "FixedNetwork" if isinstance(model, kf.FixedNetwork) else type(model).__name__


def show(name: str, report: analyzer.DistillationReport) -> None:
    print(f"{name}: {report.student_parameters} parameters (1/{report.parameter_ratio:.1f} of the teacher), "
          f"{report.file_bytes} bytes as a .kfn file")
    print(f"  agreement with the teacher on {report.held_out} held-out inputs: "
          f"float {report.agreement:.3f}, {report.precision} {report.fixed_agreement:.3f}")
    print(f"  accuracy on the held-out inputs: teacher {report.teacher_accuracy:.3f}, student {report.student_accuracy:.3f}")
    print(f"  {report.latency_us:.1f} us per input at batch 1, {report.throughput / 1e6:.2f} M inputs/s in batches")


def main(hidden: int, out: Path) -> None:
    X, y = load_digits(return_X_y=True)
    half = len(X) // 2
    teacher = MLPClassifier(hidden_layer_sizes=(hidden, hidden), max_iter=300, random_state=0)
    teacher.fit(X[:half], y[:half])
    print(f"teacher: MLP {hidden}-{hidden}, test accuracy {teacher.score(X[half:], y[half:]):.3f}")

    student, student_report = analyzer.distill(teacher, X, y=y, precision="q8", seed=0)
    show(f"one student ({kind(student)})", student_report)

    mixture, report = analyzer.distill(teacher, X, y=y, n_experts=6, top_k=3, augment=2, precision="q8", seed=0)
    show(f"six experts, top 3 ({kind(mixture)})", report)
    print(f"  router load: {report.router_load}")

    kf.save(out / "digits-experts.kfn", mixture, compress="deflate")
    report.save(out / "digits-experts.json")
    again = kf.load(out / "digits-experts.kfn")
    same = np.array_equal(again.run(X[half:]), mixture.run(X[half:]))
    print(f"reloaded mixture gives the same outputs: {same}")
    print(f"reloaded report agreement: {analyzer.load_report(out / 'digits-experts.json').agreement:.3f}")
    files = analyzer.plot(student_report, out / "one-student.svg", kind="distillation")
    files += analyzer.plot(report, out / "digits-experts.png")
    print("plots:", ", ".join(sorted(f.name for f in files)))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=256, help="width of the teacher's two hidden layers")
    parser.add_argument("--out", type=Path, help="folder for the model, report and plots (default: a temporary one)")
    args = parser.parse_args()
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        main(args.hidden, args.out)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            main(args.hidden, Path(tmp))
