"""Reports of the analyzer: plain dataclasses that serialise to JSON and back.

Every report has a ``kind`` (``"analysis"``, ``"profile"`` or ``"distillation"``) and the
``kimi_fann_version`` that wrote it. :meth:`~AnalysisReport.to_json` writes standard JSON (no
NaN or infinity); :func:`load_report` reads it back into the same dataclasses, choosing the
class by ``kind``; :func:`report_schema` returns the JSON Schema (Draft 2020-12) that the JSON
of every report satisfies, shipped in the package as ``report.schema.json``.

Examples
--------
>>> from kimi_fann.analyzer.report import BatchTiming, ProfileReport, load_report
>>> timing = BatchTiming(batch_size=16, repeats=3, mean_us=2.0, min_us=1.5, p50_us=2.0,
...                      p90_us=2.4, p99_us=2.5, max_us=2.5, samples_per_second=8e6)
>>> report = ProfileReport(model="network", inputs=4, outputs=2, simd="scalar", threads=None,
...                        warmup=1, model_bytes=160, kfn_bytes=512, peak_python_bytes=1024,
...                        scratch_bytes=None, timings=[timing])
>>> report.kind, load_report(report.to_json()) == report
('profile', True)
"""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import types
import typing
from dataclasses import dataclass, field
from typing import Any, ClassVar, Union

from .._version import __version__
from ..errors import FileError, FormatError

__all__ = [
    "AnalysisReport",
    "LayerReport",
    "ExpertReport",
    "RouterReport",
    "ProfileReport",
    "BatchTiming",
    "DistillationReport",
    "DistillationEpoch",
    "load_report",
    "report_schema",
]

SCHEMA_FILE = "report.schema.json"


def _plain(value: Any) -> Any:
    """value with dataclasses, tuples and numpy scalars/arrays turned into JSON types."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return value.to_dict() if isinstance(value, _Report) else {
            f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):  # numpy scalar or array
        return _plain(value.tolist())
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return value
    raise TypeError(f"cannot put a {type(value).__name__} into a report")


class _Part:
    """JSON conversion shared by every report dataclass and its parts."""

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready builtins (dicts, lists, str, int, float, bool, None)."""
        out: dict[str, Any] = {}
        kind = getattr(type(self), "kind", None)
        if isinstance(kind, str):
            out["kind"] = kind
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            out[f.name] = _plain(getattr(self, f.name))
        return out

    def to_json(self, indent: int | None = 2) -> str:
        """The report as JSON text (standard JSON: a NaN or infinity raises ValueError)."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Any:
        """The dataclass for a dict made by :meth:`to_dict` (unknown keys are ignored)."""
        return _build(cls, data, cls.__name__)


class _Report(_Part):
    """A top-level report: has a ``kind`` and the version of kimi-fann that wrote it."""

    kind: ClassVar[str] = ""

    def save(self, path: str | os.PathLike[str], *, indent: int | None = 2) -> None:
        """Write the report's JSON to path (UTF-8)."""
        pathlib.Path(path).write_text(self.to_json(indent=indent) + "\n", encoding="utf-8")


# ---- parts ----


