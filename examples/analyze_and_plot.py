"""Analysis: what each layer of a network costs, and what quantizing it does to each layer.

1. Trains a float network on the bundled thyroid set (21 inputs, 3 classes).
2. Analyzes the float network and its Q8 and Q16 quantizations on the test inputs: parameters,
   MACs, bytes, output ranges, dead and saturated neurons, and the SQNR of every layer measured
   through the integer engine.
3. Profiles latency and throughput against batch size, saves both reports as JSON that follows
   ``analyzer.report_schema()``, and draws them (SVG files are the same bytes at every run).

Needs the ``analyzer`` extra (matplotlib). Run it as
``python examples/analyze_and_plot.py [--epochs N] [--out DIR]``.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

import kimi_fann as kf
from kimi_fann import analyzer, datasets


def layer_table(report: analyzer.AnalysisReport) -> None:
    print(f"  {'layer':>5} {'shape':>9} {'activation':>18} {'params':>6} {'bytes':>6} {'range':>16} "
          f"{'dead':>4} {'sat.':>4} {'SQNR dB':>7}")
    for layer in report.layers:
        shape = f"{layer.inputs}x{layer.outputs}"
        span = f"[{layer.activation_min:.2f}, {layer.activation_max:.2f}]"
        sqnr = "-" if layer.sqnr_db is None else f"{layer.sqnr_db:.1f}"
        print(f"  {layer.layer:>5} {shape:>9} {layer.activation:>18} {layer.parameters:>6} {layer.stored_bytes:>6} "
              f"{span:>16} {len(layer.dead_neurons or []):>4} {len(layer.saturated_neurons or []):>4} {sqnr:>7}")


def main(epochs: int, out: Path) -> None:
    train, test = datasets.load("thyroid")
    net = kf.Network([train.num_input, 24, 12, train.num_output], hidden="sigmoid_symmetric", output="sigmoid", seed=0)
    net.train(train, max_epochs=epochs)
    labels = test.outputs.argmax(axis=1)
    print(f"float network {'-'.join(map(str, net.layers))}: test accuracy "
          f"{np.mean(net.run(test.inputs).argmax(axis=1) == labels):.3f}")

    for precision, bits in (("Q8", 8), ("Q16", 16)):
        fixed = net.quantize(calibration=train.inputs, activation_bits=bits, weight_bits=bits)
        report = analyzer.analyze(fixed, test.inputs, reference=net)
        accuracy = np.mean(fixed.run(test.inputs).argmax(axis=1) == labels)
        print(f"{precision}: {report.parameters} parameters, {report.stored_bytes} bytes in memory "
              f"(weights, scales and activation tables; {report.float_bytes} as float32), "
              f"output SQNR {report.output_sqnr_db:.1f} dB, test accuracy {accuracy:.3f}")
        layer_table(report)
        report.save(out / f"thyroid-{precision.lower()}.json")
        analyzer.plot(report, out / f"thyroid-{precision.lower()}.svg")

    # What a float network would lose in Q8, asked of the float network itself.
    preview = analyzer.analyze(net, test.inputs, quantize="q8")
    print(f"float network, Q8 preview: SQNR per layer {[round(layer.sqnr_db, 1) for layer in preview.layers]}")

    timing = analyzer.profile(q8 := net.quantize(calibration=train.inputs), batch_sizes=(1, 64, 1024), repeats=20)
    for t in timing.timings:
        print(f"  Q8 batch {t.batch_size:5d}: p50 {t.p50_us:8.1f} us, {t.samples_per_second / 1e6:.2f} M inputs/s")
    timing.save(out / "thyroid-q8-profile.json")
    analyzer.plot(timing, out / "thyroid-q8-latency.svg")

    again = analyzer.load_report(out / "thyroid-q8.json")
    print(f"reloaded the Q8 report: {again.model}, {len(again.layers)} layers, SIMD path {timing.simd}")
    print(f"Q8 network's .kfn size: {timing.kfn_bytes} bytes; files: "
          + ", ".join(sorted(p.name for p in out.iterdir())))
    assert q8.num_input == train.num_input


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--out", type=Path, help="folder for reports and plots (default: a temporary one)")
    args = parser.parse_args()
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        main(args.epochs, args.out)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            main(args.epochs, Path(tmp))
