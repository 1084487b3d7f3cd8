"""Quantization of float networks into the native fixed-point engine (Q8 and Q16).

The float network is run on calibration inputs to measure value ranges, then each layer becomes
integer weights with one scale per output neuron, an int32 bias with the zero points folded in,
a requantization multiplier and shift per neuron, and a table for the activation function.
Everything here runs once, in numpy, on the network's description (its topology and weights);
the result is a :class:`~kimi_fann.QuantizedSpec`, which the C core checks (including the proof
that no accumulator can overflow) and runs with integer arithmetic only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _core
from ._arrays import as_matrix
from .descriptions import ACTIVATION_RANGES, ACTIVATIONS, QuantizationReport, QuantizedLayer, QuantizedSpec, Topology
from .errors import ConfigError

__all__ = ["quantize", "QuantizationReport"]

_INT32_MAX = 2**31 - 1
_FLOAT32_MAX = float(np.finfo(np.float32).max)
_FRAC_BITS = _core.CONSTANTS["KF_QTABLE_FRAC_BITS"]
# |input zero point| beyond which x * inv loses more than 1/32 step in float32 (C allows 2^24)
_MAX_INPUT_ZERO = 2**18
_LEVELS_LOG2 = 22  # requantized pre-activation resolution across a table's domain
# A Q8 table's largest distance from the exact function, in output steps (as for Q16).
Q8_TABLE_ERROR = 1.0
# Activations that reach their limits within a few units: their table covers every input.
_SATURATING = {
    "sigmoid", "sigmoid_stepwise", "sigmoid_symmetric", "sigmoid_symmetric_stepwise", "gaussian",
    "gaussian_symmetric", "gaussian_stepwise", "linear_piece", "linear_piece_symmetric",
}
_STEPS = {"threshold", "threshold_symmetric"}


@dataclass
class _Layer:
    """One layer as the quantizer works on it (it folds the input scaling into the first)."""

    weights: np.ndarray  # (n_out, n_in) float64
    bias: np.ndarray  # (n_out,)
    steepness: np.ndarray  # (n_out,)
    activation: str


def _layered(topology: Topology, weights: np.ndarray) -> list[_Layer]:
    """The network's dense layers (sparse connections are zeros), each with one activation
    function, reading only the previous layer -- or, in a shortcut network (one grown by cascade
    training), the inputs and every earlier layer, in order."""
    layers = []
    for dense in topology.dense_layers(weights):
        expected = tuple(range(dense.layer)) if topology.shortcut else (dense.layer - 1,)
        if dense.sources != expected and not (topology.shortcut and set(dense.sources) <= set(expected)):
            raise ConfigError(f"layer {dense.layer} has connections that skip layers; quantize needs layered "
                              "connections")
        if dense.sources != expected:  # a shortcut layer without some sources: zero columns for them
            dense = _widened(topology, dense, expected)
        if dense.activation == "mixed":
            names = sorted({ACTIVATIONS[int(c)] for c in dense.activations})
            raise ConfigError(f"layer {dense.layer} mixes activation functions {names}; quantize needs one per layer")
        # weights and bias as two views of one (n_out, n_in + 1) block, the quantizer's layout
        # since its first version: BLAS may sum a strided matrix in another order than a
        # contiguous one, and the quantized integers (golden vectors) come from this layout
        n_out, n_in = dense.weights.shape
        block = np.zeros((n_out, n_in + 1))
        block[:, :n_in], block[:, n_in] = dense.weights, dense.bias
        layers.append(_Layer(block[:, :n_in], block[:, n_in], dense.steepnesses.copy(), dense.activation))
    return layers


def _widened(topology: Topology, dense: Any, sources: tuple[int, ...]) -> Any:
    """A shortcut layer's matrix over all of `sources` (zero columns where it reads nothing)."""
    sizes = topology.layers
    weights = np.zeros((dense.weights.shape[0], sum(sizes[k] for k in sources)))
    at, column = {}, 0
    for k in sources:
        at[k] = column
        column += sizes[k]
    column = 0
    for k in dense.sources:
        weights[:, at[k] : at[k] + sizes[k]] = dense.weights[:, column : column + sizes[k]]
        column += sizes[k]
    return dataclasses.replace(dense, sources=sources, weights=weights,
                               connected=np.zeros(weights.shape, dtype=bool))


