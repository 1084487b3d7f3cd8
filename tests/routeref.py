"""A numpy model of the router (written from kfann.h's description): scores with the fixed
eight-way float summation or exact integer dot products, top-k by a stable sort, weights."""

from __future__ import annotations

import numpy as np


def float_scores(x: np.ndarray, gates: np.ndarray) -> np.ndarray:
    """Eight partial sums (element i into sum i % 8), then ((s0+s4)+(s2+s6))+((s1+s5)+(s3+s7))."""
    dim = x.shape[1]
    pad = (-dim) % 8
    xp = np.pad(x.astype(np.float32), ((0, 0), (0, pad)))
    gp = np.pad(gates.astype(np.float32), ((0, 0), (0, pad)))
    sums = np.zeros((x.shape[0], gates.shape[0], 8), dtype=np.float32)
    for block in range(xp.shape[1] // 8):
        cols = slice(8 * block, 8 * block + 8)
        sums += xp[:, None, cols] * gp[None, :, cols]  # float32 products, then float32 adds
    s = sums
    return ((s[..., 0] + s[..., 4]) + (s[..., 2] + s[..., 6])) + ((s[..., 1] + s[..., 5]) + (s[..., 3] + s[..., 7]))


def quantized_scores(x: np.ndarray, gates_q: np.ndarray, gate_scale: np.ndarray, bits: int) -> np.ndarray:
    """Each input on its own scale (8 bits: 0..255 around 128; 16 bits: symmetric), exact dots."""
    qmax, zero = (127, 128) if bits == 8 else (32767, 0)
    lo, hi = (0, 255) if bits == 8 else (-32767, 32767)
    x = x.astype(np.float32)
    amax = np.abs(x).max(axis=1)
    inv = np.where(amax > 0, np.float32(qmax) / np.where(amax > 0, amax, 1), 0).astype(np.float32)
    scale = np.where(amax > 0, amax / np.float32(qmax), 0).astype(np.float32)
    v = np.floor(x * inv[:, None] + np.float32(0.5)).astype(np.float64)
    a = np.clip(v, lo - zero, hi - zero).astype(np.int64) + zero
    acc = a @ gates_q.astype(np.int64).T - zero * gates_q.astype(np.int64).sum(axis=1)
    return acc.astype(np.float32) * (scale[:, None] * gate_scale[None, :].astype(np.float32))


def select(scores: np.ndarray, top_k: int, scoring: str, bias: np.ndarray | None, scaling: float):
    """(experts, weights) with ties to the lower index."""
    if scoring == "sigmoid":
        sig = (1.0 / (1.0 + np.exp(-scores.astype(np.float64)))).astype(np.float32)
        value = sig + (0 if bias is None else bias.astype(np.float32))
    else:
        value = scores
    experts = np.argsort(-value, axis=1, kind="stable")[:, :top_k]
    chosen = np.take_along_axis(scores, experts, axis=1).astype(np.float64)
    if scoring == "sigmoid":
        s = np.take_along_axis(sig, experts, axis=1).astype(np.float64)
        weights = s / s.sum(axis=1, keepdims=True) * scaling
    else:
        e = np.exp(chosen - chosen[:, :1])
        weights = e / e.sum(axis=1, keepdims=True)
    return experts, weights.astype(np.float32)
