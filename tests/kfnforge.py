"""Hand-made .kfn files for the tests of hostile input: a model description and its sections,
with correct CRCs (so that the reader's structure checks, not its CRC checks, are what refuse
them). ``tests/test_kfn_hostile.py`` runs them."""

from __future__ import annotations

import json
import struct
import zlib
from typing import Any

import numpy as np

PREFIX = struct.Struct("<4sHHIII")


def forge(model: dict[str, Any], sections: list[tuple[dict[str, Any], Any]]) -> bytes:
    """A .kfn file: sections given as (entry without offset/length/crc32, payload bytes or
    ``("same as", i)`` to point at the i-th payload's bytes again)."""
    table: list[dict[str, Any]] = []
    body = bytearray()
    placed: list[dict[str, int]] = []
    for entry, payload in sections:
        if isinstance(payload, tuple):
            table.append({"encoding": "raw", **entry, **placed[payload[1]]})
            continue
        if entry.get("encoding", "raw") == "raw":
            body += b"\0" * (-len(body) % 64)
        where = {"offset": len(body), "length": len(payload), "crc32": zlib.crc32(payload)}
        placed.append(where)
        table.append({"encoding": "raw", **entry, **where})
        body += payload
    text = json.dumps({"format": "kimi-fann model", "kind": model.get("type"), "model": model,
                       "sections": table}).encode()
    start = -(-(PREFIX.size + len(text)) // 64) * 64
    return (PREFIX.pack(b"KFN\0", 1, 1, 0, len(text), zlib.crc32(text)) + text
            + b"\0" * (start - PREFIX.size - len(text)) + bytes(body))


def raw(name: str, values: Any) -> tuple[dict[str, Any], bytes]:
    a = np.ascontiguousarray(values)
    return {"name": name, "dtype": a.dtype.str, "shape": list(a.shape)}, a.tobytes()


def network_meta(**changes: Any) -> dict[str, Any]:
    return {"type": "network", "shortcut": False, "connection_rate": 1.0, "connections": "full", "params": {},
            "scaling": False, **changes}


def router_meta(**changes: Any) -> dict[str, Any]:
    return {"type": "router", "top_k": 1, "scoring": "softmax", "scaling": 1.0, "gate_bits": 32, **changes}


def fully_connected(sizes: list[int], weights: int, prefix: str = "") -> list[tuple[dict[str, Any], bytes]]:
    """Sections of a fully connected network with these layer sizes but only ``weights`` weights."""
    starts = np.concatenate([[0], np.cumsum(np.asarray(sizes) + 1)]).astype("<u4")
    neurons = int(starts[-1])
    return [raw(prefix + "layer_start", starts), raw(prefix + "weights", np.zeros(weights, "<f4")),
            raw(prefix + "activation", np.zeros(min(neurons, 4), "|u1")),
            raw(prefix + "steepness", np.ones(min(neurons, 4), "<f4"))]


def header_of(blob: bytes) -> tuple[int, dict[str, Any]]:
    """The flags and the JSON header of a .kfn file, inflated when flag bit 0 says so."""
    _, _, _, flags, length, _ = PREFIX.unpack_from(blob)
    text = blob[PREFIX.size : PREFIX.size + length]
    return flags, json.loads(zlib.decompress(text) if flags & 1 else text)


def rewrite(blob: bytes, change: Any) -> bytes:
    """A file of kfn.dumps with its JSON header changed by change(header), stored as before
    (deflated or not), CRC recomputed and the body moved to the new start."""
    magic, major, minor, flags, length, _ = PREFIX.unpack_from(blob)
    header = header_of(blob)[1]
    change(header)
    text = json.dumps(header).encode()
    text = zlib.compress(text, 9) if flags & 1 else text
    old_start = -(-(PREFIX.size + length) // 64) * 64
    new_start = -(-(PREFIX.size + len(text)) // 64) * 64
    return (PREFIX.pack(magic, major, minor, flags, len(text), zlib.crc32(text)) + text
            + b"\0" * (new_start - PREFIX.size - len(text)) + blob[old_start:])
