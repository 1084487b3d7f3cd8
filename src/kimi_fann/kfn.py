"""The .kfn container: any kimi-fann model in one file.

Layout: ``KFN\\0``, version (major, minor: two little-endian uint16), flags, the header's
length and CRC-32 (three uint32), the header (UTF-8 JSON: model kind and description, creation
info, and a table of sections; deflated, and flag bit 0 set, whenever that is smaller), padding
to 64 bytes, then the sections. Each section is one array at ``offset`` bytes after the header
block (64-byte aligned when raw), protected by its own CRC-32, and stored

- ``raw``: little-endian values, usable in place (numpy views of the file's bytes);
- ``deflate``: the same bytes, deflated;
- ``quantized`` (float weights, when saving with ``compress="q8"`` or ``"q4"``): values in
  groups of ``group`` with a float16 scale each, as 8- or 4-bit codes, optionally with the
  smallest weights pruned to zero first, all deflated. Lossy; the rest of the file is not.

Reading checks every size, offset, CRC and decompressed length before using it, and the C core
checks the model itself: a damaged or hostile file raises FormatError.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from typing import Any

import numpy as np

from . import _compress
from ._compress import CompressionReport
from ._core import CONSTANTS
from ._io import PathLike, read_bytes, register_container, write_atomic
from ._kfn_sections import SectionReader as _Reader
from ._kfn_sections import SectionWriter as _Writer
from .descriptions import ACTIVATIONS, QuantizationReport, QuantizedLayer, QuantizedSpec, Topology
from .errors import ConfigError, FormatError, KimiFannError
from .fixed import FannFixedNetwork, FixedNetwork, QuantizedNetwork
from .mixture import MixtureOfExperts
from .network import Network
from .router import Router

__all__ = ["save", "load", "dumps", "loads", "dumps_bounded", "CompressionReport"]

_COMPRESS = (None, "deflate", "q8", "q4")
# The layout of a quantized network's sections. 1: knots always int32 (Q8 files held direct
# tables of 4097 to 65537 outputs). 2: knots in the narrowest integer type that holds them
# (uint16 for the interpolated Q8 tables of 65 to 1025 knots). Both are read.
QUANTIZED_VERSION = 2
ACTIVATION_INDEX = {name: i for i, name in enumerate(ACTIVATIONS)}
_MAX_LAYERS = CONSTANTS["KF_MAX_LAYERS"]
_MAX_NEURONS = CONSTANTS["KF_MAX_NEURONS"]
_MAX_CONNECTIONS = CONSTANTS["KF_MAX_CONNECTIONS"]
_MAX_EXPERTS = CONSTANTS["KF_MAX_EXPERTS"]
_INT32 = (-(1 << 31), (1 << 31) - 1)


# ---- models ----


def _network_to(w: _Writer, p: str, net: Network) -> dict[str, Any]:
    topology = net.topology
    full = topology.is_fully_connected
    w.array(p + "layer_start", topology.layer_starts)
    if not full:  # a fully connected network's connections follow from its layer sizes
        w.array(p + "con_start", topology.connection_starts)
        w.array(p + "con_src", topology.sources)
    w.array(p + "weights", net.weights, lossy=True)
    w.array(p + "activation", topology.activations)
    w.array(p + "steepness", topology.steepnesses)
    scaling = net.scaling_parameters()
    if scaling is not None:
        w.array(p + "scaling", scaling)
    # Only the training parameters that differ from FANN's defaults (the header stays small).
    defaults = Network([1, 1])
    default_params = defaults.training_parameters()
    params = {name: value for name, value in net.training_parameters().items() if value != default_params[name]}
    meta: dict[str, Any] = {"type": "network", "shortcut": topology.shortcut, "connection_rate": net.connection_rate,
                            "connections": "full" if full else "listed", "params": params,
                            "scaling": scaling is not None}
    cascade = (net.cascade_activation_functions, net.cascade_activation_steepnesses)
    if cascade != (defaults.cascade_activation_functions, defaults.cascade_activation_steepnesses):
        meta["cascade"] = {"functions": [ACTIVATION_INDEX[f] for f in cascade[0]], "steepnesses": list(cascade[1])}
    return meta


def _full_connections(starts: np.ndarray, shortcut: bool) -> int:
    """Connections of the fully connected network with these layer starts (kf_structure_full's
    count), computed before anything of that size exists."""
    total = 0
    for l in range(1, len(starts) - 1):
        real = max(int(starts[l + 1] - starts[l]) - (0 if shortcut else 1), 0)
        total += real * int(starts[l] if shortcut else starts[l] - starts[l - 1])
    return total


def _network_from(r: _Reader, p: str, meta: dict[str, Any]) -> Network:
    where = f"network {p or 'at the top'}: "
    shortcut = meta.get("shortcut")
    if not isinstance(shortcut, bool):
        raise r.error(f"{where}shortcut is {str(shortcut)[:40]}; expected true or false")
    rate = r.number(meta, "connection_rate", where, 0.0, 1.0)
    declared = r.shape(p + "layer_start")
    if len(declared) != 1 or not 3 <= declared[0] <= _MAX_LAYERS + 1:
        raise r.error(f"{where}layer starts of shape {list(declared)}; a network has 2 to {_MAX_LAYERS} layers")
    starts = r.array(p + "layer_start").astype(np.int64)
    neurons = int(starts[-1])
    if starts[0] != 0 or np.any(np.diff(starts) < 1) or neurons > _MAX_NEURONS:
        raise r.error(f"{where}layer starts {starts.tolist()[:8]} are not increasing from 0 to at most "
                      f"{_MAX_NEURONS} neurons (the limit)")
    if meta.get("connections") == "full":
        connections = _full_connections(starts, shortcut)
        if connections > _MAX_CONNECTIONS:
            raise r.error(f"{where}the layers declare {connections} connections; the limit is {_MAX_CONNECTIONS}")
        weights = r.array(p + "weights", (connections,))
        activation, steepness = r.array(p + "activation", (neurons,)), r.array(p + "steepness", (neurons,))
        try:
            topology = Topology.fully_connected(starts.astype(np.uint32), activation, steepness, shortcut=shortcut)
        except KimiFannError:
            raise r.error(f"section {p}layer_start is not a list of layer boundaries") from None
    else:
        con_start = r.array(p + "con_start", (neurons + 1,))
        sources = r.shape(p + "con_src")
        if len(sources) != 1 or sources[0] > _MAX_CONNECTIONS:
            raise r.error(f"{where}con_src has shape {list(sources)}; at most {_MAX_CONNECTIONS} connections")
        con_src = r.array(p + "con_src")
        weights = r.array(p + "weights", sources)
        activation, steepness = r.array(p + "activation", (neurons,)), r.array(p + "steepness", (neurons,))
        topology = Topology(starts.astype(np.uint32), con_start, con_src, activation, steepness, shortcut=shortcut)
    topology = dataclasses.replace(topology, connection_rate=rate)
    net = Network.from_topology(topology, weights, scaling=r.array(p + "scaling") if meta.get("scaling") else None,
                                source=r.source)
    params = meta.get("params", {})
    if not isinstance(params, dict):
        raise r.error(f"{where}params is not a mapping of names to numbers")
    net.set_training_parameters({str(name): r.number(params, name, where + "params.") for name in params})
    if "cascade" in meta:
        cascade = meta["cascade"]
        functions, steepnesses = cascade["functions"], cascade["steepnesses"]
        limit = CONSTANTS["KF_MAX_CASCADE_LIST"]
        if not isinstance(functions, list) or not isinstance(steepnesses, list) \
                or len(functions) > limit or len(steepnesses) > limit:
            raise r.error(f"{where}the cascade lists are not lists of at most {limit} values")
        net.cascade_activation_functions = [
            ACTIVATIONS[r.integer({"f": f}, "f", 0, len(ACTIVATIONS) - 1, where + "cascade.")] for f in functions]
        net.cascade_activation_steepnesses = [r.number({"s": v}, "s", where + "cascade.") for v in steepnesses]
    return net


def _fixed_to(w: _Writer, p: str, fixed: FixedNetwork) -> dict[str, Any]:
    if isinstance(fixed, FannFixedNetwork):
        w.array(p + "fann", np.frombuffer(fixed.to_fann_text(), dtype=np.uint8))
        return {"type": "fann_fixed"}
    assert isinstance(fixed, QuantizedNetwork)
    spec = fixed.spec
    w.array(p + "input_inv_scale", spec.input_inv_scale)
    w.array(p + "input_zero", _narrowest(spec.input_zero))  # readers widen it to int32
    layers = []
    for i, layer in enumerate(spec.layers):
        w.array(f"{p}layer{i}.weights", layer.weights.astype(np.int8) if spec.weight_bits == 8 else layer.weights)
        w.array(f"{p}layer{i}.bias", layer.bias)
        w.array(f"{p}layer{i}.multiplier", layer.multiplier)
        w.array(f"{p}layer{i}.shift", layer.shift)
        w.array(f"{p}layer{i}.knots", _narrowest(layer.knots))
        info: dict[str, Any] = {"t0": layer.t0, "seg_shift": layer.seg_shift, "out_lo": layer.out_lo,
                                "out_hi": layer.out_hi, "activation": layer.activation}
        if layer.output_scale is not None:
            info.update(output_scale=layer.output_scale, output_zero=layer.output_zero)
        layers.append(info)
    meta = {"type": "quantized", "version": QUANTIZED_VERSION, "activation_bits": spec.activation_bits,
            "weight_bits": spec.weight_bits,
            "output_scale": spec.output_scale, "output_zero": spec.output_zero, "layers": layers,
            "report": None if fixed.report is None else dataclasses.asdict(fixed.report)}
    if spec.shortcut:  # written only when set: files of layered networks are as before
        meta["shortcut"] = True
    return meta


def _narrowest(values: np.ndarray) -> np.ndarray:
    """Integers in the narrowest of uint8, uint16, int16 and int32 that holds them all."""
    lo, hi = (int(values.min()), int(values.max())) if values.size else (0, 0)
    for dtype in (np.uint8, np.uint16, np.int16):
        info = np.iinfo(dtype)
        if info.min <= lo and hi <= info.max:
            return values.astype(dtype)
    return values.astype(np.int32)


def _fixed_from(r: _Reader, p: str, meta: dict[str, Any]) -> FixedNetwork:
    if meta["type"] == "fann_fixed":
        return FixedNetwork.from_fann_text(r.array(p + "fann").tobytes(), source=r.source)
    where = f"quantized network {p or 'at the top'}: "
    version = meta.get("version", 1)  # files before version 2 do not say
    if version not in (1, QUANTIZED_VERSION):
        raise r.error(f"{where}section version {version!r}; this kimi-fann reads 1 and {QUANTIZED_VERSION}")
    report = meta.get("report")
    report = None if report is None else QuantizationReport(**report)
    infos = meta["layers"]
    if not isinstance(infos, list) or not 1 <= len(infos) < _MAX_LAYERS:
        raise r.error(f"{where}layers is not a list of 1 to {_MAX_LAYERS - 1} layers")
    measured = report.layers if report is not None and len(report.layers) == len(infos) else None
    layers = []
    for i, info in enumerate(infos):
        if not isinstance(info, dict):
            raise r.error(f"{where}layer {i} is not described by a mapping")
        at = f"{where}layer {i}: "
        # Files written before the layers recorded their activation and output quantization
        # have them in the quantizer's report, when it was saved.
        known = {**(measured[i] if measured and isinstance(measured[i], dict) else {}), **info}
        output_scale = None if known.get("output_scale") is None else r.number(known, "output_scale", at)
        output_zero = None if known.get("output_zero") is None else r.integer(known, "output_zero", *_INT32, at)
        layers.append(QuantizedLayer(
            r.array(f"{p}layer{i}.weights"), r.array(f"{p}layer{i}.bias"), r.array(f"{p}layer{i}.multiplier"),
            r.array(f"{p}layer{i}.shift"), r.integer(info, "t0", *_INT32, at), r.integer(info, "seg_shift", 0, 63, at),
            r.array(f"{p}layer{i}.knots"), r.integer(info, "out_lo", *_INT32, at),
            r.integer(info, "out_hi", *_INT32, at), activation=str(known.get("activation", "unknown")),
            output_scale=output_scale, output_zero=output_zero))
    spec = QuantizedSpec(r.integer(meta, "activation_bits", 8, 16, where), r.integer(meta, "weight_bits", 8, 16, where),
                         r.array(p + "input_inv_scale"), r.array(p + "input_zero"),
                         r.number(meta, "output_scale", where), r.integer(meta, "output_zero", *_INT32, where),
                         tuple(layers), shortcut=bool(meta.get("shortcut", False)))
    return QuantizedNetwork(spec, report)


def _router_to(w: _Writer, p: str, router: Any) -> dict[str, Any]:
    w.array(p + "gates", router.gates, lossy=True)
    if router.bias is not None:
        w.array(p + "bias", router.bias)
    return {"type": "router", "top_k": router.top_k, "scoring": router.scoring, "scaling": router.scaling,
            "gate_bits": router.gate_bits}


def _router_from(r: _Reader, p: str, meta: dict[str, Any]) -> Router:
    where = f"router {p or 'at the top'}: "
    shape = r.shape(p + "gates")
    if len(shape) != 2 or not 1 <= shape[0] <= _MAX_EXPERTS or not 1 <= shape[1] <= _MAX_NEURONS:
        raise r.error(f"{where}gates of shape {list(shape)}; at most {_MAX_EXPERTS} experts of "
                      f"{_MAX_NEURONS} inputs")
    bias = r.array(p + "bias", shape[:1]) if r.has(p + "bias") else None
    return Router(r.array(p + "gates"), bias, top_k=r.integer(meta, "top_k", 1, CONSTANTS["KF_MAX_TOP_K"], where),
                  scoring=str(meta["scoring"]), scaling=r.number(meta, "scaling", where),
                  gate_bits=r.integer(meta, "gate_bits", 8, 32, where))


def _mixture_to(w: _Writer, p: str, moe: Any) -> dict[str, Any]:
    return {"type": "mixture", "domains": list(moe.domains), "router": _model_to(w, p + "router/", moe.router),
            "experts": [_model_to(w, f"{p}expert{i}/", e) for i, e in enumerate(moe.experts)],
            "shared": None if moe.shared_expert is None else _model_to(w, p + "shared/", moe.shared_expert)}


def _mixture_from(r: _Reader, p: str, meta: dict[str, Any]) -> MixtureOfExperts:
    experts, shared = meta["experts"], meta.get("shared")
    kinds = ("network", "quantized")  # a mixture's experts are networks: nesting stops here
    if not isinstance(experts, list) or not 1 <= len(experts) <= _MAX_EXPERTS:
        raise r.error(f"mixture {p or 'at the top'}: experts is not a list of 1 to {_MAX_EXPERTS} models")
    for i, m in enumerate(experts + [shared] * (shared is not None)):
        if not isinstance(m, dict) or m.get("type") not in kinds:
            raise r.error(f"mixture {p or 'at the top'}: expert {i} is a {str(m)[:40]}; expected network or "
                          "quantized there")
    router = _model_from(r, p + "router/", meta["router"], ("router",))
    if len(experts) != router.n_experts:
        raise r.error(f"mixture {p or 'at the top'}: the router chooses among {router.n_experts} experts; "
                      f"the file describes {len(experts)}")
    return MixtureOfExperts(router, [_model_from(r, f"{p}expert{i}/", m, kinds) for i, m in enumerate(experts)],
                            shared_expert=None if shared is None else _model_from(r, p + "shared/", shared, kinds),
                            domains=meta.get("domains"))


def _model_to(w: _Writer, p: str, model: Any) -> dict[str, Any]:
    for cls, write in ((Network, _network_to), (FixedNetwork, _fixed_to), (Router, _router_to),
                       (MixtureOfExperts, _mixture_to)):
        if isinstance(model, cls):
            return write(w, p, model)
    raise ConfigError(f"cannot save a {type(model).__name__}: expected a Network, FixedNetwork, Router or "
                      "MixtureOfExperts")


_READERS: dict[str, Callable[[_Reader, str, dict[str, Any]], Any]] = {
    "network": _network_from, "fann_fixed": _fixed_from, "quantized": _fixed_from, "router": _router_from,
    "mixture": _mixture_from,
}


def _model_from(r: _Reader, p: str, meta: Any, kinds: tuple[str, ...] = tuple(_READERS)) -> Any:
    if not isinstance(meta, dict) or meta.get("type") not in _READERS:
        raise r.error(f"unknown model description at {p or 'the top'}: {str(meta)[:80]}")
    if meta["type"] not in kinds:
        raise r.error(f"a {meta['type']} at {p}: expected {' or '.join(kinds)} there")
    try:
        return _READERS[meta["type"]](r, p, meta)
    except KimiFannError as exc:
        if isinstance(exc, FormatError):
            raise
        raise r.error(f"the model at {p or 'the top'} is invalid: {exc}") from None
    except (KeyError, TypeError, ValueError, IndexError, OverflowError, RecursionError) as exc:
        raise r.error(f"the model at {p or 'the top'} is described wrongly: {exc!r}"[:300]) from None


# ---- public ----


def _check_options(compress: Any, prune: Any, group: Any) -> None:
    if compress not in _COMPRESS:
        raise ConfigError(f"compress must be one of {_COMPRESS}, got {compress!r}")
    if not 0.0 <= prune < 1.0 or (prune and compress not in ("q8", "q4")):
        raise ConfigError("prune is a fraction in [0, 1), used with compress='q8' or 'q4'")
    if isinstance(group, bool) or not isinstance(group, int) or not 1 <= group <= 1 << 16:
        raise ConfigError(f"group must be an integer in [1, 65536], got {group!r}")


def _write(model: Any, compress: str | None, prune: float, group: int, level: float = 1.0) -> tuple[bytes, float]:
    """The file's bytes and the share of the lossy values kept exactly."""
    writer = _Writer(compress, prune, group, level)
    meta = _model_to(writer, "", model)
    return writer.finish(meta["type"], meta), writer.exact_values / max(writer.lossy_values, 1)


