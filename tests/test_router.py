"""The router against a numpy model, on every SIMD path; ties, NaN, k = n_experts, load balancing."""

from __future__ import annotations

import numpy as np
import pytest

import kimi_fann as kf
from kimi_fann import errors

import routeref

PATHS = kf.simd_info()["supported"]


def reference(router: kf.Router, x: np.ndarray):
    if router.gate_bits == 32:
        scores = routeref.float_scores(x, router.gates)
    else:
        gates_q, scale = router._quantized
        scores = routeref.quantized_scores(x, gates_q, scale, router.gate_bits)
    return routeref.select(scores, router.top_k, router.scoring, router.bias, router.scaling)


@pytest.mark.parametrize("gate_bits", [32, 16, 8])
@pytest.mark.parametrize("scoring", ["softmax", "sigmoid"])
def test_routes_like_the_numpy_model(gate_bits: int, scoring: str) -> None:
    rng = np.random.default_rng([gate_bits, len(scoring)])
    for n_experts, dim, k in [(1, 1, 1), (8, 5, 2), (64, 33, 8), (384, 96, 8), (1024, 17, 16), (12, 40, 12)]:
        gates = rng.normal(size=(n_experts, dim)) / np.sqrt(dim)
        bias = rng.normal(scale=0.1, size=n_experts) if scoring == "sigmoid" else None
        router = kf.Router(gates, bias, top_k=k, scoring=scoring, scaling=2.5 if scoring == "sigmoid" else 1.0,
                           gate_bits=gate_bits)
        x = rng.normal(size=(37, dim)).astype(np.float32)
        want_experts, want_weights = reference(router, x)
        scalar = router.route(x, simd="scalar")
        if gate_bits == 32:
            # float scores: the same choices wherever the k-th and next scores are not a near tie
            value = np.sort(routeref.selection_values(routeref.float_scores(x, router.gates), scoring, bias), axis=1)
            clear = k == n_experts or np.all(value[:, -k] - value[:, -k - 1] > 1e-4)
            if clear:
                np.testing.assert_array_equal(scalar[0], want_experts)
            np.testing.assert_allclose(scalar[1], want_weights, rtol=1e-4, atol=1e-5)
        else:
            np.testing.assert_array_equal(scalar[0], want_experts, err_msg=f"{n_experts}x{dim} k={k}")
            np.testing.assert_allclose(scalar[1], want_weights, rtol=1e-6, atol=1e-7)
        for path in PATHS:  # every path: the scalar path's bits
            experts, weights = router.route(x, simd=path)
            np.testing.assert_array_equal(experts, scalar[0], err_msg=f"{n_experts}x{dim} k={k} {path}")
            np.testing.assert_array_equal(weights, scalar[1])
        one = router.route(x[3])
        np.testing.assert_array_equal(one[0], scalar[0][3])


def test_ties_go_to_the_lower_index() -> None:
    gates = np.tile([[1.0, 2.0, 3.0]], (6, 1))  # every expert scores the same
    for scoring in ("softmax", "sigmoid"):
        experts, weights = kf.Router(gates, top_k=3, scoring=scoring).route([[0.5, 0.25, 1.0], [-1, -1, -1]])
        np.testing.assert_array_equal(experts, [[0, 1, 2], [0, 1, 2]])
        np.testing.assert_allclose(weights, 1 / 3, rtol=1e-6)
    gates = np.array([[0.0], [1.0], [1.0], [0.5]])
    np.testing.assert_array_equal(kf.Router(gates, top_k=2, scoring="softmax").route([1.0])[0], [1, 2])


@pytest.mark.parametrize("gate_bits", [32, 8])
def test_ties_among_many_experts_on_every_path(gate_bits: int) -> None:
    # Scores with few distinct values across 203 experts: the SIMD selection skips blocks of
    # eight against the current k-th and must still keep every earlier of equal values.
    rng = np.random.default_rng(5)
    gates = rng.integers(-1, 2, size=(203, 3)).astype(np.float32)
    x = rng.integers(-2, 3, size=(41, 3)).astype(np.float32)
    for k in (1, 5, 16):
        router = kf.Router(gates, top_k=k, scoring="softmax", gate_bits=gate_bits)
        want, _ = reference(router, x)
        for path in PATHS:
            experts, _ = router.route(x, simd=path)
            np.testing.assert_array_equal(experts, want, err_msg=f"k={k} {path}")