@dataclass
class LayerReport(_Part):
    """One layer of weights: the connections into a hidden or output layer.

    Attributes
    ----------
    layer : int
        FANN layer number of the neurons fed (1 is the first hidden layer).
    inputs, outputs : int
        Neurons read (bias neurons not counted; every earlier layer for shortcut networks) and
        neurons fed.
    activation : str
        The layer's activation function, or ``"mixed"``.
    parameters : int
        Connections present, bias connections included (``outputs * (inputs + 1)`` when dense).
    macs : int
        Multiply-accumulates per sample: connections from non-bias neurons.
    possible_connections, absent_connections, zero_weights : int
        Connections of a fully connected layer, those a sparse network leaves out, and present
        connections whose weight is exactly zero.
    sparsity : float
        ``(absent_connections + zero_weights) / possible_connections``.
    dtype : str
        How weights are stored: ``"float32"``, ``"int8"``, ``"int16"`` or ``"fann_fixed"``.
    float_bytes, stored_bytes : int
        Weights and biases as float32, and as stored (int8 / int16 weights with int32 biases,
        four bytes a value for FANN fixed point).
    overhead_bytes : int
        Other per-layer arrays (Q8/Q16: requantization multipliers and shifts, activation table).
    weight_units : str
        ``"float"``, or ``"integer"`` for Q8/Q16 layers, whose statistics are over the stored
        integer codes (the float scales are folded into the requantization).
    weight_min, weight_max, weight_mean, weight_std : float
        Over the weights from non-bias neurons (biases are excluded: in Q8/Q16 they are int32
        accumulator offsets on another scale).
    clipped_weights : int or None
        Q8/Q16: weights at the largest code (+-127 or +-32767), else None.
    histogram_counts, histogram_edges : list
        Histogram of the same weights (``len(edges) == len(counts) + 1``).
    activation_min, activation_max : float or None
        Range of the layer's outputs over the data (None without data).
    dead_neurons : list of int or None
        Neurons (index in the layer) whose output is constant over the data.
    saturated_neurons : list of int or None
        Neurons with a bounded activation whose output lies within 2% of the output span of a
        limit for at least 95% of the samples.
    sqnr_db : float or None
        Signal-to-quantization-noise ratio of the layer's outputs, fixed point against the float
        reference, over the data: ``10 log10(sum(ref^2) / sum((fixed - ref)^2))``, capped at
        200 dB.
    weight_sqnr_db : float or None
        The same ratio for the weights (see :func:`~kimi_fann.analyzer.analyze`).

    Examples
    --------
    >>> import kimi_fann as kf
    >>> from kimi_fann.analyzer import analyze
    >>> layer = analyze(kf.Network([3, 4, 1], seed=0)).layers[0]
    >>> layer.layer, layer.inputs, layer.outputs, layer.parameters, layer.dtype
    (1, 3, 4, 16, 'float32')
    """

    layer: int
    inputs: int
    outputs: int
    activation: str
    parameters: int
    macs: int
    possible_connections: int
    absent_connections: int
    zero_weights: int
    sparsity: float
    dtype: str
    float_bytes: int
    stored_bytes: int
    overhead_bytes: int
    weight_units: str
    weight_min: float
    weight_max: float
    weight_mean: float
    weight_std: float
    clipped_weights: int | None
    histogram_counts: list[int]
    histogram_edges: list[float]
    activation_min: float | None = None
    activation_max: float | None = None
    dead_neurons: list[int] | None = None
    saturated_neurons: list[int] | None = None
    sqnr_db: float | None = None
    weight_sqnr_db: float | None = None


@dataclass
class RouterReport(_Part):
    """The router: its gates and, with data, how evenly it spreads the load.

    Attributes
    ----------
    n_experts, dim, top_k : int
    scoring : str
        ``"softmax"`` or ``"sigmoid"``.
    gate_bits : int
        32 (float gates), 16 or 8.
    parameters : int
        Gate weights plus the selection bias when there is one.
    macs : int
        Multiply-accumulates per sample (``n_experts * dim``).
    float_bytes, stored_bytes : int
        Gates (and bias) as float32, and as the core holds them (int8/int16 gates with a float32
        scale per row when quantized).
    weight_min, weight_max, weight_mean, weight_std : float
        Over the float gate matrix.
    histogram_counts, histogram_edges : list
        Histogram of the gate matrix.
    samples : int or None
        Rows of data routed.
    load : list of int or None
        Times each expert was among an input's top_k.
    load_fraction : list of float or None
        ``load / (samples * top_k)``.
    entropy : float or None
        Entropy of the load distribution divided by ``log(n_experts)``: 1 when perfectly even,
        0 when one expert takes everything (1 when there is a single expert).
    max_mean_ratio : float or None
        Largest load over the mean load (1 when even, up to ``n_experts / top_k``).
    unused_experts : list of int or None
        Experts never chosen.

    Examples
    --------
    >>> import numpy as np, kimi_fann as kf
    >>> from kimi_fann.analyzer import analyze
    >>> router = kf.Router(np.eye(4), top_k=2)
    >>> report = analyze(router, np.eye(4, dtype=np.float32)).router
    >>> report.n_experts, report.top_k, report.load
    (4, 2, [4, 2, 1, 1])
    """

    n_experts: int
    dim: int
    top_k: int
    scoring: str
    gate_bits: int
    parameters: int
    macs: int
    float_bytes: int
    stored_bytes: int
    weight_min: float
    weight_max: float
    weight_mean: float
    weight_std: float
    histogram_counts: list[int]
    histogram_edges: list[float]
    samples: int | None = None
    load: list[int] | None = None
    load_fraction: list[float] | None = None
    entropy: float | None = None
    max_mean_ratio: float | None = None
    unused_experts: list[int] | None = None


