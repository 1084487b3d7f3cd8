"""Routing and mixtures beside numpy (one BLAS thread) and torch (one thread, if installed).

Groups: "route E experts bB" (dim 768, top-8 or all when fewer: kimi-fann float and int8 gates,
numpy matmul + argpartition, torch matmul + topk) and "mixture 8x 64-128-64-8 top-2 b4096"
(kimi-fann's one call, the same routing and experts in numpy, and kimi-fann's experts run
directly on inputs already grouped by expert: the floor for routing, grouping and combining).
"""

from __future__ import annotations

import numpy as np
import pytest

import kimi_fann as kf

import peers

DIM = 768


def gates(n_experts: int) -> np.ndarray:
    return (np.random.default_rng(n_experts).normal(size=(n_experts, DIM)) / np.sqrt(DIM)).astype(np.float32)


def router_runner(engine: str, n_experts: int):
    k = min(8, n_experts)
    g = gates(n_experts)
    if engine.startswith("kimi_fann"):
        router = kf.Router(g, top_k=k, scoring="softmax", gate_bits=8 if engine.endswith("int8") else 32)
        return lambda x: router.route(x, threads=1)
    if engine == "numpy":
        def route(x: np.ndarray):
            scores = x @ g.T
            idx = np.argpartition(-scores, k - 1, axis=-1)[..., :k]
            top = np.take_along_axis(scores, idx, axis=-1)
            w = np.exp(top - top.max(axis=-1, keepdims=True))
            return idx, w / w.sum(axis=-1, keepdims=True)
        return route
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    tg = torch.from_numpy(g)

    def route_torch(x: np.ndarray):
        with torch.no_grad():
            top, idx = torch.topk(torch.from_numpy(x) @ tg.T, k)
            return idx, torch.softmax(top, dim=-1)
    return route_torch


@pytest.mark.parametrize("batch", [1, 256])
@pytest.mark.parametrize("n_experts", [8, 64, 384])
@pytest.mark.parametrize("engine", ["kimi_fann", "kimi_fann_int8", "numpy", "torch"])
def test_route(benchmark, engine: str, n_experts: int, batch: int) -> None:
    x = np.random.default_rng(batch).normal(size=(batch, DIM)).astype(np.float32)
    run = router_runner(engine, n_experts)
    arg = x[0] if batch == 1 else x
    benchmark.group = f"route {n_experts} experts b{batch}"
    benchmark.extra_info["engine"] = engine
    benchmark.extra_info["macs"] = batch * n_experts * DIM  # every gate product (a screened router skips most)
    benchmark.extra_info["kind"] = "int8" if engine == "kimi_fann_int8" else "float"
    benchmark(run, arg)


@pytest.fixture(scope="module")
def mixture() -> kf.MixtureOfExperts:
    rng = np.random.default_rng(7)
    experts = []
    for i in range(8):
        net = kf.Network([64, 128, 64, 8], hidden="sigmoid_symmetric", output="sigmoid", seed=i)
        net.randomize_weights(-0.3, 0.3, seed=100 + i)
        experts.append(net)
    return kf.MixtureOfExperts(kf.Router(rng.normal(size=(8, 64)) / 8, top_k=2, scoring="softmax"), experts)


@pytest.fixture(scope="module")
def mixture_q8(mixture: kf.MixtureOfExperts) -> kf.MixtureOfExperts:
    calibration = np.random.default_rng(9).uniform(-1, 1, (1024, 64))
    return kf.MixtureOfExperts(mixture.router, [e.quantize(calibration=calibration) for e in mixture.experts])


@pytest.mark.parametrize(
    "engine", ["kimi_fann", "kimi_fann_q8", "numpy", "experts_pregrouped", "experts_pregrouped_q8"]
)
def test_mixture(benchmark, mixture: kf.MixtureOfExperts, mixture_q8: kf.MixtureOfExperts, engine: str) -> None:
    x = np.random.default_rng(8).uniform(-1, 1, (4096, 64)).astype(np.float32)
    benchmark.group = "mixture 8x 64-128-64-8 top-2 b4096"
    benchmark.extra_info["engine"] = engine
    model = mixture_q8 if engine.endswith("q8") else mixture
    if engine.startswith("kimi_fann"):
        benchmark(lambda: model.run(x, threads=1))
        return
    chosen, weights = mixture.router.route(x)
    if engine.startswith("experts_pregrouped"):
        groups = [np.ascontiguousarray(x[(chosen == e).any(axis=1)]) for e in range(8)]
        benchmark(lambda: [net.run(g, threads=1) for net, g in zip(model.experts, groups)])
        return
    forwards = [peers.numpy_forward(net) for net in mixture.experts]
    g = mixture.router.gates.astype(np.float32)

    def numpy_mixture() -> np.ndarray:
        scores = x @ g.T
        idx = np.argpartition(-scores, 1, axis=1)[:, :2]
        top = np.take_along_axis(scores, idx, axis=1)
        w = np.exp(top - top.max(axis=1, keepdims=True))
        w /= w.sum(axis=1, keepdims=True)
        y = np.zeros((len(x), 8), np.float32)
        for e in range(8):
            rows, slot = np.nonzero(idx == e)
            y[rows] += w[rows, slot, None] * forwards[e](x[rows])
        return y

    np.testing.assert_allclose(numpy_mixture(), mixture.run(x), atol=1e-5)
    benchmark(numpy_mixture)
