"""Outputs are checked like inputs (issue 17): a NaN or infinity that a run produces, from finite
inputs whose sums overflow float32, raises NumericError naming the row, in every model and on
every path (the fast path, converted inputs, batches split across threads); the quantizer
refuses calibration ranges it cannot represent."""

from __future__ import annotations

import numpy as np
import pytest

import kimi_fann as kf
from kimi_fann._core import row_error
from kimi_fann.errors import ConfigError, NumericError


def _overflowing_net() -> kf.Network:
    """A linear network whose sums go to +inf and -inf on inputs of 3e38: inf - inf is NaN."""
    net = kf.Network([64, 8], output="linear", seed=0)
    net.weights = np.where(np.arange(net.total_connections) % 2 == 0, 2.0, -2.0)
    return net


def _batch(bad_row: int, rows: int = 3000) -> np.ndarray:
    x = np.zeros((rows, 64), np.float32)
    x[bad_row] = 3e38
    return x


@pytest.mark.parametrize("threads", [None, 1, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_float_network_whose_output_is_nan_raises_naming_the_row(threads: int | None, dtype: type) -> None:
    net = _overflowing_net()
    with pytest.raises(NumericError, match=r"cannot run the network: row 2500: the output is NaN or infinite: "
                                           r"a sum inside the model overflowed float32") as info:
        net.run(_batch(2500).astype(dtype), threads=threads)
    assert info.value.row == 2500


@pytest.mark.parametrize("threads", [2, 3, 7])
def test_the_first_overflowing_row_of_a_split_batch_is_named(threads: int) -> None:
    """Each chunk of a split batch checks its own outputs, on the thread that wrote them."""
    net = _overflowing_net()
    x = _batch(2999)
    x[[1700, 400]] = 3e38
    for dtype in (np.float32, np.float64):
        with pytest.raises(NumericError, match="cannot run the network: row 400: the output is NaN") as info:
            net.run(x.astype(dtype), threads=threads)
        assert info.value.row == 400


def test_one_sample_and_the_issue_repro() -> None:
    net = _overflowing_net()
    with pytest.raises(NumericError, match="row 0: the output is NaN"):
        net.run(np.full((1, 64), 3e38, np.float32))
    with pytest.raises(NumericError, match="row 0: the output is NaN"):
        net.run(np.full(64, 3e38, np.float32))
    assert np.isfinite(net.run(np.zeros((2, 64), np.float32))).all()


def test_a_nan_input_names_its_row_on_the_fast_path() -> None:
    net = kf.Network([4, 3, 2], seed=1)
    x = np.zeros((5, 4), np.float32)
    x[3, 2] = np.nan
    with pytest.raises(NumericError, match="cannot run the network: row 3: the input holds NaN or infinity"):
        net.run(x)
    q = net.quantize(np.random.default_rng(0).normal(size=(50, 4)))
    with pytest.raises(NumericError, match="cannot run the quantized network: row 3: the input holds NaN"):
        q.run(x)


@pytest.mark.parametrize("model", ["network", "q8", "router", "mixture"])
def test_a_nan_input_of_a_split_batch_names_its_row_in_the_whole_batch(model: str) -> None:
    """A float32 batch split across threads is not checked in Python first (the core checks
    every chunk): the row is still counted from the start of the whole batch."""
    rng = np.random.default_rng(2)
    net = kf.Network([4, 3, 2], seed=1)
    models = {"network": (net, "cannot run the network"),
              "q8": (net.quantize(rng.normal(size=(50, 4))), "cannot run the quantized network"),
              "router": (kf.Router(rng.normal(size=(3, 4)), top_k=2), "cannot route"),
              "mixture": (kf.MixtureOfExperts(kf.Router(rng.normal(size=(3, 4)), top_k=2),
                                              [kf.Network([4, 3, 2], seed=s) for s in range(3)]), "cannot run the mixture")}
    subject, what = models[model]
    run = subject.route if model == "router" else subject.run
    x = np.zeros((4096, 4), np.float32)
    x[3001, 1] = np.nan
    for threads in (1, 2):
        with pytest.raises(NumericError, match=f"{what}: row 3001: the input holds NaN or infinity") as info:
            run(x, threads=threads)
        assert info.value.row == 3001
    x[3001, 1] = 0.0
    run(x, threads=2)  # the same batch without it runs


def test_a_router_whose_scores_overflow_names_the_row() -> None:
    x = _batch(1234, rows=2000)
    for scoring in ("sigmoid", "softmax"):
        router = kf.Router(np.ones((4, 64)), top_k=2, scoring=scoring)
        with pytest.raises(NumericError, match="cannot route: row 1234: the output is NaN or infinite") as info:
            router.route(x)
        assert info.value.row == 1234


def test_a_mixture_whose_expert_overflows_names_the_row() -> None:
    net = _overflowing_net()
    x = _batch(7, rows=10)
    x[7] = 3e38  # the router's scores overflow too: the first failing row is reported either way
    moe = kf.MixtureOfExperts(kf.Router(np.full((2, 64), 1e-30), top_k=1), [net, net])
    with pytest.raises(NumericError, match="cannot run the mixture: row 7: "):
        moe.run(x)
    for threads in (1, 2):
        with pytest.raises(NumericError, match="cannot run the mixture: row 2900: the output is NaN"):
            moe.run(_batch(2900), threads=threads)


def test_row_errors_move_with_the_batch_they_belong_to() -> None:
    exc = row_error("cannot run", 5, "the output is NaN")
    assert isinstance(exc, NumericError) and exc.row == 5 and exc.status == kf.errors.NumericError(
        "", status=exc.status).status
    moved = exc.with_row_offset(1000)
    assert (str(moved), moved.row) == ("cannot run: row 1005: the output is NaN", 1005)
    plain = NumericError("no row")
    assert plain.row is None and plain.with_row_offset(3) is plain


@pytest.mark.parametrize("span", [3e38, 1.5e38, 1e30, 1e20])
@pytest.mark.parametrize("bits", [8, 16])
def test_quantize_refuses_a_calibration_range_it_cannot_represent(span: float, bits: int) -> None:
    net = kf.Network([4, 6, 2], seed=0)
    cal = np.random.default_rng(0).uniform(-span, span, (50, 4)).astype(np.float32)
    match = "wider than float32 can hold" if span >= 3e38 else "requantization factor is too large to represent"
    with pytest.raises(ConfigError, match=match):
        net.quantize(cal, activation_bits=bits)


def test_quantize_still_takes_a_wide_but_representable_range() -> None:
    net = kf.Network([4, 6, 2], seed=0)
    cal = np.random.default_rng(0).uniform(-1e10, 1e10, (50, 4)).astype(np.float32)
    q = net.quantize(cal)
    assert np.abs(q.run(cal) - net.run(cal)).max() < 0.05