@pytest.mark.parametrize("n", [1, 7, 8, 9, 16, 17, 24, 63, 64, 65, 200, 1024])
def test_selection_on_every_path_for_every_order(n: int) -> None:
    # One input of 1.0 and one-column gates: the scores are the gates, exactly. The SIMD
    # selection bounds the k-th from below by lane maxima over ceil(k / 8) streams of vectors:
    # sizes around the vector width and orders that put the largest first, last or in one lane.
    rng = np.random.default_rng(n)
    orders = {
        "ascending": np.arange(n), "descending": np.arange(n)[::-1], "equal": np.zeros(n),
        "few values": rng.integers(0, 3, n), "random": rng.normal(size=n),
        "one lane": np.where(np.arange(n) % 8 == 3, 100 + np.arange(n), -np.arange(n)),
    }
    for name, values in orders.items():
        gates = np.asarray(values, np.float32)[:, None]
        want = np.argsort(-gates[:, 0], kind="stable")
        for k in sorted({1, 7, 8, 9, 16, 17, 40, 64, n} & set(range(1, min(n, 64) + 1))):
            router = kf.Router(gates, top_k=k, scoring="softmax")
            for path in PATHS:
                np.testing.assert_array_equal(router.route([1.0], simd=path)[0], want[:k],
                                              err_msg=f"{name} n={n} k={k} {path}")


def test_float_gate_sums_round_once_on_every_path() -> None:
    # Element 8 joins partial sum 0 by a fused multiply-add: fma(1 + 2^-15, 2^-24 (1 - 2^-15),
    # 1 + 2^-23) = 1 + 2^-23 + 2^-24 - 2^-54 rounds once, down to 1 + 2^-23. A product and a
    # sum in double round first to the halfway 1 + 2^-23 + 2^-24, then to even, 1 + 2^-22: the
    # score of expert 1 (exactly 1 + 2^-22), which would win the tie as the lower index.
    x = np.zeros(9, np.float32)
    x[0], x[8] = 1 + 2.0**-23, 1 + 2.0**-15
    gates = np.zeros((3, 9), np.float32)
    gates[0, 0], gates[0, 8] = 1.0, 2.0**-24 * (1 - 2.0**-15)
    gates[1, 0], gates[1, 8] = 1.0, 2.0**-24  # 1 + 2^-23 + 2^-24 + 2^-39: rounds up to 1 + 2^-22
    gates[2, 0] = 1.0 - 2.0**-24  # below both
    router = kf.Router(gates, top_k=3, scoring="softmax")
    for path in PATHS:
        np.testing.assert_array_equal(router.route(x, simd=path)[0], [1, 0, 2], err_msg=path)


def test_k_equals_n_experts_orders_everything() -> None:
    gates = np.random.default_rng(1).normal(size=(7, 4))
    x = np.random.default_rng(2).normal(size=(5, 4))
    experts, weights = kf.Router(gates, top_k=7, scoring="softmax").route(x)
    assert all(sorted(row) == list(range(7)) for row in experts.tolist())
    np.testing.assert_allclose(weights.sum(axis=1), 1, rtol=1e-6)
    assert np.all(np.diff(weights, axis=1) <= 0)


def test_bad_input() -> None:
    router = kf.Router(np.ones((4, 3)), top_k=2)
    with pytest.raises(errors.NumericError):
        router.route([1.0, np.nan, 0.0])
    with pytest.raises(errors.NumericError):
        router.route([[1.0, 0.0, np.inf]])
    with pytest.raises(errors.ShapeError):
        router.route(np.zeros((2, 4)))
    for kwargs in [dict(top_k=5), dict(top_k=0), dict(scoring="relu"), dict(gate_bits=4), dict(scaling=-1.0)]:
        with pytest.raises(errors.ConfigError):
            kf.Router(np.ones((4, 3)), **kwargs)
    with pytest.raises(errors.NumericError):
        kf.Router(np.array([[1.0, np.nan]]))
    with pytest.raises(errors.ShapeError):
        kf.Router(np.ones((4, 3)), bias=np.zeros(3))
    with pytest.raises(errors.NumericError):
        router.bias = [0, 0, np.inf, 0]
    assert router.route(np.zeros((0, 3)))[0].shape == (0, 2)


