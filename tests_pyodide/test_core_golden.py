"""The compiled core through array.array buffers, without numpy: float networks, FANN fixed
point, Q8/Q16, routers and a mixture give the native build's golden vectors bit for bit, on the
scalar path and on the WASM SIMD128 path (which must be the active one in Pyodide)."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import pytest

from kimi_fann import _core
from kimi_fann.errors import NumericError, ShapeError

import golden_core as g

NAMES = _core.simd_names()
WASM = sys.platform == "emscripten"


def test_core_imports_without_numpy():
    if WASM:
        assert "numpy" not in sys.modules
    assert _core.status_str(0)


@pytest.mark.skipif(not WASM, reason="the SIMD128 kernels exist only in the wasm32 build")
def test_wasm_simd128_kernels_are_active():
    assert NAMES[_core.simd_active()] == "wasm"
    assert _core.simd_built(NAMES.index("wasm")) and _core.simd_supported(NAMES.index("wasm"))
    assert not any(_core.simd_built(NAMES.index(n)) for n in ("avx2", "avx512", "amx", "neon"))


@pytest.mark.parametrize("path", ["auto", "scalar", "wasm" if WASM else "auto"])
def test_golden_vectors(path):
    assert g.mismatches(_core, NAMES.index(path)) == []


def test_each_kind_is_covered():
    doc = g.load_vectors()
    ops = {(doc["models"][c["model"]]["kind"], c["op"]) for c in doc["cases"]}
    assert {("network", "run"), ("fann_fixed", "run_raw"), ("quantized", "run"), ("quantized", "run_raw"),
            ("router", "route"), ("mixture", "moe")} <= ops
    bits = {(m["activation_bits"], m["weight_bits"]) for m in doc["models"].values() if m["kind"] == "quantized"}
    assert {(8, 8), (16, 16), (16, 8)} <= bits


def test_errors_reach_python():
    doc = g.load_vectors()
    models = g.build_models(_core, {"q8": doc["models"]["q8"], "net_float": doc["models"]["net_float"]})
    with pytest.raises(ShapeError):
        models["q8"].run(g.buf("f", [0.0] * 15, 1), g.empty("f", 1, 8), 0)
    with pytest.raises(NumericError):
        models["q8"].run(g.buf("f", [float("nan")] * 16, 1), g.empty("f", 1, 8), 0)
    with pytest.raises(ValueError):
        _core.QNet(SimpleNamespace(activation_bits=8, weight_bits=8, input_inv_scale=g.buf("f", [1.0]),
                                   input_zero=g.buf("i", [0]), output_scale=1.0, output_zero=0, layers=[]))


def test_cascade_training_grows_the_native_network():
    """Cascade training inside wasm32 (SIMD128 kernels, the C library's sin, cos and exp) grows
    the network the native build recorded, bit for bit."""
    assert g.cascade_mismatches(_core) == []