def _apply(activation: str, x: np.ndarray) -> np.ndarray:
    values = np.ascontiguousarray(x, dtype=np.float32).ravel().copy()
    _core.apply_activation(ACTIVATIONS.index(activation), values)
    return values.reshape(np.shape(x)).astype(np.float64)


def _output_quantization(lo: float, hi: float, bits: int) -> tuple[float, int]:
    """(scale, zero) so that value = scale * (q - zero) covers [lo, hi] with q in the
    activation range; symmetric ranges keep 0 and +-hi exact."""
    if not hi > lo:
        lo, hi = lo - 0.5, hi + 0.5
    if bits == 8:
        if np.isclose(lo, -hi):
            return hi / 127.0, 128
        scale = (hi - lo) / 255.0
        return scale, int(np.clip(np.rint(-lo / scale), 0, 255))
    if np.isclose(lo, -hi):
        return hi / 32767.0, 0
    scale = (hi - lo) / 65535.0
    return scale, int(np.clip(np.rint(-lo / scale) - 32768, -32768, 32767))


def _saturation_interval(activation: str, scale: float, zero: int) -> tuple[float, float]:
    """The inputs beyond which the quantized output no longer changes."""
    xs = np.linspace(-64.0, 64.0, 262145)
    q = np.rint(_apply(activation, xs) / scale + zero)
    changing = np.nonzero(q != q[0])[0]
    lo = xs[max(changing[0] - 1, 0)] if changing.size else -1.0
    changing = np.nonzero(q != q[-1])[0]
    hi = xs[min(changing[-1] + 1, xs.size - 1)] if changing.size else 1.0
    return float(lo), float(hi)


def _weight_scales(layer: _Layer, w_real: np.ndarray, a: np.ndarray, pre: np.ndarray, wq_max: int) -> np.ndarray:
    """A weight scale per output neuron. The largest weight sets it unless clipping the few
    largest weights (to max / 2^k) gives a smaller error after the activation on the
    calibration inputs: training (FANN's RPROP above all) can leave a handful of huge weights
    that would otherwise round every other weight of the row to zero."""
    top = np.abs(w_real).max(axis=1)
    top = np.maximum(top, np.abs(layer.bias) / 2**29 * wq_max)
    top[top == 0] = wq_max
    col_scale = np.abs(layer.weights).max(axis=0)
    col_scale = np.where(col_scale > 0, np.abs(w_real).max(axis=0) / np.maximum(col_scale, 1e-300), 0.0)
    target = _apply(layer.activation, pre)
    best_scale, best_error = top / wq_max, None
    for k in range(8):
        scale = top / (wq_max * 2.0**k)
        w_q = np.clip(np.rint(w_real / scale[:, None]), -wq_max, wq_max) * scale[:, None]
        # back to the layer's float input units: w_real = weights * column scale
        approx = layer.steepness * (a @ np.divide(w_q, col_scale, out=np.zeros_like(w_q), where=col_scale > 0).T + layer.bias)
        error = np.abs(_apply(layer.activation, approx) - target).mean(axis=0)
        if best_error is None:
            best_error = error
            continue
        better = error < best_error
        best_scale, best_error = np.where(better, scale, best_scale), np.where(better, error, best_error)
    return best_scale


def _check_span(lo: np.ndarray, hi: np.ndarray) -> None:
    """Refuse calibration features whose range the quantized input step cannot represent: a
    span beyond float32's largest value (the step and the input's offset from the bottom of the
    range are float32 in the core).

    Examples
    --------
    >>> import numpy as np
    >>> _check_span(np.array([-3e38, 0.0]), np.array([3e38, 1.0]))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    kimi_fann.errors.ConfigError: calibration input 0 spans [-3e+38, 3e+38], wider than float32 can hold (3.4e+38): ...
    """
    span = hi - lo
    bad = np.flatnonzero(~(span <= _FLOAT32_MAX))
    if bad.size:
        j = int(bad[0])
        raise ConfigError(f"calibration input {j} spans [{lo[j]:.3g}, {hi[j]:.3g}], wider than float32 can hold "
                          f"({_FLOAT32_MAX:.3g}): the quantized input step would overflow; scale the inputs "
                          "(Network.set_scaling) or calibrate on the range the network will see")


