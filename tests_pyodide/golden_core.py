"""The golden vectors of tests/golden/vectors.json run through the compiled core alone.

Only ``kimi_fann._core`` and the standard library: models are rebuilt from their arrays with
``array.array`` buffers (2-D ones are cast memoryviews) in objects with the fields of the
package's descriptions (``Topology``, ``QuantizedSpec``), so this runs without numpy (Pyodide) as
well as natively. Used by tests_pyodide/ and by tests/test_golden_vectors.py.
"""

from __future__ import annotations

import json
import pathlib
from array import array
from types import SimpleNamespace
from typing import Any

GOLDEN = pathlib.Path(__file__).resolve().parents[1] / "tests" / "golden"


def load_vectors() -> dict[str, Any]:
    return json.loads((GOLDEN / "vectors.json").read_text())


def buf(code: str, values: Any, rows: int | None = None) -> memoryview:
    """A C-contiguous buffer of the given array typecode; 2-D (rows x n/rows) when rows given."""
    m = memoryview(array(code, values))
    if rows is None:
        return m
    return m.cast("B").cast(code, [rows, len(m) // rows if rows else 0])


def empty(code: str, rows: int, cols: int) -> memoryview:
    return buf(code, [0] * (rows * cols), rows)


def build_models(core: Any, models: dict[str, Any]) -> dict[str, Any]:
    made: dict[str, Any] = {}

    def build(name: str) -> Any:
        if name in made:
            return made[name]
        d = models[name]
        kind = d["kind"]
        if kind == "network":
            topology = SimpleNamespace(layer_starts=buf("I", d["layer_start"]), connection_starts=buf("I", d["con_start"]),
                                       sources=buf("I", d["con_src"]), activations=buf("B", d["activation"]),
                                       steepnesses=buf("f", d["steepness"]), shortcut=d["shortcut"],
                                       connection_rate=d["connection_rate"])
            m = core.Net.assemble(topology, buf("f", d["weights"]), None, name)
        elif kind == "fann_fixed":
            m = core.FixNet.parse_fann(d["text"].encode("ascii"), name)
        elif kind == "quantized":
            layers = [SimpleNamespace(weights=buf("h", l["weights"], l["n_out"]), bias=buf("i", l["bias"]),
                                      multiplier=buf("i", l["multiplier"]), shift=buf("B", l["shift"]), t0=l["t0"],
                                      seg_shift=l["seg_shift"], knots=buf("i", l["knots"]), out_lo=l["out_lo"],
                                      out_hi=l["out_hi"])
                      for l in d["layers"]]
            m = core.QNet(SimpleNamespace(activation_bits=d["activation_bits"], weight_bits=d["weight_bits"],
                                          input_inv_scale=buf("f", d["input_inv_scale"]),
                                          input_zero=buf("i", d["input_zero"]), output_scale=d["output_scale"],
                                          output_zero=d["output_zero"], layers=layers,
                                          shortcut=d.get("shortcut", False)))
        elif kind == "router":
            bits = d["gate_bits"]
            gates = buf("f", d["gates"], d["n_experts"]) if bits == 32 else None
            gates_q = None if bits == 32 else buf("h", d["gates_q"], d["n_experts"])
            scale = None if bits == 32 else buf("f", d["gate_scale"])
            bias = None if d["bias"] is None else buf("f", d["bias"])
            scoring = core.CONSTANTS["KF_SCORING_" + d["scoring"].upper()]
            m = core.Router(d["top_k"], scoring, bits, gates, gates_q, scale, bias, d["scaling"])
        elif kind == "mixture":
            m = core.MoE(build(d["router"]), [build(e) for e in d["experts"]],
                         build(d["shared"]) if d["shared"] else None)
        else:
            raise ValueError(f"unknown model kind {kind!r}")
        made[name] = m
        return m

    for name in models:
        build(name)
    return made


def run_case(core: Any, model: Any, kind: str, case: dict[str, Any], path: int) -> dict[str, list]:
    """The outputs of one case (lists of Python numbers), on SIMD path number ``path``."""
    n, op = case["n"], case["op"]
    if op == "route":
        k = model.top_k
        ex, w = empty("I", n, k), empty("f", n, k)
        model.route(buf("f", case["input"], n), ex, w, None, path)
        return {"experts": ex.tolist(), "weights": w.tolist()}
    if op == "moe":
        k = len(case["experts"]) // n
        y, ex, w = empty("f", n, model.num_output), empty("I", n, k), empty("f", n, k)
        model.run(buf("f", case["input"], n), y, ex, w, path)
        return {"output": y.tolist(), "experts": ex.tolist(), "weights": w.tolist()}
    cols = len(case["output"]) // n
    if kind == "network":
        y = empty("f", n, cols)
        model.run(buf("f", case["input"], n), y)
    elif kind == "fann_fixed":
        y = empty("i", n, cols)
        model.run(buf("i", case["input"], n), y)
    elif op == "run":
        y = empty("f", n, cols)
        model.run(buf("f", case["input"], n), y, path)
    else:
        y = empty("i", n, cols)
        model.run_raw(buf("i", case["input"], n), y, path)
    return {"output": y.tolist()}


def flat(value: Any) -> list:
    out: list = []
    for v in value:
        out.extend(flat(v) if isinstance(v, list) else [v])
    return out


def mismatches(core: Any, path: int) -> list[str]:
    """Every case of vectors.json whose outputs on ``path`` differ from the native scalar build's."""
    doc = load_vectors()
    models = build_models(core, doc["models"])
    bad = []
    for case in doc["cases"]:
        got = run_case(core, models[case["model"]], doc["models"][case["model"]]["kind"], case, path)
        for key, values in got.items():
            if flat(values) != case[key]:
                bad.append(f"{case['model']} {case['op']} {key}")
    return bad


def cascade_mismatches(core: Any) -> list[str]:
    """The recorded cascade run (vectors.json "cascade") grown again by the compiled core: the
    grown network's .net text (every weight to the bit) and weights must be the native build's."""
    doc = load_vectors()
    run = doc["cascade"]
    want = doc["models"][run["grown"]]
    start = core.Net.parse_fann(run["start"].encode("ascii"), "cascade start")
    n = run["n"]
    grown, _ = core.cascade_train(start, buf("f", run["input"], n), buf("f", run["output"], n), run["max_neurons"], 0,
                                  run["desired_error"], core.Random(run["seed"]), None)
    bad = []
    if grown.format_fann() != run["grown_text"].encode("ascii"):
        bad.append("cascade .net text")
    weights = buf("f", [0.0] * grown.total_connections)
    grown.read_weights(weights)
    if list(array("f", want["weights"])) != list(weights):
        bad.append("cascade weights")
    return bad