@dataclass
class ExpertReport(_Part):
    """One expert of a mixture (or its shared expert, ``index == -1``).

    Attributes
    ----------
    index : int
        Position among the router's experts; -1 for the shared expert.
    domain : str
    model : str
        ``"network"``, ``"q8"`` or ``"q16"``.
    parameters, macs, float_bytes, stored_bytes : int
        Sums over the layers.
    layers : list of LayerReport
        With data, the activation statistics are over the inputs the router sends to this
        expert (all inputs for the shared expert).
    samples : int or None
        Inputs routed to this expert.

    Examples
    --------
    >>> import numpy as np, kimi_fann as kf
    >>> from kimi_fann.analyzer import analyze
    >>> experts = [kf.Network([4, 3, 2], seed=i) for i in range(4)]
    >>> mixture = kf.MixtureOfExperts(kf.Router(np.eye(4), top_k=2), experts)
    >>> first = analyze(mixture).experts[0]
    >>> first.index, first.model, first.parameters, len(first.layers)
    (0, 'network', 23, 2)
    """

    index: int
    domain: str
    model: str
    parameters: int
    macs: int
    float_bytes: int
    stored_bytes: int
    layers: list[LayerReport]
    samples: int | None = None


@dataclass
class BatchTiming(_Part):
    """Latency of one ``run`` call on a batch, over ``repeats`` calls after the warm-up.

    Attributes
    ----------
    batch_size, repeats : int
    mean_us, min_us, p50_us, p90_us, p99_us, max_us : float
        Microseconds per call (the whole batch); percentiles by linear interpolation.
    samples_per_second : float
        ``batch_size`` divided by the median call time.

    Examples
    --------
    >>> import kimi_fann as kf
    >>> from kimi_fann.analyzer import profile
    >>> timing = profile(kf.Network([3, 4, 1], seed=0), [1, 8], repeats=5).timings[1]
    >>> timing.batch_size, timing.repeats, timing.min_us <= timing.p50_us <= timing.max_us
    (8, 5, True)
    """

    batch_size: int
    repeats: int
    mean_us: float
    min_us: float
    p50_us: float
    p90_us: float
    p99_us: float
    max_us: float
    samples_per_second: float


@dataclass
class DistillationEpoch(_Part):
    """One point of a training curve.

    Attributes
    ----------
    expert : int or None
        The expert trained (None for a single student).
    epoch : int
    loss : float
        The epoch's training MSE.
    agreement : float or None
        Agreement with the teacher on held-out inputs routed to this expert, when measured.

    Examples
    --------
    >>> import numpy as np
    >>> from kimi_fann.analyzer import distill
    >>> X = np.random.default_rng(0).uniform(-1, 1, size=(200, 2)).astype(np.float32)
    >>> _, report = distill(lambda x: np.c_[x[:, :1] > 0, x[:, :1] <= 0] * 1.0, X, hidden=4, max_epochs=5)
    >>> point = report.history[-1]
    >>> point.expert is None, point.epoch, point.loss < 0.3
    (True, 5, True)
    """

    expert: int | None
    epoch: int
    loss: float
    agreement: float | None = None


