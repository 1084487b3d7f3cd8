"""The analyzer's figures for the docs, drawn by the analyzer itself at every build.

At ``builder-inited`` this trains a small network on the bundled diabetes set (fixed seed, a
fraction of a second), quantizes it three ways, analyzes each against the float network on
the test inputs, and writes into ``docs/_generated/``:

- ``analyzer-q8-weights.svg``, ``analyzer-q8-sqnr.svg``, ``analyzer-q16w16-sqnr.svg``
  (``kimi_fann.analyzer.plot`` of the reports);
- ``analyzer-table.md``: the per-layer SQNR of Q8, Q16 with int8 weights and Q16 with int16
  weights, as the page's table.

Run it on its own with ``python docs/_ext/analyzerfigures.py OUT_DIR``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any


def generate(out: Path) -> list[Path]:
    """Draw the figures and the table into out; return the files written."""
    import numpy as np

    import kimi_fann as kf
    from kimi_fann import analyzer, datasets

    out.mkdir(parents=True, exist_ok=True)
    train, test = datasets.load("diabetes")
    net = kf.Network([train.num_input, 16, 8, train.num_output], hidden="sigmoid_symmetric", output="sigmoid",
                     seed=0)
    net.train(train, max_epochs=150)
    # The set's features lie in [0, 1], and some test values exceed the training range: adding the
    # bounds to the calibration keeps them from saturating.
    calibration = np.vstack([train.inputs, np.zeros(train.num_input), np.ones(train.num_input)])
    written: list[Path] = []
    rows = []
    for name, label, bits, weight_bits in (("q8", "Q8", 8, 8), ("q16", "Q16, int8 weights", 16, 8),
                                           ("q16w16", "Q16, int16 weights", 16, 16)):
        fixed = net.quantize(calibration=calibration, activation_bits=bits, weight_bits=weight_bits)
        report = analyzer.analyze(fixed, test.inputs, reference=net)
        kinds = {"q8": ("weights", "sqnr"), "q16w16": ("sqnr",)}.get(name, ())
        for kind in kinds:
            written += analyzer.plot(report, out / f"analyzer-{name}-{kind}.svg", kind=kind)
        rows.append((label, report))
    lines = ["| layer | shape | activation | " + " | ".join(f"SQNR {n} (dB)" for n, _ in rows) + " |",
             "|---|---|---|" + "---|" * len(rows)]
    for i, layer in enumerate(rows[0][1].layers):
        sqnr = " | ".join(f"{r.layers[i].sqnr_db:.1f}" for _, r in rows)
        lines.append(f"| {layer.layer} | {layer.inputs}→{layer.outputs} | {layer.activation} | {sqnr} |")
    lines.append("| output | | | " + " | ".join(f"{r.output_sqnr_db:.1f}" for _, r in rows) + " |")
    table = out / "analyzer-table.md"
    table.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return written + [table]


def _on_builder_inited(app: Any) -> None:
    generate(Path(app.srcdir) / "_generated")


def setup(app: Any) -> dict[str, Any]:
    app.connect("builder-inited", _on_builder_inited)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python docs/_ext/analyzerfigures.py OUT_DIR")
    for path in generate(Path(sys.argv[1])):
        print(path)
