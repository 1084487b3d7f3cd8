"""Mixtures of experts: the one-call run against routing and running each expert by hand."""

from __future__ import annotations

import numpy as np
import pytest

import kimi_fann as kf
from kimi_fann import errors

from fannsets import fann_dataset


def by_hand(moe: kf.MixtureOfExperts, x: np.ndarray) -> np.ndarray:
    experts, weights = moe.router.route(x)
    y = (moe.shared_expert.run(x) if moe.shared_expert is not None else np.zeros((len(x), moe.num_output), np.float32))
    y = y.astype(np.float32)
    for j in range(experts.shape[1]):
        for i in range(len(x)):
            y[i] += weights[i, j] * moe.experts[experts[i, j]].run(x[i])
    return y


def experts(rng: np.random.Generator, n: int, layers: list[int], quantized: bool) -> list:
    nets = [kf.Network(layers, hidden="sigmoid_symmetric", output="linear", seed=int(rng.integers(1 << 30)))
            for _ in range(n)]
    for net in nets:
        net.randomize_weights(-1, 1, seed=int(rng.integers(1 << 30)))
    if quantized:
        cal = rng.uniform(-1, 1, (200, layers[0]))
        nets = [net.quantize(calibration=cal) if i % 2 else net for i, net in enumerate(nets)]
    return nets


@pytest.mark.parametrize("quantized", [False, True])
@pytest.mark.parametrize("shared", [False, True])
def test_run_equals_routing_and_running_by_hand(quantized: bool, shared: bool) -> None:
    rng = np.random.default_rng([quantized, shared])
    layers = [6, 9, 3]
    nets = experts(rng, 8, layers, quantized)
    router = kf.Router(rng.normal(size=(8, 6)), top_k=3, scoring="sigmoid")
    shared_net = experts(rng, 1, layers, False)[0] if shared else None
    moe = kf.MixtureOfExperts(router, nets, shared_expert=shared_net)
    x = rng.uniform(-1, 1, (300, 6)).astype(np.float32)
    y = moe.run(x)
    np.testing.assert_allclose(y, by_hand(moe, x), rtol=0, atol=1e-6)
    y2, chosen, weights = moe.run(x, return_routes=True, threads=2)
    np.testing.assert_array_equal(y2, y)
    want = router.route(x)
    np.testing.assert_array_equal(chosen, want[0])
    np.testing.assert_array_equal(weights, want[1])
    np.testing.assert_array_equal(moe.run(x[7]), y[7])
    np.testing.assert_array_equal(moe.run(x[7:8]), y[7:8])  # a float32 buffer goes straight to C
    np.testing.assert_array_equal(moe.run(x.astype(np.float64)), y)  # converted first


def test_large_batches_pass_through_in_blocks() -> None:
    rng = np.random.default_rng(2)
    moe = kf.MixtureOfExperts(kf.Router(rng.normal(size=(4, 5)), top_k=2), experts(rng, 4, [5, 4, 2], False))
    x = rng.uniform(-1, 1, (9000, 5))
    y = moe.run(x, threads=1)
    np.testing.assert_array_equal(y[4090:4110], moe.run(x[4090:4110]))
    np.testing.assert_array_equal(y, moe.run(x, threads=2))


def test_construction_errors() -> None:
    rng = np.random.default_rng(3)
    nets = experts(rng, 4, [5, 4, 2], False)
    router = kf.Router(rng.normal(size=(4, 5)), top_k=2)
    with pytest.raises(errors.ShapeError):
        kf.MixtureOfExperts(router, nets[:3])
    with pytest.raises(errors.ShapeError, match="inputs"):
        kf.MixtureOfExperts(router, nets[:3] + [kf.Network([6, 4, 2])])
    with pytest.raises(errors.ShapeError, match="outputs"):
        kf.MixtureOfExperts(router, nets[:3] + [kf.Network([5, 4, 3])])
    with pytest.raises(errors.ConfigError):
        kf.MixtureOfExperts(router, nets[:3] + [nets[3].to_fixed()])
    with pytest.raises(errors.ConfigError):
        kf.MixtureOfExperts(router, nets, domains=["a", "a", "b", "c"])
    with pytest.raises(errors.ShapeError):
        kf.MixtureOfExperts(router, nets, shared_expert=kf.Network([5, 2, 1]))
    moe = kf.MixtureOfExperts(router, nets, domains="wxyz")
    assert moe.domains == ("w", "x", "y", "z") and moe.num_output == 2
    for bad in (np.nan, np.inf):
        with pytest.raises(errors.NumericError):
            moe.run([0, bad, 0, 0, 0])
        with pytest.raises(errors.NumericError):  # the buffer fast path
            moe.run(np.array([[0, 0, 0, 0, 0], [0, bad, 0, 0, 0]], dtype=np.float32))


def test_fit_builds_a_working_mixture() -> None:
    train, test = fann_dataset("building")
    for data in (train, test):
        data.inputs[:] = data.inputs * 2 - 1  # FANN's [0, 1] inputs, centred for the gates
    moe = kf.MixtureOfExperts.fit(train, n_experts=4, hidden=8, top_k=2, max_epochs=80, seed=1)
    assert moe.router.n_experts == 4 and len(moe.experts) == 4
    mse = float(np.mean((moe.run(test.inputs) - test.outputs) ** 2))
    assert mse < 0.02  # a constant predictor gets about 0.04 here
    labelled = kf.MixtureOfExperts.fit(train, n_experts=2, labels=(train.inputs[:, 0] > 0).astype(int),
                                        hidden=4, max_epochs=20)
    chosen, _ = labelled.router.route(train.inputs)
    assert np.mean(chosen[:, 0] == (train.inputs[:, 0] > 0)) > 0.8
    with pytest.raises(errors.ShapeError):
        kf.MixtureOfExperts.fit(train, n_experts=2, labels=np.full(len(train), 5))
