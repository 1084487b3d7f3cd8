"""Static and data-driven analysis of kimi-fann models: sizes, costs, weights, activations,
quantization error and router balance."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import _core
from .._arrays import as_matrix
from ..data import TrainingData
from ..errors import ConfigError, KimiFannError
from ..fixed import FixedNetwork
from ..mixture import MixtureOfExperts
from ..network import ACTIVATIONS, Network
from ..quantize import _RANGES, build
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
    """A network as neurons and connections (float or FANN fixed point, in float units)."""

    layers: tuple[int, ...]  # neurons per layer, bias not counted
    starts: list[int]  # first neuron of each layer, and the total at the end
    src: np.ndarray
    dst: np.ndarray
    weights: np.ndarray  # float64
    activation: np.ndarray  # per neuron, index into ACTIVATIONS
    steepness: np.ndarray  # per neuron
    shortcut: bool

    def bias_neurons(self) -> set[int]:
        return {self.starts[i + 1] - 1 for i in range(len(self.layers))
                if self.starts[i + 1] - self.starts[i] == self.layers[i] + 1}

    def layer_mask(self, layer: int) -> np.ndarray:
        first = self.starts[layer]
        return (self.dst >= first) & (self.dst < first + self.layers[layer])

    def sources(self, layer: int) -> int:
        """Neurons a fully connected layer would read, bias included."""
        return self.starts[layer] if self.shortcut else self.starts[layer] - self.starts[layer - 1]

    def forward(self, x: np.ndarray) -> list[np.ndarray]:
        """Outputs of every layer after the input one, computed in float64 (activations in the
        core's float32 functions)."""
        values = np.zeros((len(x), self.starts[-1]))
        values[:, : self.layers[0]] = x
        for b in self.bias_neurons():
            values[:, b] = 1.0
        outs = []
        for layer in range(1, len(self.layers)):
            first, n_out = self.starts[layer], self.layers[layer]
            mask = self.layer_mask(layer)
            matrix = np.zeros((n_out, first))
            matrix[self.dst[mask] - first, self.src[mask]] = self.weights[mask]
            pre = (values[:, :first] @ matrix.T) * self.steepness[first : first + n_out]
            out = np.empty_like(pre)
            codes = self.activation[first : first + n_out]
            for code in np.unique(codes):
                cols = np.nonzero(codes == code)[0]
                block = np.ascontiguousarray(pre[:, cols], dtype=np.float32)
                _core.apply_activation(int(code), block.ravel())
                out[:, cols] = block
            values[:, first : first + n_out] = out
            outs.append(out)
        return outs


def _network_graph(net: Network) -> _Graph:
    src, dst, w = net.connections()
    layers = net.layers
    starts = list(net._net.layer_starts())
    n = net.total_neurons
    activation = np.zeros(n, dtype=np.int64)
    steepness = np.zeros(n)
    for layer in range(1, len(layers)):
        for k in range(layers[layer]):
            name, steep = net.get_activation(layer, k)
            activation[starts[layer] + k], steepness[starts[layer] + k] = ACTIVATIONS.index(name), steep
    return _Graph(layers, starts, src.astype(np.int64), dst.astype(np.int64), w.astype(np.float64),
                  activation, steepness, net.shortcut)


def _fann_fixed_graph(fixed: FixedNetwork) -> _Graph:
    """The FANN_FIX_2.0 text parsed back into neurons and connections, weights / multiplier."""
    text = fixed.to_fann_text().decode("ascii", "replace")
    fields = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    mult = float(fixed.multiplier)
    sizes = [int(v) for v in fields["layer_sizes"].split()]
    neuron_text = fields["neurons (num_inputs, activation_function, activation_steepness)"]
    neurons = [tuple(int(v) for v in m) for m in re.findall(r"\((-?\d+), (-?\d+), (-?\d+)\)", neuron_text)]
    cons = np.array(re.findall(r"\((-?\d+), (-?\d+)\)", fields["connections (connected_to_neuron, weight)"]),
                    dtype=np.int64).reshape(-1, 2)
    counts = np.array([nrn[0] for nrn in neurons], dtype=np.int64)
    dst = np.repeat(np.arange(len(neurons), dtype=np.int64), counts)
    layers = fixed.layers
    starts = [0, *np.cumsum(sizes).tolist()]
    shortcut = int(fields.get("network_type", "0")) == 1
    return _Graph(layers, starts, cons[:, 0], dst, cons[:, 1] / mult,
                  np.array([nrn[1] for nrn in neurons], dtype=np.int64),
                  np.array([nrn[2] for nrn in neurons], dtype=np.float64) / mult, shortcut)


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
        lo, hi = _RANGES[activation]
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
    bias = np.array(sorted(graph.bias_neurons()), dtype=np.int64)
    out = []
    for layer in range(1, len(graph.layers)):
        mask = graph.layer_mask(layer)
        first, n_out = graph.starts[layer], graph.layers[layer]
        w = graph.weights[mask]
        from_bias = np.isin(graph.src[mask], bias)
        params = int(mask.sum())
        macs = int((~from_bias).sum())
        possible = n_out * graph.sources(layer)
        real_w = w[~from_bias]
        wmin, wmax, wmean, wstd = _stats(real_w)
        counts, edges = _histogram(real_w, bins)
        zero = int((w == 0).sum())
        weight_sqnr = None
        if bits is not None and real_w.size:
            rows = graph.dst[mask][~from_bias]
            weight_sqnr = sqnr_db(real_w, _symmetric_rounding(real_w, rows, bits))
        out.append(LayerReport(
            layer=layer, inputs=graph.sources(layer) - (1 if not graph.shortcut else len(bias[bias < first])),
            outputs=n_out, activation=_activation_name(graph.activation[first : first + n_out]),
            parameters=params, macs=macs, possible_connections=possible, absent_connections=possible - params,
            zero_weights=zero, sparsity=(possible - params + zero) / possible if possible else 0.0, dtype=dtype,
            float_bytes=4 * params, stored_bytes=4 * params, overhead_bytes=0, weight_units="float",
            weight_min=wmin, weight_max=wmax, weight_mean=wmean, weight_std=wstd, clipped_weights=None,
            histogram_counts=counts, histogram_edges=edges, weight_sqnr_db=weight_sqnr,
        ))
    return out


def _table_bytes(knots: np.ndarray) -> int:
    lo, hi = (int(knots.min()), int(knots.max())) if knots.size else (0, 0)
    width = 1 if 0 <= lo and hi <= 255 else (2 if -32768 <= lo and hi <= 32767 else 4)
    return width * int(knots.size)


def _quantized_layers(fixed: FixedNetwork, bins: int) -> list[LayerReport]:
    state = fixed._state
    assert state is not None
    wbytes = 1 if state["weight_bits"] == 8 else 2
    qmax = 127 if state["weight_bits"] == 8 else 32767
    info = fixed.report.layers if fixed.report is not None else [{} for _ in state["layers"]]
    out = []
    for index, (layer_state, meta) in enumerate(zip(state["layers"], info)):
        w_q, b_q, mult, shift, _t0, _k, knots = layer_state[:7]
        n_out, n_in = w_q.shape
        params = n_out * (n_in + 1)
        codes = w_q.astype(np.int64).ravel()
        wmin, wmax, wmean, wstd = _stats(codes)
        counts, edges = _histogram(codes, bins)
        out.append(LayerReport(
            layer=index + 1, inputs=int(n_in), outputs=int(n_out), activation=str(meta.get("activation", "unknown")),
            parameters=params, macs=int(n_out * n_in), possible_connections=params, absent_connections=0,
            zero_weights=int((codes == 0).sum() + (b_q == 0).sum()),
            sparsity=float(((codes == 0).sum() + (b_q == 0).sum()) / params),
            dtype="int8" if wbytes == 1 else "int16", float_bytes=4 * params,
            stored_bytes=wbytes * codes.size + 4 * n_out,
            overhead_bytes=int(mult.nbytes + shift.nbytes + _table_bytes(knots)), weight_units="integer",
            weight_min=wmin, weight_max=wmax, weight_mean=wmean, weight_std=wstd,
            clipped_weights=int((np.abs(codes) >= qmax).sum()), histogram_counts=counts, histogram_edges=edges,
        ))
    return out


def _quantized_layer_outputs(fixed: FixedNetwork, x: np.ndarray) -> list[np.ndarray] | None:
    """Each layer's dequantized outputs from the integer engine itself: the network cut after
    each layer, with that layer's output quantization (needs the quantizer's report)."""
    state, report = fixed._state, fixed.report
    if state is None or report is None or len(report.layers) != len(state["layers"]):
        return None
    outs = []
    for index in range(len(state["layers"])):
        meta = report.layers[index]
        cut = dict(state, layers=list(state["layers"][: index + 1]), output_scale=float(meta["output_scale"]),
                   output_zero=int(meta["output_zero"]))
        qnet = build(cut)
        y = np.empty((len(x), int(state["layers"][index][0].shape[0])), dtype=np.float32)
        qnet.run(np.ascontiguousarray(x, dtype=np.float32), y)
        outs.append(y.astype(np.float64))
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
    if fixed.format == "fann":
        graph = _fann_fixed_graph(fixed)
        layers = _graph_layers(graph, "fann_fixed", bins, None)
        if ref_graph is not None:
            same = ref_graph.src.shape == graph.src.shape and np.array_equal(ref_graph.src, graph.src) \
                and np.array_equal(ref_graph.dst, graph.dst)
            if same:
                for report, layer in zip(layers, range(1, len(graph.layers))):
                    mask = graph.layer_mask(layer)
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

    layers = _quantized_layers(fixed, bins)
    if ref_graph is not None:
        wbits = int(fixed._state["weight_bits"])  # type: ignore[index]
        for report, layer in zip(layers, range(1, len(ref_graph.layers))):
            mask = ref_graph.layer_mask(layer)
            real = ~np.isin(ref_graph.src[mask], list(ref_graph.bias_neurons()))
            w = ref_graph.weights[mask][real]
            if w.size:
                report.weight_sqnr_db = sqnr_db(w, _symmetric_rounding(w, ref_graph.dst[mask][real], wbits))
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
