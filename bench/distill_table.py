"""Fidelity of distilled students: scikit-learn teachers (an MLP and a random forest) on digits
and breast_cancer taught to one Q8 student or to six Q8 domain experts at 1/20 of their size;
the table in docs/distillation.md and the analyzer issue's closing note.

usage: python bench/distill_table.py   (needs scikit-learn)
"""

from __future__ import annotations

import time
import warnings

from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from kimi_fann.analyzer import distill

# (teacher, how it is distilled): forests give flat probabilities, sharpened by temperature 0.5
CASES = [
    ("MLP 256-256", "1 student", {"augment": 2}),
    ("MLP 256-256", "6 experts, top 3", {"augment": 2, "n_experts": 6, "top_k": 3}),
    ("random forest x100", "1 student", {"augment": 2, "temperature": 0.5}),
]


def teacher(kind: str, x, y):
    if kind.startswith("MLP"):
        model = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(256, 256), max_iter=300, random_state=0))
    else:
        model = RandomForestClassifier(n_estimators=100, random_state=0)
    half = len(x) // 2
    return model.fit(x[:half], y[:half])


def main() -> None:
    warnings.simplefilter("ignore", ConvergenceWarning)
    print("| data | teacher | student | teacher params | ratio | agreement float | agreement Q8 | float = Q8 "
          "| teacher acc | student acc | bytes (.kfn) | seconds |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, loader in (("digits", load_digits), ("breast_cancer", load_breast_cancer)):
        x, y = loader(return_X_y=True)
        for kind, student, options in CASES:
            t = teacher(kind, x, y)
            start = time.perf_counter()
            _, r = distill(t, x, y=y, max_epochs=200, seed=0, **options)
            seconds = time.perf_counter() - start
            print(f"| {name} | {kind} | {student} | {r.teacher_parameters} | {r.parameter_ratio:.1f} | "
                  f"{r.agreement:.3f} | {r.fixed_agreement:.3f} | {r.float_fixed_agreement:.3f} | "
                  f"{r.teacher_accuracy:.3f} | {r.student_accuracy:.3f} | {r.file_bytes} | {seconds:.1f} |")


if __name__ == "__main__":
    main()
