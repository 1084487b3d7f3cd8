"""Float inference: kimi-fann beside numpy, onnxruntime (1 thread) and libfann, same network.

Run with ``python -m pytest bench --benchmark-json=bench.json`` and summarise the ratios with
``python bench/report.py bench.json``. Each group is one shape and batch size.
"""

from __future__ import annotations

import numpy as np
import pytest

import kimi_fann as kf
import peers

SHAPES = {"64-128-64-8": [64, 128, 64, 8], "256-256-256-32": [256, 256, 256, 32], "768-256-64": [768, 256, 64]}
BATCHES = [1, 4096]
ENGINES = ["kimi_fann", "numpy", "onnxruntime", "libfann"]


@pytest.fixture(scope="module", params=list(SHAPES))
def network(request) -> kf.Network:
    net = kf.Network(SHAPES[request.param], hidden="sigmoid_symmetric", output="sigmoid", seed=1)
    net.randomize_weights(-0.3, 0.3, seed=2)
    net.bench_name = request.param  # type: ignore[attr-defined]
    return net


def engine_runner(engine: str, net: kf.Network, tmp_path_factory):
    """A callable running a (batch, n_in) float32 array through net in the engine."""
    if engine == "kimi_fann":
        return net.run
    if engine == "numpy":
        return peers.numpy_forward(net)
    if engine == "onnxruntime":
        ort = pytest.importorskip("onnxruntime")
        session = peers.onnx_session(net)
        return lambda x: session.run(None, {"x": x})[0]
    fann = peers.libfann_net(net, tmp_path_factory.mktemp("libfann"))
    if fann is None:
        pytest.skip("libfann is not installed")
    import fannref

    def run_libfann(x: np.ndarray) -> np.ndarray:
        if len(x) == 1:
            return fann.run(x[0])
        # One C call over the whole batch: fann_test_data runs fann_run on every pair.
        data = fannref.TrainData.from_arrays(x, np.zeros((len(x), net.num_output), np.float32))
        try:
            fann.test_data(data)
        finally:
            data.close()
        return None

    return run_libfann


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("engine", ENGINES)
def test_run(benchmark, network: kf.Network, engine: str, batch: int, tmp_path_factory) -> None:
    x = np.random.default_rng(0).uniform(-1, 1, (batch, network.num_input)).astype(np.float32)
    run = engine_runner(engine, network, tmp_path_factory)
    out = run(x)
    if out is not None:  # every engine computes the same function
        np.testing.assert_allclose(np.asarray(out).reshape(batch, -1), network.run(x), atol=2e-5)
    benchmark.group = f"run {network.bench_name} batch {batch}"  # type: ignore[attr-defined]
    benchmark.extra_info["engine"] = engine
    benchmark(run, x)