# ---- reports ----


@dataclass
class AnalysisReport(_Report):
    """What :func:`~kimi_fann.analyzer.analyze` found in a model.

    Attributes
    ----------
    model : str
        ``"network"``, ``"fann_fixed"``, ``"q8"``, ``"q16"``, ``"router"`` or ``"mixture"``.
    inputs, outputs : int
    parameters, macs : int
        Per sample, over the whole model (a mixture counts every expert's parameters, but the
        MACs of the router, the top_k heaviest experts and the shared expert).
    float_bytes, stored_bytes : int
        Parameters as float32, and as stored (layers' ``stored_bytes + overhead_bytes``).
    samples : int or None
        Rows of data analysed.
    layers : list of LayerReport
        Networks and fixed-point networks (empty for routers and mixtures).
    experts : list of ExpertReport
        Mixtures.
    shared_expert : ExpertReport or None
    router : RouterReport or None
        Routers and mixtures.
    reference : str or None
        What the SQNR figures compare against: ``"float reference"`` (a float network given or
        known), ``"simulated q8"`` / ``"simulated q16"`` (a float network quantized by
        analyze on the data), or None.
    quantization : dict or None
        The quantizer's own measurements (Q8/Q16): activation_bits, weight_bits,
        max_abs_error, mean_abs_error, accumulator_headroom.
    output_sqnr_db : float or None
        SQNR of the model's outputs against the reference, over the data.
    notes : list of str
        Why something could not be measured.
    kimi_fann_version : str

    Examples
    --------
    >>> import kimi_fann as kf
    >>> from kimi_fann.analyzer import analyze
    >>> report = analyze(kf.Network([3, 4, 1], seed=0))
    >>> report.model, report.parameters, report.macs, len(report.layers)
    ('network', 21, 16, 2)
    """

    kind: ClassVar[str] = "analysis"

    model: str
    inputs: int
    outputs: int
    parameters: int
    macs: int
    float_bytes: int
    stored_bytes: int
    samples: int | None = None
    layers: list[LayerReport] = field(default_factory=list)
    experts: list[ExpertReport] = field(default_factory=list)
    shared_expert: ExpertReport | None = None
    router: RouterReport | None = None
    reference: str | None = None
    quantization: dict[str, Any] | None = None
    output_sqnr_db: float | None = None
    notes: list[str] = field(default_factory=list)
    kimi_fann_version: str = __version__


@dataclass
class ProfileReport(_Report):
    """What :func:`~kimi_fann.analyzer.profile` measured.

    Attributes
    ----------
    model : str
        As in :class:`AnalysisReport`.
    inputs, outputs : int
    simd : str
        The SIMD path of the integer kernels (:func:`kimi_fann.simd_path`, or the forced one).
    threads : int or None
        Threads asked for (None: the library's default split).
    warmup : int
        Untimed calls before each batch size's measurements.
    model_bytes : int
        Bytes of the model's parameter arrays as held in memory.
    kfn_bytes : int
        Size of the model's uncompressed ``.kfn`` file.
    peak_python_bytes : int
        Peak of Python-side allocations (tracemalloc) during one call on the largest batch:
        input conversion and the output array. The C core's per-call scratch is not visible to
        tracemalloc.
    scratch_bytes : int or None
        The C core's scratch per call when the binding exposes it (it does not yet: None).
    timings : list of BatchTiming
        One per batch size, in the order given.
    machine, python, numpy : str
        Where the numbers were taken.
    cpu_count : int or None

    Examples
    --------
    >>> import kimi_fann as kf
    >>> from kimi_fann.analyzer import profile
    >>> report = profile(kf.Network([3, 4, 1], seed=0), [1, 8], repeats=5)
    >>> [t.batch_size for t in report.timings]
    [1, 8]
    """

    kind: ClassVar[str] = "profile"

    model: str
    inputs: int
    outputs: int
    simd: str
    threads: int | None
    warmup: int
    model_bytes: int
    kfn_bytes: int
    peak_python_bytes: int
    scratch_bytes: int | None
    timings: list[BatchTiming]
    machine: str = ""
    python: str = ""
    numpy: str = ""
    cpu_count: int | None = None
    kimi_fann_version: str = __version__