@pytest.mark.parametrize("gate_bits", [32, 16, 8])
def test_a_non_finite_value_anywhere_in_a_row_is_refused_on_every_path(gate_bits: int) -> None:
    # float32 C-contiguous rows go straight to C: its checks (the SIMD body and the scalar tail
    # of the quantizer's abs-max) must catch every position
    router = kf.Router(np.random.default_rng(0).normal(size=(9, 40)), top_k=2, gate_bits=gate_bits)
    for position in (0, 15, 16, 31, 32, 39):
        for bad in (np.nan, np.inf, -np.inf):
            x = np.ones((3, 40), np.float32)
            x[1, position] = bad
            for path in PATHS:
                with pytest.raises(errors.NumericError):
                    router.route(x, simd=path)


@pytest.mark.parametrize("gate_bits", [16, 8])
def test_rows_of_tiny_values_quantize_like_the_model(gate_bits: int) -> None:
    # qmax / max|x| overflows float for subnormal rows; zeros times that step would be NaN
    router = kf.Router(np.random.default_rng(4).normal(size=(9, 40)), top_k=3, scoring="softmax", gate_bits=gate_bits)
    x = np.zeros((3, 40), np.float32)
    x[0, 5], x[1, [7, 9]], x[2, :] = 1e-45, [-3e-45, 2e-40], 1e-38
    want, _ = reference(router, x)
    for path in PATHS:
        np.testing.assert_array_equal(router.route(x, simd=path)[0], want, err_msg=path)


def _exact_float_router_case(rng: np.random.Generator, n_experts: int, dim: int, kind: str):
    """Gates k / 2^10 (|k| <= 127) and inputs j / 2^4 (|j| <= 15): products of at most eleven
    bits on one scale, sums below 2^24, so every float score is exact and equals the float64 one."""
    if kind == "spread":
        g = rng.integers(-63, 64, size=(n_experts, dim))
        g[200:212] = g[:12]  # equal rows: exact ties, to the lower index
        x = rng.integers(-15, 16, size=(256, dim))
    elif kind == "exact inputs":  # inputs +-15: exact in int8, so only the gates' int8 error counts
        g = rng.integers(-32, 33, size=(n_experts, dim))
        g[:, 0] = 32
        x = 15 * rng.choice([-1, 1], size=(256, dim))
    elif kind == "exact gates":  # steps of one: the gates' int8 copy is exact, the inputs' is not
        g = rng.integers(-127, 128, size=(n_experts, dim))
        g[:, 0] = 127
        x = rng.integers(-15, 16, size=(256, dim))
    else:  # near-equal rows: the screen's bounds overlap and every expert is scored
        g = np.clip(rng.integers(-40, 41, size=dim) + rng.integers(-2, 3, size=(n_experts, dim)), -63, 63)
        x = rng.integers(-15, 16, size=(256, dim))
    return (g / 1024).astype(np.float32), (x / 16).astype(np.float32)


