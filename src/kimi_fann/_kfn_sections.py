"""The byte layout of .kfn files: the prefix, the JSON header and its table of sections.

:class:`SectionWriter` lays sections out; :class:`SectionReader` checks a whole file's table
before it allocates anything: every section's dtype, shape, offset, length and encoding, that
it lies inside the file, that no two sections share bytes, and that what it declares could come
out of its bytes (a deflated section inflates at most 1032 times its size, deflate's own limit,
and the whole file at most :data:`MAX_RATIO` times the file's size plus :data:`SLACK` bytes). A section is
then read once, copied out of the file's bytes, and checked against the shape its model expects
before it is inflated. :mod:`kimi_fann.kfn` maps models to sections.
"""

from __future__ import annotations

import datetime
import json
import math
import struct
import zlib
from typing import Any

import numpy as np

from . import _compress
from ._version import __version__
from .errors import FormatError

MAGIC = b"KFN\x00"
#: (major, minor). 1.1 added exact values to quantized sections ("exact"); 1.0 files read as
#: before, and files without exact values keep 1.0's layout.
VERSION = (1, 1)
ALIGN = 64
PREFIX = struct.Struct("<4sHHIII")
DEFLATED_HEADER = 1
MAX_HEADER = 16 << 20
MAX_ELEMENTS = 1 << 31
#: Deflate's largest expansion: a section cannot inflate to more than this times its size.
DEFLATE_LIMIT = 1032
#: A file's sections together declare at most MAX_RATIO times the file's size plus SLACK bytes
#: (model weights deflate by less than 2:1): what a hostile file can make the reader allocate.
MAX_RATIO = 64
SLACK = 16 << 20
DTYPES = {"<f4", "<f2", "<i8", "<u8", "<i4", "<u4", "<i2", "<u2", "|i1", "|u1"}
ENCODINGS = ("raw", "deflate", "quantized")


def align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class SectionWriter:
    """Sections in the order they are given, raw ones 64-byte aligned."""

    def __init__(self, compress: str | None, prune: float, group: int, level: float = 1.0) -> None:
        self.compress, self.prune, self.group, self.level = compress, prune, group, level
        self.sections: list[tuple[dict[str, Any], bytes]] = []
        self.lossy_values = self.exact_values = 0

    def array(self, name: str, values: Any, *, lossy: bool = False) -> None:
        a = np.ascontiguousarray(values)
        a = a.astype(a.dtype.newbyteorder("<")) if a.dtype.byteorder == ">" else a
        entry: dict[str, Any] = {"name": name, "dtype": a.dtype.str, "shape": list(a.shape)}
        if lossy and self.compress in ("q8", "q4") and a.dtype.kind == "f":
            bits = 8 if self.compress == "q8" else 4
            raw, exact = _compress.encode(a, bits, self.group, self.prune, self.level)
            entry.update(encoding="quantized", bits=bits, group=self.group, dtype="<f4")
            if exact:
                entry["exact"] = exact
            self.lossy_values += a.size
            self.exact_values += exact
            payload = zlib.compress(raw, 9)
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
            if entry["encoding"] == "raw":  # aligned for any SIMD load
                offset = align(offset)
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
        flags, deflated = 0, zlib.compress(header, 9)
        if self.compress is not None or len(deflated) < len(header):  # raw files too: a third of the size
            header, flags = deflated, DEFLATED_HEADER
        start = align(PREFIX.size + len(header))
        out = bytearray(start + offset)
        out[: PREFIX.size] = PREFIX.pack(MAGIC, *VERSION, flags, len(header), zlib.crc32(header))
        out[PREFIX.size : PREFIX.size + len(header)] = header
        for entry, payload in zip(table, (p for _, p in self.sections)):
            at = start + entry["offset"]
            out[at : at + len(payload)] = payload
        return bytes(out)


