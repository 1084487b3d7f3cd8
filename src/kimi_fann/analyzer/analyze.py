"""Static and data-driven analysis of kimi-fann models: sizes, costs, weights, activations,
quantization error and router balance."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import _core
from .._arrays import as_matrix
from ..data import TrainingData
from ..descriptions import ACTIVATION_RANGES, ACTIVATIONS, Topology
from ..errors import ConfigError, KimiFannError
from ..fixed import FannFixedNetwork, FixedNetwork, QuantizedNetwork
from ..mixture import MixtureOfExperts
from ..network import Network
from ..router import Router
from .report import AnalysisReport, ExpertReport, LayerReport, RouterReport

__all__ = ["analyze"]

#: SQNR reported when the fixed-point values equal the reference exactly (and its negative
#: when the reference is all zeros).
SQNR_CAP_DB = 200.0
#: A saturated neuron sits within this fraction of its output span of a limit ...
SATURATION_MARGIN = 0.02
#: ... for at least this fraction of the samples.
SATURATION_FRACTION = 0.95
#: A dead neuron's output varies by at most this much over the data.
DEAD_TOLERANCE = 1e-6
# Monotonic bounded activations, whose limits mean "saturated".
_SATURATING = ("sigmoid", "sigmoid_stepwise", "sigmoid_symmetric", "sigmoid_symmetric_stepwise", "elliot",
               "elliot_symmetric", "linear_piece", "linear_piece_symmetric")


@dataclass
class _Graph:
    """A float or FANN fixed-point network's topology with its weights in float units."""

    topology: Topology
    weights: np.ndarray  # float64, in connection order

    @property
    def layers(self) -> tuple[int, ...]:
        return self.topology.layers

    def sources(self, layer: int) -> int:
        """Neurons a fully connected layer would read, bias included."""
        starts = self.topology.layer_starts
        return int(starts[layer]) if self.topology.shortcut else int(starts[layer] - starts[layer - 1])

    def forward(self, x: np.ndarray) -> list[np.ndarray]:
        """Outputs of every layer after the input one, computed in float64 (activations in the
        core's float32 functions)."""
        outs = [np.asarray(x, dtype=np.float64)]
        for dense in self.topology.dense_layers(self.weights):
            inputs = np.hstack([outs[k] for k in dense.sources])
            pre = (inputs @ dense.weights.T + dense.bias) * dense.steepnesses
            out = np.empty_like(pre)
            for code in np.unique(dense.activations):
                cols = np.nonzero(dense.activations == code)[0]
                block = np.ascontiguousarray(pre[:, cols], dtype=np.float32)
                _core.apply_activation(int(code), block.ravel())
                out[:, cols] = block
            out[:, dense.fan_in == 0] = 1.0  # a neuron without connections outputs 1, as in the core
            outs.append(out)
        return outs[1:]


def _network_graph(net: Network) -> _Graph:
    return _Graph(net.topology, net.weights.astype(np.float64))


def _fann_fixed_graph(fixed: FannFixedNetwork) -> _Graph:
    """The stored weights in float units (weight / multiplier)."""
    return _Graph(fixed.topology, fixed.weights / float(fixed.multiplier))


# ---- small measurements ----


def _histogram(values: np.ndarray, bins: int) -> tuple[list[int], list[float]]:
    if values.size == 0:
        return [0] * bins, np.linspace(0.0, 1.0, bins + 1).tolist()
    counts, edges = np.histogram(values.astype(np.float64), bins=bins)
    return [int(c) for c in counts], [float(e) for e in edges]


def _stats(values: np.ndarray) -> tuple[float, float, float, float]:
    if values.size == 0:
        return 0.0, 0.0, 0.0, 0.0
    v = values.astype(np.float64)
    return float(v.min()), float(v.max()), float(v.mean()), float(v.std())


def sqnr_db(reference: Any, approximation: Any) -> float:
    """``10 log10(sum(reference^2) / sum((approximation - reference)^2))``, within
    +-:data:`SQNR_CAP_DB`.

    Examples
    --------
    >>> from kimi_fann.analyzer.analyze import sqnr_db
    >>> round(sqnr_db([1.0, -1.0], [1.1, -0.9]), 3)
    20.0
    >>> sqnr_db([1.0], [1.0])
    200.0
    """
    ref = np.asarray(reference, dtype=np.float64)
    noise = float(np.sum((np.asarray(approximation, dtype=np.float64) - ref) ** 2))
    signal = float(np.sum(ref**2))
    if noise == 0.0:
        return SQNR_CAP_DB
    if signal == 0.0:
        return -SQNR_CAP_DB
    return float(np.clip(10.0 * math.log10(signal / noise), -SQNR_CAP_DB, SQNR_CAP_DB))