def dumps_bounded(model: Any, compress: str, *, prune: float = 0.0, group: int = 64, calibration: Any = None,
                  max_error: float | None = None, source: str = "<bytes>") -> tuple[bytes, CompressionReport]:
    """The lossy (q8/q4) .kfn bytes of a model, and what its compression changes.

    The model is compressed, read back and run on the calibration rows; if more than
    ``max_error`` of their predictions change, weights that dominate their group are kept
    exactly (the largest 1%, 3%, ... up to half), and if that does not help the model is refused.

    Parameters
    ----------
    model : Network, FixedNetwork, Router or MixtureOfExperts
    compress : {"q8", "q4"}
    prune, group, calibration, max_error :
        As for :func:`kimi_fann.save`.
    source : str
        Name used in error messages.

    Returns
    -------
    (bytes, CompressionReport)

    Raises
    ------
    ConfigError
        For a bad option, or if no compression of the model keeps within ``max_error``.

    Examples
    --------
    >>> import numpy as np, kimi_fann as kf
    >>> from kimi_fann import kfn
    >>> data, report = kfn.dumps_bounded(kf.Network([4, 8, 3], seed=0), "q4", calibration=np.eye(4))
    >>> report.compress, report.rows, report.changed <= report.max_error
    ('q4', 4, True)
    """
    _check_options(compress, prune, group)
    if compress not in ("q8", "q4"):
        raise ConfigError(f"dumps_bounded is for compress='q8' or 'q4', got {compress!r}")

    def attempt(level: float) -> tuple[bytes, Any, float]:
        data, fraction = _write(model, compress, prune, group, level)
        return data, loads(data, source=source), fraction

    return _compress.bounded(model, compress, group, calibration, max_error, attempt, source)