@dataclass
class DistillationReport(_Report):
    """Fidelity of a distilled student (:func:`~kimi_fann.analyzer.distill`).

    Agreement is top-1 agreement for classification and the fraction of held-out outputs
    within tolerance of the teacher's for regression; all figures are on held-out inputs.

    Attributes
    ----------
    teacher : str
        Description of the teacher.
    task : str
        ``"classification"`` or ``"regression"``.
    teacher_parameters : int or None
        None when the teacher's size cannot be counted.
    student_parameters : int
    parameter_ratio : float or None
        ``teacher_parameters / student_parameters``.
    n_experts, top_k : int
    domains : list of str
    temperature : float
    precision : str
        ``"float"``, ``"q8"`` or ``"q16"``.
    held_out : int
        Held-out inputs.
    agreement : float
        Float student against the teacher.
    fixed_agreement, float_fixed_agreement : float or None
        Quantized student against the teacher and against the float student.
    mean_abs_error, max_abs_error : float
        Float student's outputs against the teacher's.
    fixed_max_abs_error : float or None
    teacher_accuracy, student_accuracy : float or None
        When labels are known: the teacher's and the final (quantized) student's accuracy.
    float_bytes : int
        Student parameters as float32.
    file_bytes : int
        The size of its ``.kfn`` file with lossless deflate, as ``kimi-fann distill`` writes it
        (header and activation tables included; the analysis's ``stored_bytes`` count the
        weights alone).
    latency_us : float
        Median time of one single-sample call.
    throughput : float
        Samples per second on a large batch.
    router_load : list of int or None
        Held-out selections per expert (mixtures).
    history : list of DistillationEpoch
    analysis : AnalysisReport or None
    float_accuracy : float or None
        The float student's accuracy, when labels are known.

    Examples
    --------
    >>> import numpy as np
    >>> from kimi_fann.analyzer import distill
    >>> X = np.random.default_rng(0).uniform(-1, 1, size=(200, 2)).astype(np.float32)
    >>> student, report = distill(lambda x: np.c_[x[:, :1] > 0, x[:, :1] <= 0] * 1.0, X, hidden=4, max_epochs=5)
    >>> report.precision, len(report.history)
    ('q8', 5)
    """

    kind: ClassVar[str] = "distillation"
    renamed: ClassVar[dict[str, str]] = {"stored_bytes": "file_bytes"}  # the name in earlier reports

    teacher: str
    task: str
    teacher_parameters: int | None
    student_parameters: int
    parameter_ratio: float | None
    n_experts: int
    domains: list[str]
    top_k: int
    temperature: float
    precision: str
    held_out: int
    agreement: float
    fixed_agreement: float | None
    float_fixed_agreement: float | None
    mean_abs_error: float
    max_abs_error: float
    fixed_max_abs_error: float | None
    teacher_accuracy: float | None
    student_accuracy: float | None
    float_bytes: int
    file_bytes: int
    latency_us: float
    throughput: float
    router_load: list[int] | None
    history: list[DistillationEpoch]
    analysis: AnalysisReport | None = None
    float_accuracy: float | None = None
    kimi_fann_version: str = __version__


_KINDS: dict[str, type[_Report]] = {cls.kind: cls for cls in (AnalysisReport, ProfileReport, DistillationReport)}
Report = AnalysisReport | ProfileReport | DistillationReport


# ---- reading ----