def _symmetric_rounding(weights: np.ndarray, rows: np.ndarray, bits: int) -> np.ndarray:
    """weights rounded per output neuron (rows) to signed ``bits``-bit codes with scale
    max|w| / (2^(bits-1) - 1), and back."""
    qmax = 2 ** (bits - 1) - 1
    out = np.empty_like(weights)
    for r in np.unique(rows):
        sel = rows == r
        top = np.abs(weights[sel]).max()
        scale = top / qmax if top > 0 else 1.0
        out[sel] = np.clip(np.rint(weights[sel] / scale), -qmax, qmax) * scale
    return out


def _neuron_flags(out: np.ndarray, activation: str | None) -> tuple[list[int] | None, list[int] | None]:
    if len(out) < 2:
        return None, None
    dead = np.nonzero(np.ptp(out, axis=0) <= DEAD_TOLERANCE)[0]
    saturated: list[int] = []
    if activation in _SATURATING:
        lo, hi = ACTIVATION_RANGES[activation]
        margin = SATURATION_MARGIN * (hi - lo)
        near = (out <= lo + margin) | (out >= hi - margin)
        saturated = np.nonzero(near.mean(axis=0) >= SATURATION_FRACTION)[0].tolist()
    return [int(i) for i in dead], [int(i) for i in saturated]


def _activation_name(codes: np.ndarray) -> str:
    names = {ACTIVATIONS[int(c)] for c in codes}
    return names.pop() if len(names) == 1 else "mixed"


def _as_inputs(data: Any, columns: int) -> np.ndarray | None:
    if data is None:
        return None
    if isinstance(data, TrainingData):
        data = data.inputs
    x, _ = as_matrix(data, columns, "data")
    return x


# ---- layers ----


def _graph_layers(graph: _Graph, dtype: str, bins: int, bits: int | None) -> list[LayerReport]:
    """Static part of the layers of a float or FANN fixed network."""
    topology = graph.topology
    bias = topology.bias_neurons
    src, dst = topology.sources.astype(np.int64), topology.destinations
    out = []
    for layer in range(1, len(graph.layers)):
        mask = topology.connections_into(layer)
        first, n_out = int(topology.layer_starts[layer]), graph.layers[layer]
        w = graph.weights[mask]
        from_bias = np.isin(src[mask], bias)
        params = int(mask.sum())
        macs = int((~from_bias).sum())
        possible = n_out * graph.sources(layer)
        real_w = w[~from_bias]
        wmin, wmax, wmean, wstd = _stats(real_w)
        counts, edges = _histogram(real_w, bins)
        zero = int((w == 0).sum())
        weight_sqnr = None
        if bits is not None and real_w.size:
            rows = dst[mask][~from_bias]
            weight_sqnr = sqnr_db(real_w, _symmetric_rounding(real_w, rows, bits))
        out.append(LayerReport(
            layer=layer, inputs=graph.sources(layer) - (1 if not topology.shortcut else len(bias[bias < first])),
            outputs=n_out, activation=_activation_name(topology.activations[first : first + n_out]),
            parameters=params, macs=macs, possible_connections=possible, absent_connections=possible - params,
            zero_weights=zero, sparsity=(possible - params + zero) / possible if possible else 0.0, dtype=dtype,
            float_bytes=4 * params, stored_bytes=4 * params, overhead_bytes=0, weight_units="float",
            weight_min=wmin, weight_max=wmax, weight_mean=wmean, weight_std=wstd, clipped_weights=None,
            histogram_counts=counts, histogram_edges=edges, weight_sqnr_db=weight_sqnr,
        ))
    return out


def _table_bytes(knots: np.ndarray) -> int:
    lo, hi = (int(knots.min()), int(knots.max())) if knots.size else (0, 0)
    # the narrowest integer type holding them, as a .kfn file stores them
    width = 1 if 0 <= lo and hi <= 255 else (2 if -32768 <= lo and hi <= 65535 and (lo >= 0 or hi <= 32767) else 4)
    return width * int(knots.size)


