"""Lossy storage of float arrays in .kfn files (``compress="q8"`` / ``"q4"``), and its bound.

A section's values are cut into groups of ``group``; each group gets a float16 scale (its
largest quantized magnitude over 127, or over 7 with 4 bits) and one signed code per value.
Weights that would dominate their group's scale -- FANN's RPROP drives the weights of
always-zero inputs to its clamp of +-1500, which would round every other weight of the group
to zero -- are kept exactly instead: a bitmap marks them and their float32 values follow the
codes. Which weights are kept is chosen by :func:`save_bounded` from the output deviation it
measures, least first.

Inflated payload of a ``quantized`` section of ``count`` values, ``groups = ceil(count/group)``:
``groups`` float16 scales, the codes (``count`` int8, or ``ceil(count/2)`` bytes of two 4-bit
codes + 8, low nibble first), then, when the entry has ``"exact": k > 0``, a bitmap of
``ceil(count/8)`` bytes (bit ``i % 8`` of byte ``i // 8``, little-endian bit order) and the
``k`` exact values as little-endian float32, in index order.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from .errors import ConfigError

__all__ = ["CompressionReport", "encode", "decode", "payload_bytes", "EXACT_LEVELS", "DEFAULT_MAX_ERROR"]

#: The largest share of calibration rows whose prediction may change, per mode, when
#: ``max_error`` is not given: 1% for q8, 2% for q4 (the accuracy budget of the docs).
DEFAULT_MAX_ERROR = {"q8": 0.01, "q4": 0.02}

#: Quantiles of |w| above which weights are kept exactly, tried in turn: none first, then the
#: largest 1%, 3%, ... up to half of each array. Past half, compression no longer pays.
EXACT_LEVELS = (1.0, 0.99, 0.97, 0.94, 0.9, 0.85, 0.8, 0.7, 0.6, 0.5)


def payload_bytes(count: int, bits: int, group: int, exact: int) -> int:
    """Inflated size of a quantized section: scales, codes and, with exact values, their
    bitmap and values.

    >>> payload_bytes(10, 4, 4, 0), payload_bytes(10, 8, 64, 2)
    (11, 22)
    """
    groups = -(-count // group)
    codes = count if bits == 8 else (count + 1) // 2
    return 2 * groups + codes + ((count + 7) // 8 + 4 * exact if exact else 0)


def encode(values: np.ndarray, bits: int, group: int, prune: float, level: float) -> tuple[bytes, int]:
    """(inflated payload, number of exact values) of a float array.

    ``prune`` zeroes that fraction of the smallest magnitudes first; ``level`` is the quantile
    of |w| above which values are kept exactly (1.0: none).

    >>> raw, k = encode(np.array([0.5, -1500.0, 0.25, 0.125], np.float32), 8, 4, 0.0, 0.5)
    >>> k, decode(raw, 4, 8, 4, k).tolist()
    (2, [0.5, -1500.0, 0.25, 0.125])
    """
    w = np.ascontiguousarray(values, dtype=np.float32).ravel().copy()
    if prune > 0 and w.size:
        w[np.abs(w) < np.quantile(np.abs(w), prune)] = 0.0
    exact = np.zeros(w.size, dtype=bool)
    if level < 1.0 and w.size:
        magnitude = np.abs(w)  # ties at the threshold (RPROP's clamp) are all kept
        exact = (magnitude >= np.quantile(magnitude, level)) & (magnitude > 0)
    qmax = 127 if bits == 8 else 7
    pad = (-w.size) % group
    groups = np.pad(np.where(exact, 0.0, w), (0, pad)).reshape(-1, group)
    scale = (np.abs(groups).max(axis=1) / qmax).astype(np.float16)
    scale = np.where(np.isinf(scale), np.float16(65504), scale).astype(np.float32)  # float16's largest
    safe = np.where(scale > 0, scale, 1.0)
    codes = np.clip(np.rint(groups / safe[:, None]), -qmax, qmax).astype(np.int8).ravel()[: w.size]
    if bits == 4:
        nibbles = np.pad((codes + 8).astype(np.uint8), (0, w.size % 2))
        codes = (nibbles[0::2] | (nibbles[1::2] << 4)).astype(np.uint8)
    parts = [scale.astype("<f2").tobytes(), codes.tobytes()]
    k = int(exact.sum())
    if k:
        parts += [np.packbits(exact, bitorder="little").tobytes(), w[exact].astype("<f4").tobytes()]
    return b"".join(parts), k


def decode(raw: bytes, count: int, bits: int, group: int, exact: int) -> np.ndarray:
    """The float32 values of an inflated payload of :func:`payload_bytes` bytes (checked by
    the caller); ValueError if the bitmap does not mark ``exact`` values.

    >>> raw, k = encode(np.arange(6, dtype=np.float32), 4, 3, 0.0, 1.0)
    >>> decode(raw, 6, 4, 3, k).tolist()
    [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    """
    groups = -(-count // group)
    scale = np.frombuffer(raw, dtype="<f2", count=groups).astype(np.float32)
    code_bytes = count if bits == 8 else (count + 1) // 2
    codes = np.frombuffer(raw, dtype=np.int8 if bits == 8 else np.uint8, count=code_bytes, offset=2 * groups)
    if bits == 4:
        codes = np.stack([codes & 15, codes >> 4], axis=1).ravel()[:count].astype(np.int8) - 8
    values = np.pad(codes.astype(np.float32), (0, groups * group - count)).reshape(groups, group)
    out = (values * scale[:, None]).ravel()[:count]
    if exact:
        at = 2 * groups + code_bytes
        mask = np.unpackbits(np.frombuffer(raw, dtype=np.uint8, count=(count + 7) // 8, offset=at),
                             count=count, bitorder="little").astype(bool)
        if int(mask.sum()) != exact:
            raise ValueError(f"the bitmap marks {int(mask.sum())} exact values, the entry says {exact}")
        out[mask] = np.frombuffer(raw, dtype="<f4", count=exact, offset=at + (count + 7) // 8)
    return out


@dataclasses.dataclass(frozen=True)
class CompressionReport:
    """What :func:`kimi_fann.save` measured before writing a lossy (q8/q4) file.

    Attributes
    ----------
    compress : str
        ``"q8"`` or ``"q4"``.
    group : int
        Values per scale.
    exact_fraction : float
        Share of the lossy arrays' values kept exactly (0 when no value dominated its group).
    rows : int
        Calibration rows the deviation was measured on.
    calibration : str
        ``"given"`` (the ``calibration=`` rows) or ``"sampled"`` (rows the model made).
    changed : float
        Share of those rows whose prediction changed: the index of the largest output (or
        the chosen experts, for a Router), or, for one output, a move of more than 1% of the
        outputs' span.
    max_error : float
        The limit ``changed`` had to stay within.
    max_abs_deviation, mean_abs_deviation : float
        Largest and mean absolute difference between the outputs after and before, over the
        rows and outputs.

    Examples
    --------
    >>> import numpy as np, kimi_fann as kf
    >>> from kimi_fann import kfn
    >>> net = kf.Network([4, 6, 3], seed=0)
    >>> _, report = kfn.dumps_bounded(net, "q8", calibration=np.eye(4))
    >>> report.rows, report.changed <= report.max_error
    (4, True)
    """

    compress: str
    group: int
    exact_fraction: float
    rows: int
    calibration: str
    changed: float
    max_error: float
    max_abs_deviation: float
    mean_abs_deviation: float


def outputs_of(model: Any, x: np.ndarray) -> np.ndarray:
    """The model's outputs on x as a float64 matrix (a Router's chosen experts, sorted)."""
    if hasattr(model, "route"):
        idx, _ = model.route(x)
        return np.sort(np.asarray(idx), axis=1).astype(np.float64)
    return np.asarray(model.run(x), dtype=np.float64).reshape(len(x), -1)


def sample_inputs(model: Any, rows: int = 1024) -> np.ndarray:
    """Inputs the model can make for itself: its input scaling's means and deviations when it
    has them, else uniform in [-1, 1]. Seeded: the same model gets the same rows.

    >>> import kimi_fann as kf
    >>> sample_inputs(kf.Network([3, 1]), rows=5).shape
    (5, 3)
    """
    dim = int(model.dim if hasattr(model, "route") else model.num_input)
    rng = np.random.default_rng(0x6B666E)
    scaling = model.scaling_parameters() if hasattr(model, "scaling_parameters") else None
    if scaling is not None:
        values = np.asarray(scaling, np.float64)  # FANN's order: the inputs' means, then deviations, ...
        mean, dev = values[:dim], values[dim : 2 * dim]
        return (mean + dev * rng.normal(size=(rows, dim))).astype(np.float32)
    return rng.uniform(-1.0, 1.0, size=(rows, dim)).astype(np.float32)


def measure(before: np.ndarray, after: np.ndarray, is_router: bool) -> tuple[float, float, float]:
    """(share of rows whose prediction changed, max and mean absolute change of the outputs)."""
    if not len(before):
        return 0.0, 0.0, 0.0
    diff = np.abs(after - before)
    if is_router:
        changed = np.any(diff > 0, axis=1)
    elif before.shape[1] > 1:
        changed = before.argmax(axis=1) != after.argmax(axis=1)
    else:
        span = float(before.max() - before.min()) or 1.0
        changed = diff[:, 0] > 0.01 * span
    return float(np.mean(changed)), float(diff.max()), float(diff.mean())


def bounded(model: Any, compress: str, group: int, calibration: Any, max_error: float | None,
            attempt: Callable[[float], tuple[bytes, Any, float]], source: str) -> tuple[bytes, CompressionReport]:
    """The first attempt, keeping ever more values exactly (:data:`EXACT_LEVELS`), whose model
    changes at most ``max_error`` of the calibration rows' predictions; ConfigError if none does.

    ``attempt(level)`` gives (file bytes, the model they load as, share of exact values).
    """
    limit = DEFAULT_MAX_ERROR[compress] if max_error is None else max_error
    if isinstance(limit, bool) or not isinstance(limit, (int, float)) or not 0.0 <= limit <= 1.0:
        raise ConfigError(f"max_error is the share of calibration rows whose prediction may change, in [0, 1]; "
                          f"got {max_error!r}")
    if calibration is None:
        x, kind = sample_inputs(model), "sampled"
    else:
        x, kind = np.asarray(calibration, dtype=np.float32), "given"
        if x.ndim == 1:
            x = x.reshape(1, -1)
        if len(x) == 0:
            raise ConfigError(f"{source}: calibration has no rows; give inputs like the model's real ones "
                              "(or none: the model then makes 1024)")
    is_router = hasattr(model, "route")
    before = outputs_of(model, x)
    best = None
    for level in EXACT_LEVELS:
        data, restored, fraction = attempt(level)
        changed, top, mean = measure(before, outputs_of(restored, x), is_router)
        report = CompressionReport(compress, group, fraction, len(x), kind, changed, float(limit), top, mean)
        if changed <= limit:
            return data, report
        if best is None or changed < best.changed:
            best = report
    assert best is not None
    raise ConfigError(
        f"{source}: compress={compress!r} would change the prediction of {best.changed:.1%} of the "
        f"{len(x)} {kind} calibration rows even with {best.exact_fraction:.0%} of the weights kept exactly; "
        f"the limit is max_error={limit:g}. Nothing was written. Use "
        + ("compress='q8', " if compress == "q4" else "")
        + f"a smaller group= (now {group}), compress='deflate' (lossless), or a larger max_error="
        + ("" if calibration is not None else "; or pass calibration= rows like the model's real inputs"))
