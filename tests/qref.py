"""A numpy model of kimi-fann's Q8/Q16 integer arithmetic, written from the specification in
kfann.h (not from the C code): the oracle the engine's integers are checked against."""

from __future__ import annotations

import numpy as np

FRAC_BITS = 8


def quantize_inputs(state: dict, x: np.ndarray) -> np.ndarray:
    """clamp(floor(x * inv_scale + 0.5) + zero) in float32 arithmetic."""
    lo, hi = (0, 255) if state["activation_bits"] == 8 else (-32768, 32767)
    inv = state["input_inv_scale"].astype(np.float32)
    zero = state["input_zero"].astype(np.int64)
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


def layer(state: dict, index: int, a: np.ndarray) -> np.ndarray:
    w, bias, mult, shift, t0, k, knots, out_lo, out_hi = state["layers"][index]
    acc = a.astype(np.int64) @ w.astype(np.int64).T + bias.astype(np.int64)
    assert np.all(np.abs(acc) < 2**31), "accumulator overflow"
    t = (acc * mult.astype(np.int64) + (np.int64(1) << (shift.astype(np.int64) - 1))) >> shift.astype(np.int64)
    return table(t, t0, k, knots, out_lo, out_hi)


def run_raw(state: dict, a: np.ndarray) -> np.ndarray:
    for index in range(len(state["layers"])):
        a = layer(state, index, a)
    return a


def run(state: dict, x: np.ndarray) -> np.ndarray:
    q = run_raw(state, quantize_inputs(state, x))
    return ((q - state["output_zero"]) * np.float32(state["output_scale"])).astype(np.float32)