def _quantized_layers(fixed: QuantizedNetwork, bins: int) -> list[LayerReport]:
    spec = fixed.spec
    wbytes = 1 if spec.weight_bits == 8 else 2
    qmax = 127 if spec.weight_bits == 8 else 32767
    out = []
    for index, layer in enumerate(spec.layers):
        n_out, n_in = layer.weights.shape
        params = n_out * (n_in + 1)
        codes = layer.weights.astype(np.int64).ravel()
        wmin, wmax, wmean, wstd = _stats(codes)
        counts, edges = _histogram(codes, bins)
        zeros = (codes == 0).sum() + (layer.bias == 0).sum()
        out.append(LayerReport(
            layer=index + 1, inputs=int(n_in), outputs=int(n_out), activation=layer.activation,
            parameters=params, macs=int(n_out * n_in), possible_connections=params, absent_connections=0,
            zero_weights=int(zeros), sparsity=float(zeros / params),
            dtype="int8" if wbytes == 1 else "int16", float_bytes=4 * params,
            stored_bytes=wbytes * codes.size + 4 * n_out,
            overhead_bytes=int(layer.multiplier.nbytes + layer.shift.nbytes + _table_bytes(layer.knots)),
            weight_units="integer", weight_min=wmin, weight_max=wmax, weight_mean=wmean, weight_std=wstd,
            clipped_weights=int((np.abs(codes) >= qmax).sum()), histogram_counts=counts, histogram_edges=edges,
        ))
    return out


def _quantized_layer_outputs(fixed: QuantizedNetwork, x: np.ndarray) -> list[np.ndarray] | None:
    """Each layer's dequantized outputs from the integer engine itself: the network cut after
    each layer, with that layer's output quantization (None when it is not known)."""
    spec = fixed.spec
    if any(layer.output_scale is None for layer in spec.layers):
        return None
    outs = []
    for index, layer in enumerate(spec.layers):
        cut = dataclasses.replace(spec, layers=spec.layers[: index + 1], output_scale=layer.output_scale,
                                  output_zero=layer.output_zero)
        y = QuantizedNetwork(cut).run(np.ascontiguousarray(x, dtype=np.float32), threads=1)
        outs.append(np.asarray(y, dtype=np.float64).reshape(len(x), layer.n_out))
    return outs


def _fill_activity(layers: list[LayerReport], outs: list[np.ndarray]) -> None:
    for report, out in zip(layers, outs):
        if len(out) == 0:
            continue
        report.activation_min, report.activation_max = float(out.min()), float(out.max())
        report.dead_neurons, report.saturated_neurons = _neuron_flags(out, report.activation)


def _fill_sqnr(layers: list[LayerReport], ref: list[np.ndarray], got: list[np.ndarray]) -> None:
    for report, r, g in zip(layers, ref, got):
        if len(r):
            report.sqnr_db = sqnr_db(r, g)


@dataclass
class _Single:
    """What the analysis of one network gives (before it becomes a report)."""

    model: str
    layers: list[LayerReport]
    reference: str | None
    quantization: dict[str, Any] | None
    output_sqnr_db: float | None
    notes: list[str]


def _quantization_dict(fixed: FixedNetwork) -> dict[str, Any] | None:
    r = fixed.report
    if r is None:
        return None
    return {"activation_bits": r.activation_bits, "weight_bits": r.weight_bits, "max_abs_error": r.max_abs_error,
            "mean_abs_error": r.mean_abs_error, "accumulator_headroom": r.accumulator_headroom}


def _analyze_network(net: Network, x: np.ndarray | None, bins: int, quantize: str | None) -> _Single:
    graph = _network_graph(net)
    bits = None if quantize is None else (8 if quantize == "q8" else 16)
    layers = _graph_layers(graph, "float32", bins, bits)
    notes: list[str] = []
    reference = output_sqnr = quant = None
    if x is not None and len(x):
        outs = graph.forward(x)
        _fill_activity(layers, outs)
        if quantize is not None:
            try:
                q = net.quantize(calibration=x, weight_bits=bits, activation_bits=bits)  # type: ignore[arg-type]
            except KimiFannError as exc:
                notes.append(f"no simulated {quantize} SQNR: {exc}")
            else:
                got = _quantized_layer_outputs(q, x)
                if got is not None:
                    _fill_sqnr(layers, outs, got)
                output_sqnr = sqnr_db(net.run(x), q.run(x))
                reference, quant = f"simulated {quantize}", _quantization_dict(q)
    return _Single("network", layers, reference, quant, output_sqnr, notes)