def dumps(model: Any, *, compress: str | None = None, prune: float = 0.0, group: int = 64,
          calibration: Any = None, max_error: float | None = None) -> bytes:
    """The .kfn bytes of a model; see :func:`kimi_fann.save`.

    Parameters
    ----------
    model : Network, FixedNetwork, Router or MixtureOfExperts
    compress : {None, "deflate", "q8", "q4"}
    prune, group, calibration, max_error :
        As for :func:`kimi_fann.save`.

    Returns
    -------
    bytes

    Raises
    ------
    ConfigError
        For another kind of object or a bad option, or a lossy compression beyond ``max_error``.

    Examples
    --------
    >>> import kimi_fann as kf
    >>> from kimi_fann import kfn
    >>> kfn.dumps(kf.Network([2, 1]))[:4]
    b'KFN\\x00'
    """
    if compress in ("q8", "q4"):
        return dumps_bounded(model, compress, prune=prune, group=group, calibration=calibration,
                             max_error=max_error)[0]
    _check_options(compress, prune, group)
    return _write(model, compress, prune, group)[0]


def loads(data: bytes, *, source: str = "<bytes>") -> Any:
    """The model in .kfn bytes; see :func:`kimi_fann.load`.

    Every size in the file is checked against the model limits and the file's own size before
    anything is allocated; the model gets arrays of its own (it keeps none of ``data`` alive).

    Parameters
    ----------
    data : bytes
    source : str
        Name used in error messages.

    Returns
    -------
    Network, FixedNetwork, Router or MixtureOfExperts

    Raises
    ------
    FormatError
        For damaged, malformed or oversized bytes.

    Examples
    --------
    >>> import numpy as np, kimi_fann as kf
    >>> from kimi_fann import kfn
    >>> router = kf.Router(np.eye(3), top_k=2)
    >>> kfn.loads(kfn.dumps(router)).top_k
    2
    """
    reader = _Reader(data if isinstance(data, bytes) else bytes(data), source)
    return _model_from(reader, "", reader.header["model"])


