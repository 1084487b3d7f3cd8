"""A numpy model of the router (written from kfann.h's description): float scores, or exact
integer dot products for quantized gates; top-k by a stable sort; the weights."""

from __future__ import annotations

import numpy as np


def float_scores(x: np.ndarray, gates: np.ndarray) -> np.ndarray:
    """The scores in float64 (the engine's eight fused partial sums differ from these only in
    the last bits of float32)."""
    return x.astype(np.float64) @ gates.astype(np.float64).T


def quantized_scores(x: np.ndarray, gates_q: np.ndarray, gate_scale: np.ndarray, bits: int) -> np.ndarray:
    """Each input on its own scale (8 bits: 0..255 around 128; 16 bits: symmetric), exact dots."""
    qmax, zero = (127, 128) if bits == 8 else (32767, 0)
    lo, hi = (0, 255) if bits == 8 else (-32767, 32767)
    x = x.astype(np.float32)
    amax = np.abs(x).max(axis=1)
    with np.errstate(over="ignore"):  # tiny rows: the engine caps the step at the largest float
        inv = np.where(amax > 0, np.float32(qmax) / np.where(amax > 0, amax, 1), 0).astype(np.float32)
    inv = np.minimum(inv, np.finfo(np.float32).max)
    scale = np.where(amax > 0, amax / np.float32(qmax), 0).astype(np.float32)
    v = np.floor(x * inv[:, None] + np.float32(0.5)).astype(np.float64)
    a = np.clip(v, lo - zero, hi - zero).astype(np.int64) + zero
    acc = a @ gates_q.astype(np.int64).T - zero * gates_q.astype(np.int64).sum(axis=1)
    return acc.astype(np.float32) * (scale[:, None] * gate_scale[None, :].astype(np.float32))


def selection_values(scores: np.ndarray, scoring: str, bias: np.ndarray | None) -> np.ndarray:
    if scoring == "sigmoid":
        return 1.0 / (1.0 + np.exp(-scores)) + (0 if bias is None else bias)
    return scores + (0 if bias is None else bias)


def select(scores: np.ndarray, top_k: int, scoring: str, bias: np.ndarray | None, scaling: float):
    """(experts, weights) with ties to the lower index."""
    if scoring == "sigmoid":
        sig = (1.0 / (1.0 + np.exp(-scores.astype(np.float64)))).astype(np.float32)
        value = sig + (0 if bias is None else bias.astype(np.float32))
    else:
        value = scores if bias is None else scores + bias.astype(np.float32)
    experts = np.argsort(-value, axis=1, kind="stable")[:, :top_k]
    chosen = np.take_along_axis(scores, experts, axis=1).astype(np.float64)
    if scoring == "sigmoid":
        s = np.take_along_axis(sig, experts, axis=1).astype(np.float64)
        weights = s / s.sum(axis=1, keepdims=True) * scaling
    else:
        e = np.exp(chosen - chosen.max(axis=1, keepdims=True))
        weights = e / e.sum(axis=1, keepdims=True)
    return experts, weights.astype(np.float32)