@pytest.mark.parametrize("scoring", ["softmax", "sigmoid"])
@pytest.mark.parametrize("biased", [False, True])
@pytest.mark.parametrize("kind", ["spread", "exact inputs", "exact gates", "near-equal"])
def test_screened_float_routers_choose_as_scoring_every_expert(scoring: str, biased: bool, kind: str) -> None:
    # 384 float experts, top 8: the router screens them through an int8 copy of the gates whose
    # scores are off by up to a few tenths here, and scores in float only those that can be
    # chosen. The choices must be those of every exact float score (ties to the lower index).
    rng = np.random.default_rng([len(scoring), biased, len(kind), 1])
    gates, x = _exact_float_router_case(rng, 384, 768, kind)
    bias = (rng.normal(loc=-2.0, scale=0.1, size=384) * 64).round().astype(np.float32) / 64 if biased else None
    router = kf.Router(gates, bias, top_k=8, scoring=scoring)
    scores = x.astype(np.float64) @ gates.astype(np.float64).T
    assert np.array_equal(scores.astype(np.float32), scores)
    s32 = scores.astype(np.float32)
    if scoring == "softmax":
        value = s32 if bias is None else s32 + bias
    elif bias is None:
        value = s32
    else:  # the engine's float sigmoid may differ from numpy's in the last bit: only clear rows
        value = (1 / (1 + np.exp(-scores)) + bias).astype(np.float32)
    want = np.argsort(-value, axis=1, kind="stable")[:, :8]
    ordered = -np.sort(-value.astype(np.float64), axis=1)
    clear = (ordered[:, 7] - ordered[:, 8] > 1e-5) if (scoring, biased) == ("sigmoid", True) else np.ones(len(x), bool)
    _, want_weights = routeref.select(s32, 8, scoring, bias, 1.0)
    for path in PATHS:
        experts, weights = router.route(x, simd=path)
        np.testing.assert_array_equal(experts[clear], want[clear], err_msg=path)
        if scoring == "softmax" or not biased:
            np.testing.assert_allclose(weights, want_weights, rtol=1e-6, err_msg=path)
        one = router.route(x[0], simd=path)
        np.testing.assert_array_equal(one[0], experts[0])


def test_screened_router_at_the_ends_of_float() -> None:
    # Scores beyond float: the screen's bounds are too, every expert is scored, the overflow
    # refused. Inputs of about 2^-110: the int8 step is below 2^-100 and every expert is scored.
    gates = np.full((384, 16), 2.0, np.float32)
    gates[5] = 3.0
    router = kf.Router(gates, top_k=8, scoring="softmax")
    np.testing.assert_array_equal(router.route(np.full(16, 1e30, np.float32))[0], [5, 0, 1, 2, 3, 4, 6, 7])
    for path in PATHS:
        with pytest.raises(errors.NumericError):
            router.route(np.full(16, 3e37, np.float32), simd=path)
    rng = np.random.default_rng(11)
    gates, _ = _exact_float_router_case(rng, 384, 64, "spread")
    x = (rng.integers(-15, 16, size=(20, 64)) * 2.0**-110).astype(np.float32)
    want = np.argsort(-(x.astype(np.float64) @ gates.astype(np.float64).T), axis=1, kind="stable")[:, :8]
    router = kf.Router(gates, top_k=8, scoring="softmax")
    for path in PATHS:
        np.testing.assert_array_equal(router.route(x, simd=path)[0], want, err_msg=path)


def test_load_counts_and_threads() -> None:
    rng = np.random.default_rng(3)
    router = kf.Router(rng.normal(size=(16, 8)), top_k=4, scoring="softmax")
    x = rng.normal(size=(3000, 8))
    experts, weights, load = router.route(x, return_load=True, threads=2)
    assert load.sum() == 3000 * 4
    np.testing.assert_array_equal(load, np.bincount(experts.ravel(), minlength=16))
    serial = router.route(x, threads=1)
    np.testing.assert_array_equal(serial[0], experts)
    np.testing.assert_array_equal(serial[1], weights)


def test_bias_updates_even_out_a_skewed_stream() -> None:
    rng = np.random.default_rng(4)
    n_experts, dim = 16, 12
    gates = rng.normal(size=(n_experts, dim))
    gates[:3] *= 4  # three experts dominate the scores
    router = kf.Router(gates, top_k=2, scoring="sigmoid")
    loads = []
    for _ in range(300):
        x = rng.normal(loc=0.3, size=(512, dim))
        _, _, load = router.route(x, return_load=True)
        loads.append(load)
        router.update_bias(load, rate=0.01)
    first, last = loads[0], np.sum(loads[-100:], axis=0)
    assert first.max() / first.mean() > 2.5
    assert last.max() / last.mean() < 1.2  # the last 100 batches together: evenly loaded
    assert router.bias is not None and router.bias[:3].max() < router.bias[3:].mean()


def test_update_bias_checks_its_arguments() -> None:
    router = kf.Router(np.ones((4, 3)), top_k=1)
    with pytest.raises(errors.ShapeError):
        router.update_bias([1, 2, 3])
    with pytest.raises(errors.ConfigError):
        router.update_bias([1, 2, 3, 4], rate=float("nan"))