def _analyze_fixed(fixed: FixedNetwork, x: np.ndarray | None, bins: int, ref: Network | None) -> _Single:
    notes: list[str] = []
    output_sqnr = None
    if ref is not None and (ref.num_input, ref.num_output) != (fixed.num_input, fixed.num_output):
        raise ConfigError(f"the reference has {ref.num_input} inputs and {ref.num_output} outputs, the model "
                          f"{fixed.num_input} and {fixed.num_output}")
    ref_graph = None if ref is None else _network_graph(ref)
    if isinstance(fixed, FannFixedNetwork):
        graph = _fann_fixed_graph(fixed)
        layers = _graph_layers(graph, "fann_fixed", bins, None)
        if ref_graph is not None:
            same = np.array_equal(ref_graph.topology.sources, graph.topology.sources) \
                and np.array_equal(ref_graph.topology.connection_starts, graph.topology.connection_starts)
            if same:
                for report, layer in zip(layers, range(1, len(graph.layers))):
                    mask = graph.topology.connections_into(layer)
                    report.weight_sqnr_db = sqnr_db(ref_graph.weights[mask], graph.weights[mask])
            else:
                notes.append("the reference's connections differ from the model's: no weight SQNR")
        if x is not None and len(x):
            outs = graph.forward(x)
            notes.append("activation statistics of FANN fixed point come from a float emulation of its stored weights")
            _fill_activity(layers, outs)
            if ref_graph is not None:
                _fill_sqnr(layers, ref_graph.forward(x), outs)
                output_sqnr = sqnr_db(ref.run(x), fixed.run(x))  # type: ignore[union-attr]
        return _Single("fann_fixed", layers, None if ref is None else "float reference", None, output_sqnr, notes)

    assert isinstance(fixed, QuantizedNetwork)
    layers = _quantized_layers(fixed, bins)
    if ref_graph is not None:
        wbits = fixed.spec.weight_bits
        ref_topology = ref_graph.topology
        for report, layer in zip(layers, range(1, len(ref_graph.layers))):
            mask = ref_topology.connections_into(layer)
            real = ~np.isin(ref_topology.sources[mask], ref_topology.bias_neurons)
            w = ref_graph.weights[mask][real]
            if w.size:
                report.weight_sqnr_db = sqnr_db(w, _symmetric_rounding(w, ref_topology.destinations[mask][real], wbits))
    if x is not None and len(x):
        got = _quantized_layer_outputs(fixed, x)
        if got is None:
            notes.append("the quantizer's report is missing: no per-layer activations of the integer engine")
            if ref_graph is not None:
                _fill_activity(layers, ref_graph.forward(x))
        else:
            _fill_activity(layers, got)
            if ref_graph is not None:
                _fill_sqnr(layers, ref_graph.forward(x), got)
        if ref is not None:
            output_sqnr = sqnr_db(ref.run(x), fixed.run(x))
    return _Single(fixed.format, layers, None if ref is None else "float reference", _quantization_dict(fixed),
                   output_sqnr, notes)


def _single(model: Network | FixedNetwork, x: np.ndarray | None, bins: int, quantize: str | None,
            reference: Any) -> _Single:
    if isinstance(model, Network):
        return _analyze_network(model, x, bins, quantize)
    if reference is not None and not isinstance(reference, Network):
        raise ConfigError(f"the reference of a FixedNetwork must be a Network, got {type(reference).__name__}")
    return _analyze_fixed(model, x, bins, reference)


# ---- routers and mixtures ----


def _analyze_router(router: Router, x: np.ndarray | None, bins: int) -> tuple[RouterReport, np.ndarray | None]:
    gates = router.gates.astype(np.float64)
    n, d = gates.shape
    has_bias = router.bias is not None
    params = n * d + (n if has_bias else 0)
    if router.gate_bits == 32:
        stored = 4 * params
    else:
        stored = n * d * router.gate_bits // 8 + 4 * n + (4 * n if has_bias else 0)
    wmin, wmax, wmean, wstd = _stats(gates.ravel())
    counts, edges = _histogram(gates.ravel(), bins)
    report = RouterReport(
        n_experts=n, dim=d, top_k=router.top_k, scoring=router.scoring, gate_bits=router.gate_bits,
        parameters=params, macs=n * d, float_bytes=4 * params, stored_bytes=stored, weight_min=wmin,
        weight_max=wmax, weight_mean=wmean, weight_std=wstd, histogram_counts=counts, histogram_edges=edges,
    )
    chosen = None
    if x is not None:
        chosen, _weights, load = router.route(x, return_load=True)
        load = load.astype(np.int64)
        total = int(load.sum())
        report.samples = int(len(x))
        report.load = [int(v) for v in load]
        report.load_fraction = [float(v) / total if total else 0.0 for v in load]
        report.unused_experts = [int(i) for i in np.nonzero(load == 0)[0]]
        if total:
            p = load[load > 0] / total
            entropy = float(-(p * np.log(p)).sum())
            report.entropy = entropy / math.log(n) if n > 1 else 1.0
            report.max_mean_ratio = float(load.max() / load.mean())
    return report, chosen


