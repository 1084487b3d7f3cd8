"""Inference beside numpy, onnxruntime, LiteRT and libfann, on the same networks in the same run.

Groups: "float SHAPE bBATCH" (kimi-fann's float network, numpy, onnxruntime fp32, libfann),
"int8 SHAPE bBATCH" (kimi-fann Q8 and Q16, LiteRT's fully int8 model on XNNPACK, onnxruntime
with quantize_dynamic), one thread each, and "int8 SHAPE b4096 2 threads". Run with
``python -m pytest bench --benchmark-json=bench.json`` and print the ratios with
``python bench/report.py bench.json``.
"""

from __future__ import annotations

import gc

import numpy as np
import pytest

import kimi_fann as kf

import peers

SHAPES = {"A 64-128-64-8": [64, 128, 64, 8], "B 256-256-256-32": [256, 256, 256, 32], "C 768-256-64": [768, 256, 64]}
BATCHES = [1, 4096]


@pytest.fixture(scope="module", params=list(SHAPES))
def network(request) -> kf.Network:
    net = kf.Network(SHAPES[request.param], hidden="sigmoid_symmetric", output="sigmoid", seed=1)
    net.randomize_weights(-0.3, 0.3, seed=2)
    net.bench_name = request.param  # type: ignore[attr-defined]
    return net


def macs(net: kf.Network, batch: int) -> int:
    """Multiply-accumulates of one call (the weight matrices; bias and activations not counted)."""
    return batch * sum(a * b for a, b in zip(net.layers, net.layers[1:]))


def record_work(benchmark, net: kf.Network, batch: int, kind: str, threads: int = 1) -> None:
    """What bench/report.py needs for G MAC/s and the fraction of the path's peak."""
    benchmark.extra_info["macs"] = macs(net, batch)
    benchmark.extra_info["kind"] = kind
    benchmark.extra_info["threads"] = threads


def inputs(net: kf.Network, batch: int) -> np.ndarray:
    return np.random.default_rng(0).uniform(-1, 1, (batch, net.num_input)).astype(np.float32)


def calibration(net: kf.Network) -> np.ndarray:
    return np.random.default_rng(1).uniform(-1, 1, (1024, net.num_input)).astype(np.float32)


def float_runner(engine: str, net: kf.Network, batch: int, tmp_path_factory):
    if engine == "kimi_fann":
        return lambda x: net.run(x[0] if batch == 1 else x, threads=1)
    if engine == "numpy":
        forward = peers.numpy_forward(net)
        return lambda x: forward(x[0] if batch == 1 else x)
    if engine == "onnxruntime":
        pytest.importorskip("onnxruntime")
        session = peers.onnx_session(net)
        return lambda x: session.run(None, {"x": x})[0]
    fann = peers.libfann_net(net, tmp_path_factory.mktemp("libfann"))
    if fann is None:
        pytest.skip("libfann is not installed")
    import fannref

    def run_libfann(x: np.ndarray):
        if len(x) == 1:
            return fann.run(x[0])
        # one C call over the whole batch: fann_test_data runs fann_run on every pair
        data = fannref.TrainData.from_arrays(x, np.zeros((len(x), net.num_output), np.float32))
        try:
            fann.test_data(data)
        finally:
            data.close()
        return None

    return run_libfann


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("engine", ["kimi_fann", "numpy", "onnxruntime", "libfann"])
def test_float(benchmark, network: kf.Network, engine: str, batch: int, tmp_path_factory) -> None:
    x = inputs(network, batch)
    run = float_runner(engine, network, batch, tmp_path_factory)
    out = run(x)
    if out is not None:  # every engine computes the same function
        np.testing.assert_allclose(np.asarray(out).reshape(batch, -1), network.run(x), atol=2e-5)
    benchmark.group = f"float {network.bench_name} b{batch}"  # type: ignore[attr-defined]
    benchmark.extra_info["engine"] = engine
    record_work(benchmark, network, batch, "float")
    benchmark(run, x)


def int8_runner(engine: str, net: kf.Network, batch: int, threads: int, tmp_path_factory):
    if engine.startswith("kimi_fann"):
        bits = 8 if engine.endswith("q8") else 16
        q = net.quantize(calibration=calibration(net), activation_bits=bits, weight_bits=bits)
        return lambda x: q.run(x[0] if batch == 1 else x, threads=threads), 0.06
    if engine == "litert_int8":
        pytest.importorskip("ai_edge_litert")
        return peers.litert_runner(net, calibration(net), batch, threads=threads), 0.08
    pytest.importorskip("onnxruntime")
    session = peers.onnx_int8_session(net, tmp_path_factory.mktemp("ort"), threads=threads)
    return (lambda x: session.run(None, {"x": x})[0]), 0.8  # dynamic quantization is coarse


INT8 = ["kimi_fann_q8", "kimi_fann_q16", "litert_int8", "onnxruntime_int8"]


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("engine", INT8)
def test_int8(benchmark, network: kf.Network, engine: str, batch: int, tmp_path_factory) -> None:
    x = inputs(network, batch)
    run, tolerance = int8_runner(engine, network, batch, 1, tmp_path_factory)
    np.testing.assert_allclose(np.asarray(run(x)).reshape(batch, -1), network.run(x), atol=tolerance)
    benchmark.group = f"int8 {network.bench_name} b{batch}"  # type: ignore[attr-defined]
    benchmark.extra_info["engine"] = engine
    record_work(benchmark, network, batch, "int16" if engine == "kimi_fann_q16" else "int8")
    benchmark(run, x)


@pytest.mark.parametrize("engine", ["kimi_fann_q8", "litert_int8", "onnxruntime_int8"])
def test_int8_two_threads(benchmark, network: kf.Network, engine: str, tmp_path_factory) -> None:
    x = inputs(network, 4096)
    run, tolerance = int8_runner(engine, network, 4096, 2, tmp_path_factory)
    np.testing.assert_allclose(np.asarray(run(x)), network.run(x), atol=tolerance)
    benchmark.group = f"int8 {network.bench_name} b4096 2 threads"  # type: ignore[attr-defined]
    benchmark.extra_info["engine"] = engine
    record_work(benchmark, network, 4096, "int8", threads=2)
    benchmark(run, x)
    # An onnxruntime session's worker threads spin on a core while the session lives: free it
    # now, or it takes a core from the next network's two-thread cases.
    del run
    gc.collect()
