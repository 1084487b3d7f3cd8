"""Fixed point: FANN's FANN_FIX format beside kimi-fann's Q8 and Q16 engines.

Trains one float network on the bundled diabetes set, converts it four ways and compares each
with the float network on the test inputs. Run it as ``python examples/fixed_point.py [--epochs N]``.
"""

from __future__ import annotations

import argparse

import numpy as np

import kimi_fann as kf
from kimi_fann import datasets


def main(epochs: int) -> None:
    train, test = datasets.load("diabetes")
    net = kf.Network([8, 16, 2], hidden="sigmoid_symmetric", output="sigmoid", seed=2)
    net.train(train, max_epochs=epochs, target_error=0)
    # Compare where the quantizers promise accuracy: test rows inside the calibrated range
    # (beyond it, Q8/Q16 inputs saturate on purpose).
    inside = np.all((test.inputs >= train.inputs.min(axis=0)) & (test.inputs <= train.inputs.max(axis=0)), axis=1)
    x = test.inputs[inside]
    reference = net.run(x)
    print(f"float network {list(net.layers)} trained {epochs} epochs, test mse {net.test(test):.5f}; "
          f"{len(x)} of {len(test)} test rows inside the calibrated range")
    print(f"SIMD: {kf.simd_info()}")

    engines = {
        "FANN fixed point": net.to_fixed(),  # what fann_save_to_fixed writes
        "Q8 (uint8 x int8)": net.quantize(calibration=train.inputs),
        "Q16, int8 weights": net.quantize(calibration=train.inputs, activation_bits=16),
        "Q16, int16 weights": net.quantize(calibration=train.inputs, activation_bits=16, weight_bits=16),
    }
    print(f"{'engine':20s} {'format':6s} {'agreement':>9s} {'max |err|':>10s} {'mean |err|':>10s}")
    for name, fixed in engines.items():
        y = fixed.run(x)
        err = np.abs(y - reference)
        agree = np.mean(y.argmax(axis=1) == reference.argmax(axis=1))
        print(f"{name:20s} {fixed.format:6s} {agree:9.2%} {err.max():10.2e} {err.mean():10.2e}")

    q8 = engines["Q8 (uint8 x int8)"]
    report = q8.report
    print(f"Q8 quantizer report: max error {report.max_abs_error:.2e} on the calibration inputs, "
          f"accumulator headroom {report.accumulator_headroom:.1f}x (>= 1 proves no int32 overflow)")

    # The integers themselves: quantize the inputs as the network does, run, dequantize.
    scale, zero = q8.input_quantization
    raw = np.clip(np.floor(test.inputs[:3] / scale + 0.5) + zero, 0, 255).astype(np.int32)
    raw_out = q8.run_raw(raw)
    out_scale, out_zero = q8.output_quantization
    print(f"run_raw: inputs {raw[0].tolist()} -> outputs {raw_out[0].tolist()} "
          f"= {(out_scale * (raw_out[0] - out_zero)).round(4).tolist()}")

    # Every SIMD path gives the same integers.
    paths = [p for p in kf.simd_info()["supported"]]
    same = all(np.array_equal(q8.run_raw(raw, simd=p), raw_out) for p in paths)
    print(f"identical integers on {', '.join(paths)}: {same}")

    # Inputs far outside the calibrated range saturate instead of overflowing.
    wild = np.full((1, 8), 1e6, dtype=np.float32)
    print(f"input 1e6 everywhere: float {net.run(wild).round(4).tolist()}, Q8 {q8.run(wild).round(4).tolist()}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100, help="training epochs (100)")
    main(parser.parse_args().epochs)
