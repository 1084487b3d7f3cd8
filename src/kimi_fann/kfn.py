"""The .kfn container: any kimi-fann model in one file.

Layout: ``KFN\\0``, version (major, minor: two little-endian uint16), flags, the header's
length and CRC-32 (three uint32), the header (UTF-8 JSON: model kind and description, creation
info, and a table of sections; deflated when flag bit 0 is set, as in compressed files), padding
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
import datetime
import json
import struct
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np

from ._io import PathLike, read_bytes, write_atomic
from ._version import __version__
from .descriptions import ACTIVATIONS, QuantizationReport, QuantizedLayer, QuantizedSpec, Topology
from .errors import ConfigError, FormatError, KimiFannError
from .fixed import FannFixedNetwork, FixedNetwork, QuantizedNetwork
from .mixture import MixtureOfExperts
from .network import Network
from .router import Router

__all__ = ["save", "load", "dumps", "loads"]

MAGIC = b"KFN\x00"
VERSION = (1, 0)
ALIGN = 64
_PREFIX = struct.Struct("<4sHHIII")
_DEFLATED_HEADER = 1
_MAX_HEADER = 16 << 20
_MAX_ELEMENTS = 1 << 31
_DTYPES = {"<f4", "<f2", "<i8", "<u8", "<i4", "<u4", "<i2", "<u2", "|i1", "|u1"}
_COMPRESS = (None, "deflate", "q8", "q4")
# The layout of a quantized network's sections. 1: knots always int32 (Q8 files held direct
# tables of 4097 to 65537 outputs). 2: knots in the narrowest integer type that holds them
# (uint16 for the interpolated Q8 tables of 65 to 1025 knots). Both are read.
QUANTIZED_VERSION = 2
ACTIVATION_INDEX = {name: i for i, name in enumerate(ACTIVATIONS)}


def _align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


# ---- writing ----


class _Writer:
    def __init__(self, compress: str | None, prune: float, group: int) -> None:
        self.compress, self.prune, self.group = compress, prune, group
        self.sections: list[tuple[dict[str, Any], bytes]] = []

    def array(self, name: str, values: Any, *, lossy: bool = False) -> None:
        a = np.ascontiguousarray(values)
        a = a.astype(a.dtype.newbyteorder("<")) if a.dtype.byteorder == ">" else a
        entry: dict[str, Any] = {"name": name, "dtype": a.dtype.str, "shape": list(a.shape)}
        if lossy and self.compress in ("q8", "q4") and a.dtype.kind == "f":
            entry.update(encoding="quantized", bits=8 if self.compress == "q8" else 4, group=self.group)
            payload = zlib.compress(_quantize(a.astype(np.float32).ravel(), entry["bits"], self.group, self.prune), 9)
            entry["dtype"] = "<f4"
        elif self.compress is not None:
            entry["encoding"] = "deflate"
            payload = zlib.compress(a.tobytes(), 9)
        else:
            entry["encoding"] = "raw"
            payload = a.tobytes()
        self.sections.append((entry, payload))

    def finish(self, kind: str, meta: dict[str, Any]) -> bytes:
        offset, table = 0, []
        for entry, payload in self.sections:
            if entry["encoding"] == "raw":  # usable in place: aligned for any SIMD load
                offset = _align(offset)
            table.append({**entry, "offset": offset, "length": len(payload), "crc32": zlib.crc32(payload)})
            offset += len(payload)
        header = json.dumps({
            "format": "kimi-fann model",
            "kind": kind,
            "created": {"by": f"kimi-fann {__version__}",
                        "at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")},
            "model": meta,
            "sections": table,
        }, separators=(",", ":")).encode()
        flags = 0
        if self.compress is not None:
            header, flags = zlib.compress(header, 9), _DEFLATED_HEADER
        start = _align(_PREFIX.size + len(header))
        out = bytearray(start + offset)
        out[: _PREFIX.size] = _PREFIX.pack(MAGIC, *VERSION, flags, len(header), zlib.crc32(header))
        out[_PREFIX.size : _PREFIX.size + len(header)] = header
        for entry, payload in zip(table, (p for _, p in self.sections)):
            at = start + entry["offset"]
            out[at : at + len(payload)] = payload
        return bytes(out)


def _quantize(w: np.ndarray, bits: int, group: int, prune: float) -> bytes:
    """A float16 scale per group, then the codes (int8, or two 4-bit codes a byte)."""
    w = w.copy()
    if prune > 0 and w.size:
        w[np.abs(w) < np.quantile(np.abs(w), prune)] = 0.0
    qmax = 127 if bits == 8 else 7
    pad = (-w.size) % group
    groups = np.pad(w, (0, pad)).reshape(-1, group)
    scale = (np.abs(groups).max(axis=1) / qmax).astype(np.float16).astype(np.float32)
    safe = np.where(scale > 0, scale, 1.0)
    codes = np.clip(np.rint(groups / safe[:, None]), -qmax, qmax).astype(np.int8).ravel()[: w.size]
    if bits == 4:
        nibbles = (codes + 8).astype(np.uint8)
        nibbles = np.pad(nibbles, (0, nibbles.size % 2))
        codes = (nibbles[0::2] | (nibbles[1::2] << 4)).astype(np.uint8)
    return scale.astype("<f2").tobytes() + codes.tobytes()


# ---- reading ----


class _Reader:
    def __init__(self, data: bytes, source: str) -> None:
        self.source = source
        view = memoryview(data)
        if len(data) < _PREFIX.size:
            raise self.error(f"{len(data)} bytes, too short for a .kfn file")
        magic, major, minor, flags, header_len, header_crc = _PREFIX.unpack_from(data)
        if magic != MAGIC:
            raise self.error("not a .kfn file (bad magic)")
        if major != VERSION[0]:
            raise self.error(f"format version {major}.{minor}; this kimi-fann reads {VERSION[0]}.x")
        if header_len > min(_MAX_HEADER, len(data) - _PREFIX.size):
            raise self.error(f"the header claims {header_len} bytes; the file has {len(data)}")
        header = bytes(view[_PREFIX.size : _PREFIX.size + header_len])
        if zlib.crc32(header) != header_crc:
            raise self.error("the header's CRC-32 does not match (damaged file)")
        if flags & ~_DEFLATED_HEADER:
            raise self.error(f"unknown flags {flags:#x}")
        if flags & _DEFLATED_HEADER:
            inflater = zlib.decompressobj()
            try:
                header = inflater.decompress(header, _MAX_HEADER + 1)
            except zlib.error as exc:
                raise self.error(f"the header does not inflate: {exc}") from None
            if len(header) > _MAX_HEADER or not inflater.eof:
                raise self.error("the header inflates to more than 16 MiB or not at all")
        try:
            self.header = json.loads(header.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise self.error(f"the header is not valid JSON: {exc}") from None
        if not isinstance(self.header, dict) or not isinstance(self.header.get("sections"), list) \
                or not isinstance(self.header.get("model"), dict):
            raise self.error("the header lacks its model description or section table")
        self.data, self.view, self.start = data, view, _align(_PREFIX.size + header_len)
        self.entries: dict[str, dict[str, Any]] = {}
        for entry in self.header["sections"]:
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or entry["name"] in self.entries:
                raise self.error("a section entry is malformed or repeated")
            self.entries[entry["name"]] = entry

    def error(self, message: str) -> FormatError:
        return FormatError(f"{self.source}: {message}")

    def has(self, name: str) -> bool:
        return name in self.entries

    def array(self, name: str) -> np.ndarray:
        """The section's values, checked (raw sections as read-only views of the file)."""
        entry = self.entries.get(name)
        if entry is None:
            raise self.error(f"section {name!r} is missing")
        try:
            dtype, shape = entry["dtype"], entry["shape"]
            offset, length, crc = entry["offset"], entry["length"], entry["crc32"]
            encoding = entry["encoding"]
        except KeyError as exc:
            raise self.error(f"section {name!r} lacks {exc}") from None
        if dtype not in _DTYPES or not isinstance(shape, list) or len(shape) > 8 \
                or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
            raise self.error(f"section {name!r}: unsupported dtype {dtype!r} or shape {shape!r}")
        count = int(np.prod(shape, dtype=np.float64)) if shape else 1
        if count > _MAX_ELEMENTS:
            raise self.error(f"section {name!r} declares {count} values")
        for field, value in (("offset", offset), ("length", length), ("crc32", crc)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise self.error(f"section {name!r}: bad {field} {value!r}")
        if (encoding == "raw" and offset % ALIGN) or self.start + offset + length > len(self.data):
            raise self.error(f"section {name!r} lies outside the file (offset {offset}, length {length})")
        payload = self.view[self.start + offset : self.start + offset + length]
        if zlib.crc32(payload) != crc:
            raise self.error(f"section {name!r}: CRC-32 does not match (damaged file)")
        item = np.dtype(dtype).itemsize
        if encoding == "raw":
            if length != count * item:
                raise self.error(f"section {name!r}: {length} bytes for {count} values of {dtype}")
            return np.frombuffer(payload, dtype=dtype, count=count).reshape(shape)
        if encoding == "deflate":
            return np.frombuffer(self._inflate(name, payload, count * item), dtype=dtype).reshape(shape)
        if encoding == "quantized":
            bits, group = entry.get("bits"), entry.get("group")
            if bits not in (8, 4) or not isinstance(group, int) or not 1 <= group <= 1 << 16 or dtype != "<f4":
                raise self.error(f"section {name!r}: bad quantization ({bits} bits, groups of {group})")
            groups = -(-count // group)
            code_bytes = count if bits == 8 else (count + 1) // 2
            raw = self._inflate(name, payload, 2 * groups + code_bytes)
            scale = np.frombuffer(raw, dtype="<f2", count=groups).astype(np.float32)
            codes = np.frombuffer(raw, dtype=np.int8 if bits == 8 else np.uint8, offset=2 * groups)
            if bits == 4:
                codes = np.stack([codes & 15, codes >> 4], axis=1).ravel()[:count].astype(np.int8) - 8
            values = np.pad(codes.astype(np.float32), (0, groups * group - count)).reshape(groups, group)
            return (values * scale[:, None]).ravel()[:count].reshape(shape)
        raise self.error(f"section {name!r}: unknown encoding {encoding!r}")

    def _inflate(self, name: str, payload: memoryview, expected: int) -> bytes:
        inflater = zlib.decompressobj()
        try:
            raw = inflater.decompress(payload, expected + 1)  # never more than the declared size
        except zlib.error as exc:
            raise self.error(f"section {name!r} does not inflate: {exc}") from None
        if len(raw) != expected or not inflater.eof or inflater.unconsumed_tail:
            raise self.error(f"section {name!r} inflates to the wrong size")
        return raw


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


def _network_from(r: _Reader, p: str, meta: dict[str, Any]) -> Network:
    layer_start = r.array(p + "layer_start")
    activation, steepness = r.array(p + "activation"), r.array(p + "steepness")
    shortcut = bool(meta["shortcut"])
    if meta.get("connections") == "full":
        try:
            topology = Topology.fully_connected(layer_start, activation, steepness, shortcut=shortcut)
        except KimiFannError:
            raise r.error(f"section {p}layer_start is not a list of layer boundaries") from None
    else:
        topology = Topology(layer_start, r.array(p + "con_start"), r.array(p + "con_src"), activation, steepness,
                            shortcut=shortcut)
    topology = dataclasses.replace(topology, connection_rate=float(meta["connection_rate"]))
    net = Network.from_topology(topology, r.array(p + "weights"),
                                scaling=r.array(p + "scaling") if meta.get("scaling") else None, source=r.source)
    net.set_training_parameters({name: float(value) for name, value in meta["params"].items()})
    if "cascade" in meta:
        cascade = meta["cascade"]
        net.cascade_activation_functions = [ACTIVATIONS[int(f)] for f in cascade["functions"]]
        net.cascade_activation_steepnesses = [float(v) for v in cascade["steepnesses"]]
    return net


def _fixed_to(w: _Writer, p: str, fixed: FixedNetwork) -> dict[str, Any]:
    if isinstance(fixed, FannFixedNetwork):
        w.array(p + "fann", np.frombuffer(fixed.to_fann_text(), dtype=np.uint8))
        return {"type": "fann_fixed"}
    assert isinstance(fixed, QuantizedNetwork)
    spec = fixed.spec
    w.array(p + "input_inv_scale", spec.input_inv_scale)
    w.array(p + "input_zero", spec.input_zero)
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
    version = meta.get("version", 1)  # files before version 2 do not say
    if version not in (1, QUANTIZED_VERSION):
        raise r.error(f"quantized network section version {version!r}; this kimi-fann reads 1 and "
                      f"{QUANTIZED_VERSION}")
    report = None if meta.get("report") is None else QuantizationReport(**meta["report"])
    measured = report.layers if report is not None and len(report.layers) == len(meta["layers"]) else None
    layers = []
    for i, info in enumerate(meta["layers"]):
        # Files written before the layers recorded their activation and output quantization
        # have them in the quantizer's report, when it was saved.
        known = {**(measured[i] if measured else {}), **info}
        layers.append(QuantizedLayer(
            r.array(f"{p}layer{i}.weights"), r.array(f"{p}layer{i}.bias"), r.array(f"{p}layer{i}.multiplier"),
            r.array(f"{p}layer{i}.shift"), int(info["t0"]), int(info["seg_shift"]), r.array(f"{p}layer{i}.knots"),
            int(info["out_lo"]), int(info["out_hi"]), activation=str(known.get("activation", "unknown")),
            output_scale=known.get("output_scale"), output_zero=known.get("output_zero")))
    spec = QuantizedSpec(int(meta["activation_bits"]), int(meta["weight_bits"]), r.array(p + "input_inv_scale"),
                         r.array(p + "input_zero"), float(meta["output_scale"]), int(meta["output_zero"]), tuple(layers),
                         shortcut=bool(meta.get("shortcut", False)))
    return QuantizedNetwork(spec, report)


def _router_to(w: _Writer, p: str, router: Any) -> dict[str, Any]:
    w.array(p + "gates", router.gates, lossy=True)
    if router.bias is not None:
        w.array(p + "bias", router.bias)
    return {"type": "router", "top_k": router.top_k, "scoring": router.scoring, "scaling": router.scaling,
            "gate_bits": router.gate_bits}


def _router_from(r: _Reader, p: str, meta: dict[str, Any]) -> Router:
    return Router(r.array(p + "gates"), r.array(p + "bias") if r.has(p + "bias") else None, top_k=int(meta["top_k"]),
                  scoring=str(meta["scoring"]), scaling=float(meta["scaling"]), gate_bits=int(meta["gate_bits"]))


def _mixture_to(w: _Writer, p: str, moe: Any) -> dict[str, Any]:
    return {"type": "mixture", "domains": list(moe.domains), "router": _model_to(w, p + "router/", moe.router),
            "experts": [_model_to(w, f"{p}expert{i}/", e) for i, e in enumerate(moe.experts)],
            "shared": None if moe.shared_expert is None else _model_to(w, p + "shared/", moe.shared_expert)}


def _mixture_from(r: _Reader, p: str, meta: dict[str, Any]) -> MixtureOfExperts:
    experts = [_model_from(r, f"{p}expert{i}/", m) for i, m in enumerate(meta["experts"])]
    shared = None if meta.get("shared") is None else _model_from(r, p + "shared/", meta["shared"])
    return MixtureOfExperts(_model_from(r, p + "router/", meta["router"]), experts, shared_expert=shared,
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


def _model_from(r: _Reader, p: str, meta: Any) -> Any:
    if not isinstance(meta, dict) or meta.get("type") not in _READERS:
        raise r.error(f"unknown model description at {p or 'the top'}: {str(meta)[:80]}")
    try:
        return _READERS[meta["type"]](r, p, meta)
    except KimiFannError as exc:
        if isinstance(exc, FormatError):
            raise
        raise r.error(f"the model at {p or 'the top'} is invalid: {exc}") from None
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise r.error(f"the model at {p or 'the top'} is described wrongly: {exc!r}") from None


# ---- public ----


def dumps(model: Any, *, compress: str | None = None, prune: float = 0.0, group: int = 64) -> bytes:
    """The .kfn bytes of a model; see :func:`kimi_fann.save`.

    Parameters
    ----------
    model : Network, FixedNetwork, Router or MixtureOfExperts
    compress : {None, "deflate", "q8", "q4"}
    prune : float
    group : int
        As for :func:`kimi_fann.save`.

    Returns
    -------
    bytes

    Raises
    ------
    ConfigError
        For another kind of object or a bad option.

    Examples
    --------
    >>> import kimi_fann as kf
    >>> from kimi_fann import kfn
    >>> kfn.dumps(kf.Network([2, 1]))[:4]
    b'KFN\\x00'
    """
    if compress not in _COMPRESS:
        raise ConfigError(f"compress must be one of {_COMPRESS}, got {compress!r}")
    if not 0.0 <= prune < 1.0 or (prune and compress not in ("q8", "q4")):
        raise ConfigError("prune is a fraction in [0, 1), used with compress='q8' or 'q4'")
    if isinstance(group, bool) or not isinstance(group, int) or not 1 <= group <= 1 << 16:
        raise ConfigError(f"group must be an integer in [1, 65536], got {group!r}")
    writer = _Writer(compress, prune, group)
    meta = _model_to(writer, "", model)
    return writer.finish(meta["type"], meta)


def loads(data: bytes, *, source: str = "<bytes>") -> Any:
    """The model in .kfn bytes; see :func:`kimi_fann.load`.

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
        For damaged or malformed bytes.

    Examples
    --------
    >>> import numpy as np, kimi_fann as kf
    >>> from kimi_fann import kfn
    >>> router = kf.Router(np.eye(3), top_k=2)
    >>> kfn.loads(kfn.dumps(router)).top_k
    2
    """
    reader = _Reader(bytes(data), source)
    return _model_from(reader, "", reader.header["model"])


def save(path: PathLike, model: Any, *, compress: str | None = None, prune: float = 0.0, group: int = 64) -> None:
    """Write a Network, FixedNetwork, Router or MixtureOfExperts to a .kfn file, atomically.

    Parameters
    ----------
    path : str or os.PathLike
    model : Network, FixedNetwork, Router or MixtureOfExperts
    compress : {None, "deflate", "q8", "q4"}
        None (raw arrays, usable in place), ``"deflate"`` (lossless), or ``"q8"`` / ``"q4"``:
        float weights and gates quantized to 8 or 4 bits in groups of ``group`` with a scale
        each, then deflated (lossy).
    prune : float
        With q8/q4: the fraction of smallest weights set to zero first, in [0, 1).
    group : int
        Values per scale with q8/q4 (1 to 65536); smaller groups cost a little space and keep
        outlier weights from flattening their neighbours.

    Returns
    -------
    None

    Raises
    ------
    ConfigError
        For another kind of object or a bad option.
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
    """
    write_atomic(path, dumps(model, compress=compress, prune=prune, group=group))


def load(path: PathLike) -> Any:
    """Read a model saved by :func:`save`.

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
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "router.kfn"
    >>> kf.save(path, kf.Router(np.eye(4, 2), top_k=2), compress="deflate")
    >>> kf.load(path)
    Router(n_experts=4, dim=2, top_k=2, scoring='sigmoid', gate_bits=32)
    """
    import os

    return loads(read_bytes(path), source=os.fspath(path))