def save(path: PathLike, model: Any, *, compress: str | None = None, prune: float = 0.0, group: int = 64,
         calibration: Any = None, max_error: float | None = None) -> CompressionReport | None:
    """Write a Network, FixedNetwork, Router or MixtureOfExperts to a .kfn file, atomically.

    Lossy compression (``"q8"``, ``"q4"``) is measured before anything is written: the model
    is compressed, read back and run on ``calibration`` (or on rows it makes itself), and if
    more than ``max_error`` of the rows' predictions change, the weights that dominate their
    group are kept exactly, then the save is refused with a ConfigError rather than writing a
    worse model.

    Parameters
    ----------
    path : str or os.PathLike
        Written through a symbolic link to its target; see :func:`kimi_fann._io.write_atomic`.
    model : Network, FixedNetwork, Router or MixtureOfExperts
    compress : {None, "deflate", "q8", "q4"}
        None (raw arrays), ``"deflate"`` (lossless), or ``"q8"`` / ``"q4"``: float weights and
        gates quantized to 8 or 4 bits in groups of ``group`` with a scale each, the weights
        that would dominate a group kept exactly, then deflated (lossy, bounded by
        ``max_error``). Integer networks stay exact.
    prune : float
        With q8/q4: the fraction of smallest weights set to zero first, in [0, 1).
    group : int
        Values per scale with q8/q4 (1 to 65536).
    calibration : array_like, optional
        With q8/q4: rows of inputs (one value per model input) like the model's real ones
        (held-out data is best). Without them the
        model makes 1024 rows: from its input scaling when it has one, else uniform in [-1, 1].
    max_error : float, optional
        With q8/q4: the largest share of calibration rows whose prediction may change (the
        index of the largest output; the chosen experts of a Router; for one output, a move of
        more than 1% of the outputs' span). Default 0.01 for q8 and 0.02 for q4: at most 1 or 2
        points of accuracy on data like the calibration rows.

    Returns
    -------
    CompressionReport or None
        What q8/q4 compression changed on the calibration rows (None without them).

    Raises
    ------
    ConfigError
        For another kind of object, a bad option, or a lossy compression beyond ``max_error``
        (nothing is written then).
    FileError
        If the file cannot be written.

    Examples
    --------
    >>> import pathlib, tempfile, numpy as np, kimi_fann as kf
    >>> net = kf.Network([3, 5, 2], seed=1)
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "net.kfn"
    >>> kf.save(path, net)
    >>> np.array_equal(kf.load(path).weights, net.weights)
    True
    >>> report = kf.save(path, net, compress="q8", calibration=np.eye(3))
    >>> report.changed <= report.max_error
    True
    """
    report = None
    if compress in ("q8", "q4"):
        data, report = dumps_bounded(model, compress, prune=prune, group=group, calibration=calibration,
                                     max_error=max_error, source=os.fspath(path))
    else:
        data = dumps(model, compress=compress, prune=prune, group=group)
    write_atomic(path, data)
    return report


