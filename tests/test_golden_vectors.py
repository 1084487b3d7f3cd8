"""The golden vectors of tests/golden (checked in wasm32: Pyodide, Node.js, browsers) still
describe the native build: every committed .kfn file loads and gives its recorded outputs, and the
models rebuilt from their arrays give theirs, bit for bit on every SIMD path this CPU runs.
Regenerate with ``KIMI_FANN_SIMD=scalar python tools/wasm/make_golden.py`` after an intended
change of results."""

from __future__ import annotations

import importlib.util
import json
import pathlib

import numpy as np
import pytest

import kimi_fann as kf
from kimi_fann import _core

ROOT = pathlib.Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden"
DOC = json.loads((GOLDEN / "vectors.json").read_text())
PATHS = kf.simd_info()["supported"]


def _golden_core():
    spec = importlib.util.spec_from_file_location("golden_core", ROOT / "tests_pyodide" / "golden_core.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _outputs(model, case, simd):
    x = np.asarray(case["input"], dtype=np.int32 if case["op"] == "run_raw" else np.float32).reshape(case["n"], -1)
    if case["op"] == "run_raw":
        return {"output": model.run_raw(x, **({"simd": simd} if model.format != "fann" else {}))}
    if case["op"] == "route":
        experts, weights = model.route(x, simd=simd)
        return {"experts": experts, "weights": weights}
    if case["op"] == "moe":
        y, experts, weights = model.run(x, return_routes=True, simd=simd)
        return {"output": y, "experts": experts, "weights": weights}
    return {"output": model.run(x) if isinstance(model, kf.Network) else model.run(x, simd=simd)}


@pytest.mark.parametrize("simd", PATHS)
@pytest.mark.parametrize("entry", DOC["kfn"], ids=lambda e: e["file"])
def test_kfn_files_give_their_golden_outputs(entry, simd):
    model = kf.load(GOLDEN / entry["file"])
    cases = entry.get("cases") or [c for c in DOC["cases"] if c["model"] == entry["model"]]
    assert cases
    for case in cases:
        for key, got in _outputs(model, case, simd).items():
            want = np.asarray(case[key], dtype=got.dtype)
            np.testing.assert_array_equal(got.ravel(), want, err_msg=f"{entry['file']} {case['op']} {key}")


@pytest.mark.parametrize("simd", PATHS)
def test_models_from_arrays_give_their_golden_outputs(simd):
    assert _golden_core().mismatches(_core, _core.simd_names().index(simd)) == []