def _expert(index: int, domain: str, model: Network | FixedNetwork, x: np.ndarray | None, bins: int,
            quantize: str | None, reference: Any, notes: list[str]) -> ExpertReport:
    single = _single(model, x, bins, quantize, reference)
    notes.extend(f"{domain}: {n}" for n in single.notes)
    return ExpertReport(
        index=index, domain=domain, model=single.model,
        parameters=sum(l.parameters for l in single.layers), macs=sum(l.macs for l in single.layers),
        float_bytes=sum(l.float_bytes for l in single.layers),
        stored_bytes=sum(l.stored_bytes + l.overhead_bytes for l in single.layers), layers=single.layers,
        samples=None if x is None else int(len(x)),
    )


def _analyze_mixture(moe: MixtureOfExperts, x: np.ndarray | None, bins: int, quantize: str | None,
                     reference: Any) -> AnalysisReport:
    if reference is not None and not (isinstance(reference, MixtureOfExperts)
                                      and len(reference.experts) == len(moe.experts)):
        raise ConfigError("the reference of a MixtureOfExperts must be a MixtureOfExperts with as many experts")
    router_report, chosen = _analyze_router(moe.router, x, bins)
    notes: list[str] = []
    experts = []
    for i, (domain, expert) in enumerate(zip(moe.domains, moe.experts)):
        rows = None if x is None or chosen is None else x[np.nonzero((chosen == i).any(axis=1))[0]]
        ref = None if reference is None else reference.experts[i]
        experts.append(_expert(i, domain, expert, rows, bins, quantize, ref, notes))
    shared = None
    if moe.shared_expert is not None:
        ref = None if reference is None or reference.shared_expert is None else reference.shared_expert
        shared = _expert(-1, "shared", moe.shared_expert, x, bins, quantize, ref, notes)
    everything = [*experts, *([shared] if shared else [])]
    heaviest = sorted((e.macs for e in experts), reverse=True)[: moe.router.top_k]
    output_sqnr = None
    if reference is not None and x is not None and len(x):
        output_sqnr = sqnr_db(reference.run(x), moe.run(x))
    kinds = {e.model for e in experts}
    return AnalysisReport(
        model="mixture", inputs=moe.num_input, outputs=moe.num_output,
        parameters=router_report.parameters + sum(e.parameters for e in everything),
        macs=router_report.macs + sum(heaviest) + (shared.macs if shared else 0),
        float_bytes=router_report.float_bytes + sum(e.float_bytes for e in everything),
        stored_bytes=router_report.stored_bytes + sum(e.stored_bytes for e in everything),
        samples=None if x is None else int(len(x)), experts=experts, shared_expert=shared, router=router_report,
        reference=("float reference" if reference is not None else
                   (f"simulated {quantize}" if x is not None and quantize and kinds == {"network"} else None)),
        output_sqnr_db=output_sqnr, notes=notes,
    )


# ---- public ----


