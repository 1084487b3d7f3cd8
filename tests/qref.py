"""A numpy model of kimi-fann's Q8/Q16 integer arithmetic, written from the specification in
kfann.h (not from the C code): the oracle the engine's integers are checked against."""

from __future__ import annotations

import numpy as np

from kimi_fann import QuantizedSpec

FRAC_BITS = 8


def quantize_inputs(spec: QuantizedSpec, x: np.ndarray) -> np.ndarray:
    """clamp(floor(x * inv_scale + 0.5) + zero) in float32 arithmetic."""
    lo, hi = (0, 255) if spec.activation_bits == 8 else (-32768, 32767)
    inv = spec.input_inv_scale.astype(np.float32)
    zero = spec.input_zero.astype(np.int64)
    v = np.floor(x.astype(np.float32) * inv + np.float32(0.5)).astype(np.float64)
    v = np.clip(v, lo - zero, hi - zero)
    return v.astype(np.int64) + zero


def table(t: np.ndarray, t0: int, k: int, knots: np.ndarray, out_lo: int, out_hi: int) -> np.ndarray:
    knots = knots.astype(np.int64)
    span = (len(knots) - 1) << k
    rel = np.clip(t - t0, 0, span)
    idx = rel >> k
    frac = rel & ((1 << k) - 1)
    nxt = np.minimum(idx + 1, len(knots) - 1)
    v = np.where(idx == len(knots) - 1, knots[idx] << k, knots[idx] * ((1 << k) - frac) + knots[nxt] * frac)
    return np.clip((v + (1 << (k + FRAC_BITS - 1))) >> (k + FRAC_BITS), out_lo, out_hi)


def layer(spec: QuantizedSpec, index: int, a: np.ndarray) -> np.ndarray:
    q = spec.layers[index]
    w, bias, mult, shift, t0, k, knots, out_lo, out_hi = (q.weights, q.bias, q.multiplier, q.shift, q.t0, q.seg_shift,
                                                          q.knots, q.out_lo, q.out_hi)
    acc = a.astype(np.int64) @ w.astype(np.int64).T + bias.astype(np.int64)
    assert np.all(np.abs(acc) < 2**31), "accumulator overflow"
    t = (acc * mult.astype(np.int64) + (np.int64(1) << (shift.astype(np.int64) - 1))) >> shift.astype(np.int64)
    return table(t, t0, k, knots, out_lo, out_hi)


def run_raw(spec: QuantizedSpec, a: np.ndarray) -> np.ndarray:
    """A shortcut network's layers read the inputs and every earlier layer's outputs."""
    for index in range(len(spec.layers)):
        out = layer(spec, index, a)
        a = np.concatenate([a, out], axis=1) if spec.shortcut else out
    return out


def run(spec: QuantizedSpec, x: np.ndarray) -> np.ndarray:
    q = run_raw(spec, quantize_inputs(spec, x))
    return ((q - spec.output_zero) * np.float32(spec.output_scale)).astype(np.float32)
