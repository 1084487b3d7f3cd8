"""Regenerate the golden vectors in tests/golden/ from the native build (scalar SIMD path).

    KIMI_FANN_SIMD=scalar python tools/wasm/make_golden.py [--check]

Writes tests/golden/vectors.json and the .kfn files it names. vectors.json holds:

- ``models``: each model as the arrays the compiled core takes (``kimi_fann._core``: Net.assemble
  and QNet from the fields of a Topology and a QuantizedSpec, FixNet.parse_fann, Router, MoE), in
  plain JSON, so that a test without numpy (Pyodide)
  or without Python (JavaScript, the wasm32 core) can rebuild it;
- ``cases``: inputs and the native scalar outputs of each model: float network ``run``, FANN
  fixed ``run_raw``, Q8/Q16 ``run`` and ``run_raw``, router ``route``, mixture ``moe``;
- ``kfn``: the .kfn files (raw, deflate and lossy q8 sections) and the cases they must give.

Floats are written as the shortest decimal of their float32 value, which reads back exactly.
``--check`` regenerates into memory and compares with the committed files (the native test does
the same through tests/test_golden_vectors.py).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
from typing import Any

import numpy as np

import kimi_fann as kf
from kimi_fann import kfn

ROOT = pathlib.Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden"
SIMD = "scalar"


def floats(a: Any) -> list[float]:
    return [float(v) for v in np.asarray(a, dtype=np.float32).ravel()]


def ints(a: Any) -> list[int]:
    return [int(v) for v in np.asarray(a).ravel()]


def network_desc(net: kf.Network) -> dict[str, Any]:
    t = net.topology
    return {"kind": "network", "shortcut": bool(net.shortcut), "connection_rate": float(np.float32(net.connection_rate)),
            "layer_start": ints(t.layer_starts), "con_start": ints(t.connection_starts), "con_src": ints(t.sources),
            "weights": floats(net.weights), "activation": ints(t.activations), "steepness": floats(t.steepnesses),
            "num_input": net.num_input, "num_output": net.num_output}


def quantized_desc(q: kf.QuantizedNetwork) -> dict[str, Any]:
    spec = q.spec
    layers = []
    for l in spec.layers:
        layers.append({"n_out": l.n_out, "n_in": l.n_in, "weights": ints(l.weights), "bias": ints(l.bias),
                       "multiplier": ints(l.multiplier), "shift": ints(l.shift), "t0": l.t0, "seg_shift": l.seg_shift,
                       "knots": ints(l.knots), "out_lo": l.out_lo, "out_hi": l.out_hi})
    d = {"kind": "quantized", "activation_bits": spec.activation_bits, "weight_bits": spec.weight_bits,
         "input_inv_scale": floats(spec.input_inv_scale), "input_zero": ints(spec.input_zero),
         "output_scale": float(np.float32(spec.output_scale)), "output_zero": spec.output_zero,
         "layers": layers, "num_input": q.num_input, "num_output": q.num_output}
    if spec.shortcut:
        d["shortcut"] = True
    return d


def router_desc(r: kf.Router) -> dict[str, Any]:
    d: dict[str, Any] = {"kind": "router", "n_experts": r.n_experts, "dim": r.dim, "top_k": r.top_k,
                         "scoring": r.scoring, "scaling": r.scaling, "gate_bits": r.gate_bits,
                         "gates": floats(r.gates), "bias": None if r.bias is None else floats(r.bias)}
    if r.quantized_gates is not None:
        gates_q, scale = r.quantized_gates
        d["gates_q"], d["gate_scale"] = ints(gates_q), floats(scale)
    return d


def build() -> tuple[dict[str, Any], dict[str, bytes]]:
    rng = np.random.default_rng(20240606)
    models: dict[str, Any] = {}
    objects: dict[str, Any] = {}
    cases: list[dict[str, Any]] = []

    def x_float(n: int, dim: int, spread: float = 1.5) -> np.ndarray:
        return rng.uniform(-spread, spread, (n, dim)).astype(np.float32)

    # Float networks: layered, shortcut, sparse with several activation functions.
    nets = {
        "net_float": kf.Network([8, 12, 6, 4], hidden="sigmoid_symmetric", output="sigmoid", seed=1),
        "net_shortcut": kf.Network([5, 7, 3], hidden="elliot_symmetric", output="linear", shortcut=True, seed=2),
        "net_sparse": kf.Network([6, 10, 3], hidden="gaussian", output="sigmoid_symmetric", connection_rate=0.5,
                                 seed=3),
    }
    nets["net_float"].weights = rng.uniform(-1, 1, nets["net_float"].total_connections)
    nets["net_shortcut"].weights = rng.uniform(-1, 1, nets["net_shortcut"].total_connections)
    nets["net_sparse"].weights = rng.uniform(-1, 1, nets["net_sparse"].total_connections)
    for name, net in nets.items():
        models[name], objects[name] = network_desc(net), net
        x = x_float(6, net.num_input)
        cases.append({"model": name, "op": "run", "n": 6, "input": floats(x), "output": floats(net.run(x))})

    # FANN fixed point (FANN_FIX_2.0 text, as libfixedfann runs it).
    fixed_src = kf.Network([6, 9, 3], hidden="sigmoid_symmetric", output="sigmoid_symmetric", seed=4)
    fixed_src.weights = rng.uniform(-1.5, 1.5, fixed_src.total_connections)
    fixed = fixed_src.to_fixed()
    models["fann_fixed"] = {"kind": "fann_fixed", "text": fixed.to_fann_text().decode("ascii"),
                            "num_input": fixed.num_input, "num_output": fixed.num_output,
                            "multiplier": fixed.multiplier}
    objects["fann_fixed"] = fixed
    xi = np.rint(x_float(6, 6) * fixed.multiplier).astype(np.int32)
    cases.append({"model": "fann_fixed", "op": "run_raw", "n": 6, "input": ints(xi),
                  "output": ints(fixed.run_raw(xi))})

    # Native fixed point: Q8 (int8 weights), Q16 with int16 and with int8 weights. Calibrated on
    # [-1, 1]; the test inputs also go beyond it (saturation).
    qsrc = kf.Network([16, 24, 8], hidden="sigmoid_symmetric", output="sigmoid", seed=5)
    qsrc.weights = rng.uniform(-0.8, 0.8, qsrc.total_connections)
    calib = x_float(200, 16, 1.0)
    for name, wb, ab in (("q8", 8, 8), ("q16", 16, 16), ("q16w8", 8, 16)):
        q = qsrc.quantize(calibration=calib, weight_bits=wb, activation_bits=ab)
        models[name], objects[name] = quantized_desc(q), q
        x = x_float(7, 16, 1.3)
        cases.append({"model": name, "op": "run", "n": 7, "input": floats(x), "output": floats(q.run(x, simd=SIMD))})
        lo, hi = (0, 255) if ab == 8 else (-32768, 32767)
        xi = rng.integers(lo, hi + 1, (5, 16)).astype(np.int32)
        xi[0, :4] = [lo, hi, lo, hi]
        cases.append({"model": name, "op": "run_raw", "n": 5, "input": ints(xi),
                      "output": ints(q.run_raw(xi, simd=SIMD))})

    # Routers: Kimi-K2 style (sigmoid scores, selection bias, top 8 of 64), softmax, int8 and
    # int16 gates. Inputs include a tie (an all-zero row).
    routers = {
        "router_sigmoid": kf.Router(rng.normal(0, 0.3, (64, 24)), rng.normal(0, 0.05, 64), top_k=8,
                                    scoring="sigmoid", scaling=2.5),
        "router_softmax": kf.Router(rng.normal(0, 0.3, (16, 24)), top_k=3, scoring="softmax"),
        "router_int8": kf.Router(rng.normal(0, 0.3, (32, 24)), top_k=4, scoring="softmax", gate_bits=8),
        "router_int16": kf.Router(rng.normal(0, 0.3, (32, 24)), rng.normal(0, 0.05, 32), top_k=6,
                                  scoring="sigmoid", gate_bits=16),
    }
    for name, r in routers.items():
        models[name], objects[name] = router_desc(r), r
        x = x_float(6, 24)
        x[1] = 0.0
        experts, weights = r.route(x, simd=SIMD)
        cases.append({"model": name, "op": "route", "n": 6, "input": floats(x), "experts": ints(experts),
                      "weights": floats(weights)})

    # A six-expert mixture: float and Q8 experts, a Q16 shared expert.
    dim, out = 12, 5
    moe_router = kf.Router(rng.normal(0, 0.5, (6, dim)), top_k=2, scoring="sigmoid")
    calib = x_float(100, dim, 1.0)
    experts = []
    for i in range(6):
        e = kf.Network([dim, 10, out], hidden="sigmoid_symmetric", output="linear", seed=10 + i)
        e.weights = rng.uniform(-0.7, 0.7, e.total_connections)
        experts.append(e if i % 2 == 0 else e.quantize(calibration=calib))
    shared = kf.Network([dim, 8, out], hidden="sigmoid_symmetric", output="linear", seed=20)
    shared = shared.quantize(calibration=calib, weight_bits=16, activation_bits=16)
    moe = kf.MixtureOfExperts(moe_router, experts, shared_expert=shared)
    names = []
    for i, e in enumerate(experts):
        n = f"moe_expert{i}"
        models[n] = network_desc(e) if isinstance(e, kf.Network) else quantized_desc(e)
        names.append(n)
    models["moe_router"] = router_desc(moe_router)
    models["moe_shared"] = quantized_desc(shared)
    models["moe"] = {"kind": "mixture", "router": "moe_router", "experts": names, "shared": "moe_shared",
                     "domains": list(moe.domains), "num_input": dim, "num_output": out}
    objects["moe"] = moe
    x = x_float(9, dim)
    y, ex, w = moe.run(x, return_routes=True, simd=SIMD)
    cases.append({"model": "moe", "op": "moe", "n": 9, "input": floats(x), "output": floats(y),
                  "experts": ints(ex), "weights": floats(w)})

    # A network grown by cascade training (a shortcut network, a hidden layer per neuron, the
    # default candidates) and its Q8 form (each layer reads the inputs and every earlier layer).
    # The run that grew it is recorded too ("cascade"): the starting .net text, the data, the seed
    # of the glibc rand() stream: cascade_train must grow the same weights everywhere.
    crng = np.random.default_rng(20261215)
    cx = crng.uniform(-1, 1, (96, 4)).astype(np.float32)
    cy = np.c_[np.sin(2 * cx[:, 0] * cx[:, 1]), np.tanh(cx[:, 2] - cx[:, 3] ** 2)].astype(np.float32)
    start = kf.Network([4, 2], output="sigmoid_symmetric", shortcut=True, seed=30)
    start.cascade_max_out_epochs = 30
    start.cascade_max_cand_epochs = 30
    grown = start.copy()
    grown.cascade_train(kf.TrainingData(cx, cy), max_neurons=4, desired_error=0.0, random=kf.FannRandom(30))
    models["net_cascade"], objects["net_cascade"] = network_desc(grown), grown
    x = crng.uniform(-1, 1, (6, 4)).astype(np.float32)  # its own generator: the vectors above stay as they were
    cases.append({"model": "net_cascade", "op": "run", "n": 6, "input": floats(x), "output": floats(grown.run(x))})
    q = grown.quantize(calibration=cx)
    models["q8_cascade"], objects["q8_cascade"] = quantized_desc(q), q
    cases.append({"model": "q8_cascade", "op": "run", "n": 6, "input": floats(x), "output": floats(q.run(x, simd=SIMD))})
    xi = crng.integers(0, 256, (5, 4)).astype(np.int32)
    cases.append({"model": "q8_cascade", "op": "run_raw", "n": 5, "input": ints(xi),
                  "output": ints(q.run_raw(xi, simd=SIMD))})
    cascade = {"start": start.to_fann_text().decode("ascii"), "n": len(cx), "input": floats(cx), "output": floats(cy),
               "max_neurons": 4, "desired_error": 0.0, "seed": 30, "grown": "net_cascade",
               "grown_text": grown.to_fann_text().decode("ascii")}

    # .kfn files: raw and deflated sections for each kind, and one lossy (q8 sections).
    files: dict[str, bytes] = {}
    kfn_entries = []
    for name, compress in (("net_float", None), ("net_sparse", "deflate"), ("fann_fixed", None),
                           ("q8", None), ("q16", "deflate"), ("q16w8", None), ("router_sigmoid", "deflate"),
                           ("router_int8", None), ("router_int16", "deflate"), ("moe", None), ("moe", "deflate"),
                           ("net_cascade", None), ("q8_cascade", "deflate")):
        file = f"{name}.{compress or 'raw'}.kfn"
        files[file] = kfn.dumps(objects[name], compress=compress)
        kfn_entries.append({"file": file, "model": name, "kind": models[name]["kind"]})
    # Lossy sections: the expectations are the native outputs of the model read back.
    lossy_file = "net_float.q8.kfn"
    files[lossy_file] = kfn.dumps(nets["net_float"], compress="q8", group=16, max_error=1.0)  # plain groups
    lossy = kfn.loads(files[lossy_file])
    x = x_float(4, 8)
    kfn_entries.append({"file": lossy_file, "model": None, "kind": "network", "cases": [
        {"op": "run", "n": 4, "input": floats(x), "output": floats(lossy.run(x))}]})
    lossy_file = "moe.q8.kfn"
    files[lossy_file] = kfn.dumps(moe, compress="q8", group=32, max_error=1.0)
    lossy = kfn.loads(files[lossy_file])
    x = x_float(5, dim)
    y, ex, w = lossy.run(x, return_routes=True, simd=SIMD)
    kfn_entries.append({"file": lossy_file, "model": None, "kind": "mixture", "cases": [
        {"op": "moe", "n": 5, "input": floats(x), "output": floats(y), "experts": ints(ex), "weights": floats(w)}]})
    # Exact values (format 1.1): clamped weights that dominate their groups, kept exactly.
    lossy_file = "net_exact.q8.kfn"
    clamped = kf.Network([4, 8, 2], hidden="linear", output="linear", seed=5)
    weights = clamped.weights.copy()
    weights[::5] = 1500.0
    clamped.weights = weights
    x = x_float(64, 4)
    x[:, 0] = 0.0  # the input that the largest clamped weights read is dead
    files[lossy_file] = kfn.dumps(clamped, compress="q8", group=8, calibration=x, max_error=0.02)
    x = x[:8]
    lossy = kfn.loads(files[lossy_file])
    kfn_entries.append({"file": lossy_file, "model": None, "kind": "network", "cases": [
        {"op": "run", "n": 8, "input": floats(x), "output": floats(lossy.run(x))}]})

    doc = {"about": "Golden vectors of the native build (scalar SIMD path); regenerate with "
                    "tools/wasm/make_golden.py", "simd": SIMD, "models": models, "cases": cases, "kfn": kfn_entries,
           "cascade": cascade}
    return doc, files


def comparable(doc: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(doc))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare with the committed files instead of writing")
    args = ap.parse_args()
    if kf.simd_path() != SIMD:
        print(f"run with KIMI_FANN_SIMD={SIMD} (active path: {kf.simd_path()})", file=sys.stderr)
        return 2
    doc, files = build()
    if args.check:
        committed = json.loads((GOLDEN / "vectors.json").read_text())
        ok = comparable(doc)["cases"] == committed["cases"] and comparable(doc)["models"] == committed["models"]
        print("golden vectors match" if ok else "golden vectors DIFFER from the native build")
        return 0 if ok else 1
    GOLDEN.mkdir(parents=True, exist_ok=True)
    for old in GOLDEN.glob("*.kfn"):
        old.unlink()
    for file, data in files.items():
        (GOLDEN / file).write_bytes(data)
    (GOLDEN / "vectors.json").write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    print(f"wrote {GOLDEN / 'vectors.json'} and {len(files)} .kfn files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