def analyze(
    model: Network | FixedNetwork | Router | MixtureOfExperts,
    data: Any = None,
    *,
    bins: int = 32,
    quantize: str | None = "q8",
    reference: Network | MixtureOfExperts | None = None,
) -> AnalysisReport:
    """Per-layer (and per-expert) anatomy of a model, and with ``data`` how it behaves.

    Static, for every model: shapes, parameters (weights and biases), MACs per sample (weights
    from non-bias neurons: the bias is an add), bytes as float32 and as stored, weight
    statistics and a histogram (Q8/Q16: over the stored integer codes), zero weights and the
    connections a sparse network leaves out.

    With ``data`` (inputs, an array (n, num_input) or a :class:`~kimi_fann.TrainingData`):
    each layer's output range, dead neurons (output constant over the data; needs two rows or
    more), saturated neurons (bounded activations within 2% of a limit for 95% of the rows),
    the router's load per expert and its balance, and SQNR per layer (see below). Experts of a
    mixture are measured on the inputs the router sends them.

    SQNR (``10 log10(signal power / error power)`` in dB, capped at +-200):

    - ``sqnr_db`` of a layer compares its outputs in fixed point with a float reference over
      ``data``. For a Q8/Q16 :class:`~kimi_fann.FixedNetwork` the fixed-point outputs are the
      integer engine's own (the network cut after that layer); the float reference is the
      ``reference`` network it was quantized from (a FixedNetwork does not keep its source).
      For a float :class:`~kimi_fann.Network`, analyze quantizes it itself on ``data``
      (``quantize="q8"``: int8 weights and activations; ``"q16"``: int16 weights and
      activations; None: skip) and reports what that precision gives. FANN fixed point: the
      stored weights run in float arithmetic against the reference (its engine's output error
      is in ``output_sqnr_db``).
    - ``weight_sqnr_db`` compares weights (biases excluded): for FANN fixed point the stored
      weights with the reference's; otherwise the float weights (the reference's for Q8/Q16)
      with the same weights rounded per output neuron to signed codes of the stored width (the
      ``quantize`` width for a float network), scale ``max|w| / (2^(bits-1) - 1)``.

    Parameters
    ----------
    model : Network, FixedNetwork, Router or MixtureOfExperts
    data : array_like or TrainingData, optional
    bins : int
        Histogram bins.
    quantize : {"q8", "q16", None}
        Precision simulated for float networks (and float experts).
    reference : Network or MixtureOfExperts, optional
        The float model a FixedNetwork (or a mixture of fixed-point experts) was made from.

    Returns
    -------
    AnalysisReport

    Raises
    ------
    ConfigError
        An unsupported model or option, a reference that does not match.
    ShapeError, NumericError
        ``data`` of the wrong width, or not finite.

    Examples
    --------
    >>> import numpy as np, kimi_fann as kf
    >>> from kimi_fann.analyzer import analyze
    >>> net = kf.Network([4, 8, 2], seed=0)
    >>> report = analyze(net)
    >>> [(l.parameters, l.macs) for l in report.layers], report.parameters
    ([(40, 32), (18, 16)], 58)
    >>> x = np.random.default_rng(0).uniform(-1, 1, (256, 4))
    >>> q16 = analyze(net.quantize(calibration=x, activation_bits=16), x, reference=net)
    >>> q8 = analyze(net.quantize(calibration=x), x, reference=net)
    >>> bool(q16.output_sqnr_db > q8.output_sqnr_db > 20)
    True
    """
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 1:
        raise ConfigError(f"bins must be a positive integer, got {bins!r}")
    if quantize not in ("q8", "q16", None):
        raise ConfigError(f"quantize must be 'q8', 'q16' or None, got {quantize!r}")
    bins = int(bins)
    if isinstance(model, MixtureOfExperts):
        return _analyze_mixture(model, _as_inputs(data, model.num_input), bins, quantize, reference)
    if isinstance(model, Router):
        if reference is not None:
            raise ConfigError("a Router has no reference model")
        router_report, _ = _analyze_router(model, _as_inputs(data, model.dim), bins)
        return AnalysisReport(
            model="router", inputs=model.dim, outputs=model.n_experts, parameters=router_report.parameters,
            macs=router_report.macs, float_bytes=router_report.float_bytes, stored_bytes=router_report.stored_bytes,
            samples=router_report.samples, router=router_report,
        )
    if not isinstance(model, (Network, FixedNetwork)):
        raise ConfigError(f"analyze takes a Network, FixedNetwork, Router or MixtureOfExperts, got {type(model).__name__}")
    x = _as_inputs(data, model.num_input)
    single = _single(model, x, bins, quantize, reference)
    return AnalysisReport(
        model=single.model, inputs=model.num_input, outputs=model.num_output,
        parameters=sum(l.parameters for l in single.layers), macs=sum(l.macs for l in single.layers),
        float_bytes=sum(l.float_bytes for l in single.layers),
        stored_bytes=sum(l.stored_bytes + l.overhead_bytes for l in single.layers),
        samples=None if x is None else int(len(x)), layers=single.layers, reference=single.reference,
        quantization=single.quantization, output_sqnr_db=single.output_sqnr_db, notes=single.notes,
    )
