"""Atheris harnesses for every file parser of kimi-fann.

Usage: python fuzz/fuzz_loaders.py TARGET [libFuzzer options] [CORPUS_DIR ...]

TARGET is one of ``net`` (FANN_FLO .net, Network.from_fann_text), ``fixed`` (FANN_FIX_2.0,
FixedNetwork.from_fann_text), ``data`` (FANN .data, TrainingData.from_fann_text), ``kfn``
(native container, kimi_fann.kfn.loads, its CRCs fixed up first: fix_crcs) and ``safetensors``
(kimi_fann.analyzer.convert.from_safetensors, when it exists).

A parser may reject its input only with a kimi_fann.errors exception; anything else (another
exception, a sanitizer report, a crash) is a finding. A model that loads is also run on a zero
input and written back out, and what it writes must load again.
"""

from __future__ import annotations

import os
import sys
import tempfile
from typing import Any

import atheris
import numpy as np

# kimi_fann is imported after atheris.Setup(). A core built with -fsanitize=fuzzer-no-link
# (tools/ci/fuzz.sh) needs libFuzzer's coverage symbols: run with LD_PRELOAD of a libFuzzer
# (atheris' core_with_libfuzzer) or of clang's ASan runtime.
kf: Any = None
kfn: Any = None
KimiFannError: Any = Exception


def _import_package() -> None:
    global kf, kfn, KimiFannError
    with atheris.instrument_imports(include=["kimi_fann"]):
        import kimi_fann
        from kimi_fann import errors
        from kimi_fann import kfn as container
    kf, kfn, KimiFannError = kimi_fann, container, errors.KimiFannError


def _exercise(model: object) -> None:
    """Run what loaded, on a small zero batch, the way a user would."""
    if isinstance(model, kf.Network):
        model.run(np.zeros((2, model.num_input), dtype=np.float32))
        again = kf.Network.from_fann_text(model.to_fann_text())
        assert again.layers == model.layers
    elif isinstance(model, kf.FixedNetwork):
        model.run(np.zeros((2, model.num_input), dtype=np.float32))
        if model.format == "fann":
            model.run_raw(np.zeros((2, model.num_input), dtype=np.int32))
            again = kf.FixedNetwork.from_fann_text(model.to_fann_text())
            assert again.layers == model.layers
    elif isinstance(model, kf.Router):
        model.route(np.zeros((2, model.dim), dtype=np.float32))
    elif isinstance(model, kf.MixtureOfExperts):
        model.run(np.zeros((2, model.num_input), dtype=np.float32))


def _load_and_exercise(load, data: object) -> None:  # type: ignore[no-untyped-def]
    try:
        model = load(data)
    except KimiFannError:
        return
    try:
        _exercise(model)
    except KimiFannError:
        return  # a loaded model may still refuse a request (documented); it must not crash


def fuzz_net(data: bytes) -> None:
    _load_and_exercise(kf.Network.from_fann_text, data)


def fuzz_fixed(data: bytes) -> None:
    _load_and_exercise(kf.FixedNetwork.from_fann_text, data)


def fuzz_data(data: bytes) -> None:
    try:
        parsed = kf.TrainingData.from_fann_text(data)
    except KimiFannError:
        return
    again = kf.TrainingData.from_fann_text(parsed.to_fann_text())
    assert again.inputs.shape == parsed.inputs.shape and again.outputs.shape == parsed.outputs.shape


def fix_crcs(data: bytes) -> bytes:
    """The same bytes with every CRC-32 made right (the header's, and each section's whose
    bytes lie in the file), so that mutations reach the structure behind the CRC checks.
    Bytes that are not a .kfn file with a JSON header come back unchanged."""
    import json
    import struct
    import zlib

    prefix = struct.Struct("<4sHHIII")
    if len(data) < prefix.size or data[:4] != b"KFN\x00":
        return data
    magic, major, minor, flags, length, _ = prefix.unpack_from(data)
    text = data[prefix.size : prefix.size + length]
    try:
        header = json.loads(zlib.decompress(text) if flags & 1 else text)
        start = -(-(prefix.size + length) // 64) * 64
        for entry in header["sections"]:
            at, size = start + entry["offset"], entry["length"]
            if 0 <= at and at + size <= len(data):
                entry["crc32"] = zlib.crc32(data[at : at + size])
        text = json.dumps(header).encode()
        text = zlib.compress(text) if flags & 1 else text
    except Exception:  # noqa: BLE001 - an unparsable header keeps its bytes (its CRC still fixed)
        pass
    old_start = -(-(prefix.size + length) // 64) * 64
    new_start = -(-(prefix.size + len(text)) // 64) * 64
    return (prefix.pack(magic, major, minor, flags, len(text), zlib.crc32(text)) + text
            + b"\0" * (new_start - prefix.size - len(text)) + data[old_start:])


def fuzz_kfn(data: bytes) -> None:
    try:
        model = kfn.loads(fix_crcs(data))
    except KimiFannError:
        return
    kfn.loads(kfn.dumps(model))  # what loaded writes out and loads again
    try:
        _exercise(model)
    except KimiFannError:
        return  # a loaded model may still refuse a request (documented); it must not crash


def _safetensors_loader():  # type: ignore[no-untyped-def]
    try:
        with atheris.instrument_imports(include=["kimi_fann"]):
            from kimi_fann.analyzer.convert import from_safetensors
    except ImportError:
        return None
    return lambda path: from_safetensors(path, activations="relu")


_TMP = tempfile.mkdtemp(prefix="kf-fuzz-")


def fuzz_safetensors(data: bytes) -> None:
    path = os.path.join(_TMP, "input.safetensors")
    with open(path, "wb") as f:
        f.write(data)
    _load_and_exercise(_LOADER, path)


TARGETS = {"net": fuzz_net, "fixed": fuzz_fixed, "data": fuzz_data, "kfn": fuzz_kfn,
           "safetensors": fuzz_safetensors}
_LOADER = None


def main() -> None:
    global _LOADER
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: {sys.argv[0]} {{{'|'.join(TARGETS)}}} [libFuzzer options] [corpus ...]")
    target = sys.argv.pop(1)
    atheris.Setup(sys.argv, TARGETS[target])
    _import_package()
    if target == "safetensors":
        _LOADER = _safetensors_loader()
        if _LOADER is None:
            print("fuzz: kimi_fann.analyzer.convert.from_safetensors does not exist yet: skipped")
            return
    atheris.Fuzz()


if __name__ == "__main__":
    main()