class SectionReader:
    """A .kfn file's header and section table, checked whole; sections read on request."""

    def __init__(self, data: bytes, source: str) -> None:
        self.source = source
        if len(data) < PREFIX.size:
            raise self.error(f"{len(data)} bytes, too short for a .kfn file")
        magic, major, minor, flags, header_len, header_crc = PREFIX.unpack_from(data)
        if magic != MAGIC:
            hint = (" (it is FANN text: load it with kf.load, Network.load or FixedNetwork.load)"
                    if bytes(data[:4]) == b"FANN" else "")
            raise self.error(f"not a .kfn file (bad magic {bytes(magic)!r}){hint}")
        if major != VERSION[0]:
            raise self.error(f"format version {major}.{minor}; this kimi-fann reads {VERSION[0]}.x")
        if header_len > min(MAX_HEADER, len(data) - PREFIX.size):
            raise self.error(f"the header claims {header_len} bytes; the file has {len(data)}")
        header = bytes(data[PREFIX.size : PREFIX.size + header_len])
        if zlib.crc32(header) != header_crc:
            raise self.error("the header's CRC-32 does not match (damaged file)")
        if flags & ~DEFLATED_HEADER:
            raise self.error(f"unknown flags {flags:#x}")
        if flags & DEFLATED_HEADER:
            inflater = zlib.decompressobj()
            try:
                header = inflater.decompress(header, MAX_HEADER + 1)
            except zlib.error as exc:
                raise self.error(f"the header does not inflate: {exc}") from None
            if len(header) > MAX_HEADER or not inflater.eof:
                raise self.error("the header inflates to more than 16 MiB or not at all")
        try:
            self.header = json.loads(header.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise self.error(f"the header is not valid JSON: {exc}") from None
        if not isinstance(self.header, dict) or not isinstance(self.header.get("sections"), list) \
                or not isinstance(self.header.get("model"), dict):
            raise self.error("the header lacks its model description or section table")
        self.data, self.start = data, align(PREFIX.size + header_len)
        self.entries: dict[str, dict[str, Any]] = {}
        for entry in self.header["sections"]:
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or entry["name"] in self.entries:
                raise self.error("a section entry is malformed or repeated")
            self.entries[entry["name"]] = entry
        self._check_table()
        self.taken: set[str] = set()

    def error(self, message: str) -> FormatError:
        return FormatError(f"{self.source}: {message}")

    # ---- the whole table, before anything is allocated ----

    def _check_table(self) -> None:
        spans, declared = [], 0
        for name, entry in self.entries.items():
            try:
                dtype, shape, encoding = entry["dtype"], entry["shape"], entry["encoding"]
                offset, length, crc = entry["offset"], entry["length"], entry["crc32"]
            except KeyError as exc:
                raise self.error(f"section {name!r} lacks {exc}") from None
            if dtype not in DTYPES or not isinstance(shape, list) or len(shape) > 8 \
                    or not all(_is_int(d) and 0 <= d <= MAX_ELEMENTS for d in shape):
                raise self.error(f"section {name!r}: unsupported dtype {str(dtype)[:20]!r} or shape {str(shape)[:60]}")
            count = math.prod(shape)
            if count > MAX_ELEMENTS:
                raise self.error(f"section {name!r} declares {count} values; the limit is {MAX_ELEMENTS}")
            for field, value, top in (("offset", offset, 1 << 62), ("length", length, 1 << 62), ("crc32", crc, 1 << 32)):
                if not _is_int(value) or not 0 <= value < top:
                    raise self.error(f"section {name!r}: bad {field} {str(value)[:30]}")
            if encoding not in ENCODINGS:
                raise self.error(f"section {name!r}: unknown encoding {str(encoding)[:30]!r}")
            if (encoding == "raw" and offset % ALIGN) or self.start + offset + length > len(self.data):
                raise self.error(f"section {name!r} lies outside the file (offset {offset}, length {length})")
            size = count * np.dtype(dtype).itemsize
            if encoding == "raw" and length != size:
                raise self.error(f"section {name!r}: {length} bytes for {count} values of {dtype}")
            if encoding == "quantized":
                size = self._quantized_size(name, entry, count)
            if encoding != "raw" and size > DEFLATE_LIMIT * length + 64:
                raise self.error(f"section {name!r} declares {size} bytes once inflated from {length}: more than "
                                 f"deflate's limit of {DEFLATE_LIMIT} times its size")
            declared += size
            if length:
                spans.append((offset, length, name))
        spans.sort()
        for (a, n, first), (b, _, second) in zip(spans, spans[1:]):
            if b < a + n:
                raise self.error(f"sections {first!r} and {second!r} share bytes (offsets {a} and {b}); "
                                 "each section must have its own")
        if declared > MAX_RATIO * len(self.data) + SLACK:
            raise self.error(f"the sections declare {declared} bytes, more than {MAX_RATIO} times the file's "
                             f"{len(self.data)} bytes plus {SLACK >> 20} MiB")

    def _quantized_size(self, name: str, entry: dict[str, Any], count: int) -> int:
        bits, group, exact = entry.get("bits"), entry.get("group"), entry.get("exact", 0)
        if bits not in (8, 4) or not isinstance(group, int) or isinstance(group, bool) or not 1 <= group <= 1 << 16 \
                or entry["dtype"] != "<f4":
            raise self.error(f"section {name!r}: bad quantization ({str(bits)[:20]} bits, groups of {str(group)[:20]})")
        if not isinstance(exact, int) or isinstance(exact, bool) or not 0 <= exact <= count:
            raise self.error(f"section {name!r}: {str(exact)[:30]} exact values for {count} values")
        return _compress.payload_bytes(count, bits, group, exact)

    # ---- one section ----

    def has(self, name: str) -> bool:
        return name in self.entries

    def shape(self, name: str) -> tuple[int, ...]:
        """The declared shape of a section (nothing read)."""
        entry = self.entries.get(name)
        if entry is None:
            raise self.error(f"section {name!r} is missing")
        return tuple(entry["shape"])

    def array(self, name: str, expect: tuple[int, ...] | None = None) -> np.ndarray:
        """The section's values, checked, in an array of its own (never a view of the file).

        ``expect``: the shape the model needs, checked before anything is inflated.
        """
        shape = self.shape(name)
        if expect is not None and shape != tuple(expect):
            raise self.error(f"section {name!r} has shape {list(shape)}; the model needs {list(expect)}")
        if name in self.taken:
            raise self.error(f"section {name!r} is used twice")
        self.taken.add(name)
        entry = self.entries[name]
        dtype, encoding, count = entry["dtype"], entry["encoding"], math.prod(shape)
        at = self.start + entry["offset"]
        payload = memoryview(self.data)[at : at + entry["length"]]
        try:
            if zlib.crc32(payload) != entry["crc32"]:
                raise self.error(f"section {name!r}: CRC-32 does not match (damaged file)")
            if encoding == "raw":
                return np.frombuffer(payload, dtype=dtype, count=count).reshape(shape).copy()
            if encoding == "deflate":
                raw = self._inflate(name, payload, count * np.dtype(dtype).itemsize)
                return np.frombuffer(raw, dtype=dtype).reshape(shape)
            exact = entry.get("exact", 0)
            raw = self._inflate(name, payload, _compress.payload_bytes(count, entry["bits"], entry["group"], exact))
            try:
                return _compress.decode(raw, count, entry["bits"], entry["group"], exact).reshape(shape)
            except ValueError as exc:
                raise self.error(f"section {name!r}: {exc}") from None
        finally:
            payload.release()

    def _inflate(self, name: str, payload: memoryview, expected: int) -> bytes:
        inflater = zlib.decompressobj()
        try:
            raw = inflater.decompress(payload, expected + 1)  # never more than the declared size
        except zlib.error as exc:
            raise self.error(f"section {name!r} does not inflate: {exc}") from None
        if len(raw) != expected or not inflater.eof or inflater.unconsumed_tail:
            raise self.error(f"section {name!r} inflates to the wrong size")
        return raw

    # ---- header fields ----

    def integer(self, meta: dict[str, Any], key: str, lo: int, hi: int, where: str, default: Any = None) -> int:
        """meta[key], an integer in [lo, hi]; FormatError naming the field otherwise."""
        value = meta.get(key, default)
        if not _is_int(value) or not lo <= value <= hi:
            raise self.error(f"{where}{key} is {str(value)[:40]}; expected an integer in [{lo}, {hi}]")
        return int(value)

    def number(self, meta: dict[str, Any], key: str, where: str, lo: float = -math.inf, hi: float = math.inf) -> float:
        """meta[key], a finite number in [lo, hi]; FormatError naming the field otherwise."""
        value = meta.get(key)
        number = math.nan
        if isinstance(value, float) or (isinstance(value, int) and not isinstance(value, bool)
                                        and abs(value) <= 1 << 128):
            number = float(value)
        if not math.isfinite(number) or not lo <= number <= hi:
            raise self.error(f"{where}{key} is {str(value)[:40]}; expected a finite number in [{lo}, {hi}]")
        return number
