"""Errors of the Python API name the limit, the row and the fix (issue 17, item 6): each case
raises the kimi_fann.errors class of its condition with a message that says what was expected."""

from __future__ import annotations

import numpy as np
import pytest

import kimi_fann as kf
from kimi_fann.errors import ConfigError, LimitError, NumericError, ShapeError

EMPTY = kf.TrainingData(np.zeros((0, 2)), np.zeros((0, 1)))


@pytest.mark.parametrize(("layers", "match"), [
    ([2**64, 1], r"make 18446744073709551619 neurons with the bias neurons; a network holds at most 16777216"),
    ([10**9, 10], r"make 1000000012 neurons .* at most 16777216 \(2\*\*24\)"),
    ([10**4, 10**5], r"make 1000100000 connections; a network holds at most 268435456 \(2\*\*28\)"),
])
def test_layer_sizes_beyond_the_limits_name_the_limit(layers: list[int], match: str) -> None:
    with pytest.raises(LimitError, match=match):
        kf.Network(layers)


def test_the_core_limit_message_names_the_limits_too() -> None:
    # a sparse network is counted by the core: its refusal names both limits
    with pytest.raises(LimitError, match=r"exceed the library's limits \(16777216 neurons, 268435456 connections\)"):
        kf._core.Net.create([2**24, 2], False, 0.5, 0)


@pytest.mark.parametrize(("call", "what"), [
    (lambda net: net.train(EMPTY, max_epochs=2), "training"),
    (lambda net: net.train_epoch(EMPTY), "training"),
    (lambda net: net.test(EMPTY), "testing"),
    (lambda net: net.set_scaling(EMPTY), "computing scaling parameters"),
    (lambda net: net.init_weights(EMPTY), "initialising the weights"),
    (lambda net: net.cascade_train(EMPTY, max_neurons=1, desired_error=0.0), "cascade training"),
])
def test_empty_data_is_refused_where_it_gives_no_answer(call: object, what: str) -> None:
    net = kf.Network([2, 3, 1], shortcut=what == "cascade training")
    with pytest.raises(ShapeError, match=f"the data holds no pairs: {what} needs at least one"):
        call(net)  # type: ignore[operator]
    assert not net.has_scaling


def test_an_empty_list_of_rows_is_an_empty_subset() -> None:
    data = kf.TrainingData(np.arange(6.0).reshape(3, 2), np.zeros((3, 1)))
    empty = data.subset_rows([])
    assert (len(empty), empty.num_input, empty.num_output) == (0, 2, 1)
    with pytest.raises(ConfigError, match="rows are outside the 3 pairs"):
        data.subset_rows([5])


def test_fitting_a_mixture_on_empty_data_or_with_too_large_a_top_k() -> None:
    with pytest.raises(ShapeError, match="the data holds no pairs: fitting a mixture needs at least one"):
        kf.MixtureOfExperts.fit(EMPTY, n_experts=2)
    data = kf.TrainingData(np.random.default_rng(0).random((40, 2)), np.zeros((40, 1)))
    for top_k in (0, 3, 2.0):
        with pytest.raises(ConfigError, match=rf"top_k must be an integer in \[1, n_experts=2\], got {top_k!r}"):
            kf.MixtureOfExperts.fit(data, n_experts=2, top_k=top_k, max_epochs=1)


def test_assigning_the_wrong_number_of_weights_says_how_many() -> None:
    net = kf.Network([2, 3, 1])
    with pytest.raises(ShapeError, match=r"the network has 13 weights; got 5 values \(shape \(5,\)\)"):
        net.weights = np.zeros(5)
    with pytest.raises(ShapeError, match=r"got 26 values \(shape \(2, 13\)\)"):
        net.weights = np.zeros((2, 13))
    net.weights = np.zeros((13, 1))  # any shape of the right size
    assert not net.weights.any()


def test_a_change_to_every_neuron_of_a_layer_says_so() -> None:
    net = kf.Network([2, 3, 1])
    with pytest.raises(NumericError, match="cannot set steepness nan on layer 1, every neuron: non-finite"):
        net.set_activation(steepness=float("nan"))
    with pytest.raises(NumericError, match="cannot set steepness inf on layer 2, neuron 0: non-finite"):
        net.set_activation(steepness=float("inf"), layer="output", neuron=0)


def test_inputs_name_the_row_and_column_and_float32s_range() -> None:
    net = kf.Network([2, 3, 1])
    with pytest.raises(NumericError, match=r"inputs: row 0, column 0 holds 1e\+300, beyond float32's range "
                                           r"\(\+-3.4e\+38\)"):
        net.run(np.full((1, 2), 1e300))
    with pytest.raises(NumericError, match="inputs: row 2, column 1 holds nan, not a finite number"):
        net.run([[0, 0], [0, 0], [0, np.nan]])
    with pytest.raises(NumericError, match="inputs: row 0, column 1 holds -inf, not a finite number"):
        net.run([0, -np.inf])


def test_scaling_data_says_what_is_wrong() -> None:
    data = kf.TrainingData([[1.0, 2.0]], [1.0])
    with pytest.raises(ConfigError, match=r"cannot scale the data to \[2, 1\]: the low end must be below the high end"):
        data.scale_inputs(2, 1)
    flat = kf.TrainingData([[1.0, 1.0]], [1.0])
    with pytest.raises(NumericError, match="its values are all equal"):
        flat.scale_inputs(0, 1)
    data.scale_inputs(-1, 1)
    assert data.inputs.tolist() == [[-1.0, 1.0]]