def load(path: PathLike) -> Any:
    """Read a model from any of kimi-fann's model files: ``.kfn`` (:func:`save`), FANN float
    (``FANN_FLO_2.1``) or FANN fixed point (``FANN_FIX_2.0``) ``.net``, told apart by their
    first bytes, whatever the file's name.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    Network, FixedNetwork, Router or MixtureOfExperts
        The kind that was saved.

    Raises
    ------
    FormatError
        For a damaged or malformed file (the message names the file).
    FileError
        If the file cannot be read.

    Examples
    --------
    >>> import pathlib, tempfile, numpy as np, kimi_fann as kf
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> kf.save(folder / "router.kfn", kf.Router(np.eye(4, 2), top_k=2), compress="deflate")
    >>> kf.load(folder / "router.kfn")
    Router(n_experts=4, dim=2, top_k=2, scoring='sigmoid', gate_bits=32)
    >>> kf.Network([2, 3, 1]).save(folder / "m.net")
    >>> kf.load(folder / "m.net").layers
    (2, 3, 1)
    """
    data, source = read_bytes(path), os.fspath(path)
    head = data[:8].lstrip()
    if head.startswith(b"FANN_FLO"):
        return Network.from_fann_text(data, source=source)
    if head.startswith(b"FANN_FIX"):
        return FixedNetwork.from_fann_text(data, source=source)
    return loads(data, source=source)


register_container(save)  # what Network.save and FixedNetwork.save use for .kfn names