def _requant_params(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(multiplier, shift) with m ~= multiplier / 2^shift, multiplier < 2^31, shift in 1..62."""
    if not np.all(np.isfinite(m)):
        raise ConfigError("a requantization factor is not finite: the calibration range is beyond what the "
                          "quantized network can represent; scale the inputs or calibrate on a narrower range")
    mult = np.zeros(m.shape, dtype=np.int64)
    shift = np.ones(m.shape, dtype=np.int64)
    nz = m > 0
    exponent = np.floor(np.log2(m[nz]))
    s = np.clip(30 - exponent, 1, 62).astype(np.int64)
    scaled = np.rint(m[nz] * np.exp2(s))
    if np.any(scaled > 2.0 * _INT32_MAX):  # beyond even a shift of 0: refused before the cast
        raise ConfigError("a requantization factor is too large to represent: the calibration range is beyond "
                          "what the quantized network can represent; scale the inputs or calibrate on a "
                          "narrower range")
    v = scaled.astype(np.int64)
    over = v > _INT32_MAX
    v[over] //= 2
    s[over] -= 1
    if np.any(s < 1) or np.any(v > _INT32_MAX):
        raise ConfigError("a requantization factor is too large to represent; the layer's range is degenerate")
    mult[nz], shift[nz] = v, s
    return mult, shift


def _table_values(t: np.ndarray, t0: int, k: int, knots: np.ndarray, out_lo: int, out_hi: int) -> np.ndarray:
    """The C table (qnet.c) evaluated in numpy, for checking its accuracy."""
    span = (len(knots) - 1) << k
    rel = np.clip(t - t0, 0, span)
    idx = rel >> k
    frac = rel & ((1 << k) - 1)
    nxt = np.minimum(idx + 1, len(knots) - 1)
    v = knots[idx] * ((1 << k) - frac) + knots[nxt] * frac
    v = np.where(idx == len(knots) - 1, knots[idx] << k, v)
    return np.clip((v + (1 << (k + _FRAC_BITS - 1))) >> (k + _FRAC_BITS), out_lo, out_hi)


def _table_error(exact: Callable[[np.ndarray], np.ndarray], s_pre: float, t0: int, k: int, knots: np.ndarray,
                 out_lo: int, out_hi: int) -> float:
    """The largest distance, in output steps, between the table and the exact function over the
    table's domain (65537 evenly spaced requantized values and 65536 random ones)."""
    end = t0 + ((len(knots) - 1) << k)
    probe = np.unique(np.concatenate([
        np.linspace(t0, end, 65537).astype(np.int64),
        np.random.default_rng(0).integers(t0, end + 1, 65536),
    ]))
    got = _table_values(probe, t0, k, knots, out_lo, out_hi)
    return float(np.abs(got - np.clip(exact(probe * s_pre), out_lo, out_hi)).max())


def _fit_knots(target: np.ndarray, k: int, guess: np.ndarray) -> np.ndarray:
    """Q8 knots (output steps times 2^8, within 0 .. 255 * 2^8) whose interpolation (kfann.h)
    gives target[r], the correctly rounded function, at as many requantized values r as one line
    per segment allows: the first knot is target[0] exactly, then each next knot, from the one
    before, the candidate within a step of its guess (the exact function times 2^8) that misses
    the fewest values of its segment, the nearest to the guess among equals."""
    if k == 0:  # a direct table: the rounded function itself
        return target << _FRAC_BITS
    knots = guess.copy()
    knots[0] = target[0] << _FRAC_BITS
    f = np.arange(1, (1 << k) + 1, dtype=np.int64)
    delta = np.arange(-(1 << _FRAC_BITS), (1 << _FRAC_BITS) + 1, dtype=np.int64)
    for i in range(len(guess) - 1):
        cand = np.clip(guess[i + 1] + delta, 0, 255 << _FRAC_BITS)
        v = (knots[i] * ((1 << k) - f)[None, :] + cand[:, None] * f[None, :] + (1 << (k + _FRAC_BITS - 1))) \
            >> (k + _FRAC_BITS)
        misses = (np.clip(v, 0, 255) != target[(i << k) + f][None, :]).sum(axis=1)
        knots[i + 1] = cand[np.lexsort((np.abs(cand - guess[i + 1]), misses))[0]]
    return knots


def _build_q8_table(exact: Callable[[np.ndarray], np.ndarray], d_lo: float, d_hi: float, kink_at_zero: bool):
    """(s_pre, t0, k, knots) of a Q8 layer: linear interpolation between 257 knots, 16
    requantized values apart, over the 2^12 values that the direct tables of kimi-fann 0.1 had
    one output each for, else between 1025 knots 4 apart; else (a function with kinks between
    the knots, such as FANN's stepwise sigmoids) kimi-fann 0.1's direct tables of 2^12, 2^14 or
    2^16 outputs: the first whose outputs stay within Q8_TABLE_ERROR steps of the exact function
    over [d_lo, d_hi]. The knots (output steps
    times 2^8, in 0 .. 255 * 2^8) are fitted to the correctly rounded function (_fit_knots), so
    the outputs are those direct tables' at all but a few values in a thousand; they take 514
    bytes as uint16 in a file instead of 16 KiB. relu and leaky relu get a knot at 0, their kink.
    The C core expands the table into one byte per requantized value when it loads the network
    (kf_qnet_create)."""
    for levels_log2, segments_log2 in ((12, 8), (12, 10), (12, 12), (14, 14), (16, 16)):
        k = levels_log2 - segments_log2
        if kink_at_zero:  # one segment to spare, for t0 rounded down to a knot spacing
            s_pre = (d_hi - d_lo) / float(((1 << segments_log2) - 1) << k)
            t0 = int(np.floor(d_lo / s_pre / (1 << k))) << k
        else:
            s_pre = (d_hi - d_lo) / float(1 << levels_log2)
            t0 = int(np.floor(d_lo / s_pre))
        ts = t0 + (np.arange((1 << segments_log2) + 1, dtype=np.int64) << k)
        guess = np.rint(np.clip(exact(ts * s_pre), 0, 255) * (1 << _FRAC_BITS)).astype(np.int64)
        every = t0 + np.arange(((len(ts) - 1) << k) + 1, dtype=np.int64)
        knots = _fit_knots(np.rint(np.clip(exact(every * s_pre), 0, 255)).astype(np.int64), k, guess)
        if _table_error(exact, s_pre, t0, k, knots, 0, 255) <= Q8_TABLE_ERROR:
            break
    return s_pre, t0, k, knots


def _build_table(activation: str, d_lo: float, d_hi: float, scale: float, zero: int, bits: int):
    """(s_pre, t0, k, knots) for one layer over [d_lo, d_hi]: for Q8 see _build_q8_table; for
    Q16 linear interpolation between 2^10 to 2^16 knots, the smallest exact to one output step
    that passes the check."""
    out_lo, out_hi = (0, 255) if bits == 8 else (-32768, 32767)
    exact = lambda x: _apply(activation, x) / scale + zero  # noqa: E731
    if bits == 8:
        return _build_q8_table(exact, d_lo, d_hi, activation in ("relu", "leaky_relu"))
    for segments_log2 in (10, 12, 14, 16):
        k = _LEVELS_LOG2 - segments_log2
        s_pre = (d_hi - d_lo) / float(1 << _LEVELS_LOG2)
        t0 = int(np.floor(d_lo / s_pre))
        ts = t0 + (np.arange((1 << segments_log2) + 1, dtype=np.int64) << k)
        knots = np.clip(np.rint(exact(ts * s_pre) * (1 << _FRAC_BITS)), -(2**25), 2**25).astype(np.int64)
        if _table_error(exact, s_pre, t0, k, knots, out_lo, out_hi) <= 1.0:
            break
    return s_pre, t0, k, knots


def quantize(
    topology: Topology, weights: Any, calibration: Any, reference: Callable[[np.ndarray], np.ndarray], *,
    weight_bits: int = 8, activation_bits: int = 8
) -> tuple[QuantizedSpec, QuantizationReport]:
    """The Q8/Q16 description of a float network (its topology and weights), with ranges
    measured on calibration inputs, and what the quantizer measured against ``reference`` (the
    float network's run); see Network.quantize."""
    if activation_bits not in (8, 16) or weight_bits not in (8, 16) or (activation_bits, weight_bits) == (8, 16):
        raise ConfigError(
            f"supported precisions: Q8 (weight_bits=8, activation_bits=8) and Q16 (activation_bits=16, "
            f"weight_bits 8 or 16); got weight_bits={weight_bits}, activation_bits={activation_bits}"
        )
    x, _ = as_matrix(calibration, topology.num_input, "calibration")
    if len(x) == 0:
        raise ConfigError("calibration needs at least one input row")
    layers = _layered(topology, weights)
    amax = 255 if activation_bits == 8 else 32768
    wq_max = 127 if weight_bits == 8 else 32767
    q_lo, q_hi = (0, 255) if activation_bits == 8 else (-32768, 32767)

    # Inputs: one scale and zero point per feature, folded into the weights of the layers that
    # read them (the first; every layer of a shortcut network). A feature constant over the
    # calibration set saturates to that constant: its weights move into the bias (training
    # leaves such weights at any size, which would swamp the others).
    lo, hi = x.min(axis=0).astype(np.float64), x.max(axis=0).astype(np.float64)
    _check_span(lo, hi)
    flat = hi <= lo
    n_features = x.shape[1]
    for reader in layers if topology.shortcut else layers[:1]:
        inputs = reader.weights[:, :n_features]
        reader.bias = reader.bias + inputs[:, flat] @ lo[flat]
        reader.weights = np.concatenate([np.where(flat[None, :], 0.0, inputs), reader.weights[:, n_features:]],
                                        axis=1)
    hi = np.where(flat, lo + 1.0, hi)
    levels = 255.0 if activation_bits == 8 else 65535.0
    offset = 0 if activation_bits == 8 else -32768
    # The zero point puts lo at the bottom of the activation range, wherever 0 falls (a
    # feature in [0.5, 1] gets zero -255). Where it would be so large that x * inv loses
    # precision in float32 (a feature like [1000, 1001]), the range is widened to include 0.
    far = np.abs(np.rint(-lo * levels / (hi - lo)) + offset) > _MAX_INPUT_ZERO
    lo, hi = np.where(far, np.minimum(lo, 0.0), lo), np.where(far, np.maximum(hi, 0.0), hi)
    in_scale = (hi - lo) / levels
    in_zero = (np.rint(-lo / in_scale) + offset).astype(np.int32)
    col_scale, col_zero = in_scale, in_zero.astype(np.int64)

    a = x.astype(np.float64)
    descs, info = [], []
    headroom = np.inf
    for index, layer in enumerate(layers):
        pre = layer.steepness * (a @ layer.weights.T + layer.bias)
        out = _apply(layer.activation, pre)
        w_real = layer.weights * col_scale[None, :]
        s_w = _weight_scales(layer, w_real, a, pre, wq_max)
        # Shrink rows whose accumulator bound would overflow: a coarser step, and a code limit
        # lowered to match, so that weights the scale clips stay clipped at the same value.
        limit = np.full(len(s_w), float(wq_max))
        for _ in range(64):
            w_q = np.clip(np.rint(w_real / s_w[:, None]), -limit[:, None] - (weight_bits == 8),
                          limit[:, None]).astype(np.int64)
            b_q = np.rint(layer.bias / s_w).astype(np.int64) - w_q @ col_zero
            bound = np.abs(b_q) + np.abs(w_q).sum(axis=1) * amax
            over = bound > _INT32_MAX
            if not over.any():
                break
            factor = bound[over] / _INT32_MAX * 1.001
            s_w[over] *= factor
            limit[over] = np.floor(limit[over] / factor)
        else:
            raise ConfigError(f"layer {index + 1}: no weight scale keeps the int32 accumulator from overflowing "
                              f"(the bias is too large for {activation_bits}-bit activations)")
        headroom = min(headroom, float(2**31 / max(bound.max(), 1)))
        # Output quantization and the activation table over the pre-activation domain.
        if layer.activation in ACTIVATION_RANGES:
            o_lo, o_hi = ACTIVATION_RANGES[layer.activation]
        else:
            o_lo, o_hi = float(out.min()), float(out.max())
            margin = 0.1 * max(o_hi - o_lo, 1e-6)
            o_lo, o_hi = o_lo - margin, o_hi + margin
            if layer.activation == "relu":
                o_lo = 0.0
        scale, zero = _output_quantization(o_lo, o_hi, activation_bits)
        steep = layer.steepness.copy()
        negative = steep < 0  # f(s * sum) = f(|s| * (-sum)): fold the sign into the row
        w_q[negative], b_q[negative], steep[negative] = -w_q[negative], -b_q[negative], -steep[negative]
        if layer.activation in _STEPS:
            s_pre = float(np.median(steep * s_w)) or 1.0
            t0, k = -1, 0
            knots = np.array([np.rint((_apply(layer.activation, np.array([-1.0]))[0] / scale + zero) * 256),
                              np.rint((_apply(layer.activation, np.array([1.0]))[0] / scale + zero) * 256)],
                             dtype=np.int64)
        else:
            if layer.activation in _SATURATING:
                d_lo, d_hi = _saturation_interval(layer.activation, scale, zero)
            else:
                p_lo, p_hi = float(pre.min()), float(pre.max())
                margin = 0.1 * max(p_hi - p_lo, 1e-3)
                d_lo, d_hi = p_lo - margin, p_hi + margin
            s_pre, t0, k, knots = _build_table(layer.activation, d_lo, d_hi, scale, zero, activation_bits)
        mult, shift = _requant_params(steep * s_w / s_pre)
        descs.append(QuantizedLayer(
            w_q.astype(np.int16), b_q.astype(np.int32), mult.astype(np.int32), shift.astype(np.uint8), int(t0),
            int(k), knots.astype(np.int32), q_lo, q_hi, activation=layer.activation, output_scale=float(scale),
            output_zero=int(zero),
        ))
        info.append({
            "shape": [int(layer.weights.shape[1]), int(layer.weights.shape[0])],
            "activation": layer.activation,
            "weight_scale_min": float(s_w.min()),
            "weight_scale_max": float(s_w.max()),
            "table_knots": int(len(knots)),
            "output_scale": float(scale),
            "output_zero": int(zero),
        })
        n_out = layer.weights.shape[0]
        if topology.shortcut:  # the next layer reads these values too, after the earlier ones
            col_scale = np.concatenate([col_scale, np.full(n_out, scale)])
            col_zero = np.concatenate([col_zero, np.full(n_out, zero, dtype=np.int64)])
            a = np.concatenate([a, out], axis=1)
        else:
            col_scale = np.full(n_out, scale)
            col_zero = np.full(n_out, zero, dtype=np.int64)
            a = out
    spec = QuantizedSpec(activation_bits, weight_bits, (1.0 / in_scale).astype(np.float32), in_zero,
                         float(info[-1]["output_scale"]), int(info[-1]["output_zero"]), tuple(descs),
                         shortcut=topology.shortcut)
    y_float = reference(x)
    y_fixed = np.empty_like(y_float)
    _core.QNet(spec).run(x, y_fixed)
    err = np.abs(y_fixed.astype(np.float64) - y_float)
    report = QuantizationReport(activation_bits, weight_bits, float(err.max()), float(err.mean()), headroom, info)
    return spec, report