def _build(tp: Any, value: Any, where: str) -> Any:
    """value (parsed JSON) converted to the annotated type tp, or FormatError naming where."""
    origin = typing.get_origin(tp)
    if origin is Union or origin is types.UnionType:
        args = typing.get_args(tp)
        if value is None:
            if type(None) in args:
                return None
            raise FormatError(f"{where} must not be null")
        inner = [a for a in args if a is not type(None)]
        return _build(inner[0], value, where)
    if origin is list:
        if not isinstance(value, list):
            raise FormatError(f"{where} must be a list, got {type(value).__name__}")
        (item,) = typing.get_args(tp)
        return [_build(item, v, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise FormatError(f"{where} must be an object, got {type(value).__name__}")
        return dict(value)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise FormatError(f"{where} must be an object, got {type(value).__name__}")
        for before, now in getattr(tp, "renamed", {}).items():  # older files still load
            if before in value and now not in value:
                value = {**value, now: value[before]}
        hints = typing.get_type_hints(tp)
        kwargs = {}
        for f in dataclasses.fields(tp):
            if f.name not in value:
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                    raise FormatError(f"{where} has no {f.name!r}")
                continue
            kwargs[f.name] = _build(hints[f.name], value[f.name], f"{where}.{f.name}")
        return tp(**kwargs)
    if tp is Any:
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise FormatError(f"{where} must be a number, got {value!r}")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise FormatError(f"{where} must be an integer, got {value!r}")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise FormatError(f"{where} must be a string, got {value!r}")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise FormatError(f"{where} must be true or false, got {value!r}")
        return value
    raise TypeError(f"unsupported annotation {tp!r} at {where}")  # a bug in this module


def load_report(source: str | os.PathLike[str] | dict[str, Any]) -> Report:
    """Read a report written by ``to_json`` (or ``save``): a path, JSON text or a dict.

    Parameters
    ----------
    source : str, os.PathLike or dict
        A path to a JSON file, the JSON text itself (starting with ``{``), or the parsed dict.

    Returns
    -------
    AnalysisReport, ProfileReport or DistillationReport
        The class named by the ``kind`` field.

    Raises
    ------
    FormatError
        If the JSON is not a report (the message names the first wrong field).
    FileError
        If the path cannot be read.

    Examples
    --------
    >>> import kimi_fann as kf
    >>> from kimi_fann.analyzer import analyze, load_report
    >>> report = analyze(kf.Network([3, 4, 1], seed=0))
    >>> again = load_report(report.to_json())
    >>> type(again).__name__, again == report
    ('AnalysisReport', True)
    """
    if isinstance(source, dict):
        data, where = source, "report"
    else:
        text: str
        where = "report"
        if isinstance(source, os.PathLike) or (isinstance(source, str) and not source.lstrip().startswith("{")):
            path = pathlib.Path(source)
            try:
                text, where = path.read_text(encoding="utf-8"), os.fspath(path)
            except (OSError, UnicodeDecodeError) as exc:
                raise FileError(f"cannot read the report {os.fspath(path)!r}: {exc}") from exc
        else:
            text = source
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FormatError(f"{where}: not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise FormatError(f"{where}: a report is a JSON object, got {type(data).__name__}")
    kind = data.get("kind")
    if kind not in _KINDS:
        raise FormatError(f"{where}: 'kind' must be one of {', '.join(sorted(_KINDS))}, got {kind!r}")
    return _build(_KINDS[kind], data, where)


def report_schema() -> dict[str, Any]:
    """The JSON Schema (Draft 2020-12) of every report's JSON, one ``$defs`` entry per kind.

    Returns
    -------
    dict
        The schema (shipped with the package as ``report.schema.json``), ready for
        ``jsonschema.validate``.

    Examples
    --------
    >>> from kimi_fann.analyzer import report_schema
    >>> schema = report_schema()
    >>> schema["$schema"]
    'https://json-schema.org/draft/2020-12/schema'
    >>> sorted(schema["$defs"])[:3]
    ['AnalysisReport', 'BatchTiming', 'DistillationEpoch']
    """
    text = pathlib.Path(__file__).with_name(SCHEMA_FILE).read_text(encoding="utf-8")
    return json.loads(text)
