"""Models for bench/wasm/bench.mjs, and their native latencies (called by it; prints JSON).

    python bench/wasm/native.py OUT_DIR

Writes OUT_DIR/<name>.kfn for each benchmark model and prints {name: {path: {"single_us",
"batch_us"}, "rss_mb"}} measured natively through the Python package (single: one sample per
call, Python's call overhead included; batch: per sample in batches of 256). A float network's
path is fixed when it is made, so its "scalar" entry is null."""

from __future__ import annotations

import json
import pathlib
import sys
import time

import numpy as np

import kimi_fann as kf


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


def models(rng: np.random.Generator) -> dict:
    out = {}
    for layers in ([64, 128, 64, 8], [768, 256, 64]):
        name = "-".join(map(str, layers))
        net = kf.Network(layers, hidden="sigmoid_symmetric", output="linear", seed=1)
        net.weights = rng.uniform(-0.1, 0.1, net.total_connections)
        out[f"{name} float"] = net
        out[f"{name} Q8"] = net.quantize(calibration=rng.uniform(-1, 1, (256, layers[0])))
    gates = rng.normal(0, 0.05, (384, 768))
    out["router 384x768 top-8 float"] = kf.Router(gates, rng.normal(0, 0.01, 384), top_k=8, scoring="sigmoid")
    out["router 384x768 top-8 int8"] = kf.Router(gates, top_k=8, scoring="sigmoid", gate_bits=8)
    calib = rng.uniform(-1, 1, (256, 768))
    experts = []
    for i in range(6):
        e = kf.Network([768, 256, 64], hidden="sigmoid_symmetric", output="linear", seed=30 + i)
        e.weights = rng.uniform(-0.1, 0.1, e.total_connections)
        experts.append(e.quantize(calibration=calib))
    out["mixture 6 x Q8 768-256-64, top-2"] = kf.MixtureOfExperts(kf.Router(rng.normal(0, 0.3, (6, 768)), top_k=2),
                                                                  experts)
    return out


def timed(fn, x, repeat: float = 0.3) -> float:
    fn(x)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < repeat:
        fn(x)
        n += 1
    return (time.perf_counter() - t0) / n


def main() -> None:
    out_dir = pathlib.Path(sys.argv[1])
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    before = rss_mb()
    made = models(rng)
    result = {"_rss_models_mb": rss_mb() - before}
    for name, model in made.items():
        file = name.replace(" ", "_").replace("/", "") + ".kfn"
        kf.save(out_dir / file, model)
        dim = model.dim if isinstance(model, kf.Router) else model.num_input
        x1 = rng.uniform(-1, 1, dim).astype(np.float32)
        xb = rng.uniform(-1, 1, (256, dim)).astype(np.float32)
        entry = {"file": file, "dim": dim}
        for path in ("scalar", kf.simd_path()):
            if isinstance(model, kf.Router):
                fn = lambda x, p=path, m=model: m.route(x, simd=p, threads=1)  # noqa: E731
            elif isinstance(model, kf.Network):
                if path == "scalar":  # a float network's path is fixed when it is made (KIMI_FANN_SIMD)
                    entry[path] = None
                    continue
                fn = lambda x, m=model: m.run(x, threads=1)  # noqa: E731
            else:
                fn = lambda x, p=path, m=model: m.run(x, simd=p, threads=1)  # noqa: E731
            entry[path] = {"single_us": timed(fn, x1) * 1e6, "batch_us": timed(fn, xb) / 256 * 1e6}
        result[name] = entry
    result["_native_path"] = kf.simd_path()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
