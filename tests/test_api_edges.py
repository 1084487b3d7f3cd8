"""The public API's remaining edges: arguments each model refuses (with the reason), what its
descriptions and reprs say, and the corner values (one sample with its routes, a constant output
range, a class's parameter descriptors)."""

from __future__ import annotations

import numpy as np
import pytest

import kimi_fann as kf
from kimi_fann import datasets
from kimi_fann.errors import ConfigError

RNG = np.random.default_rng(0)


def test_training_data_refusals_and_repr() -> None:
    data = kf.TrainingData(RNG.uniform(size=(4, 2)), RNG.uniform(size=(4, 1)))
    assert repr(data) == "TrainingData(n=4, num_input=2, num_output=1)"
    with pytest.raises(ConfigError, match="rows are outside the 4 pairs: index 7 is out of bounds"):
        data.subset_rows([1, 7])
    with pytest.raises(ConfigError, match="can only merge TrainingData, got ndarray"):
        data.merge(np.zeros((2, 3)))
    with pytest.raises(ConfigError, match="unknown data set 'iris'; available: diabetes, thyroid"):
        datasets.load("iris")


def test_network_parameter_refusals() -> None:
    net = kf.Network([2, 3, 1], seed=0)
    data = kf.TrainingData([[0, 0], [1, 1]], [0, 1])
    with pytest.raises(ConfigError, match="max_epochs must be a non-negative integer, got -1"):
        net.train(data, max_epochs=-1)
    with pytest.raises(ConfigError, match="target_error must be finite, got inf"):
        net.train(data, target_error=float("inf"))
    with pytest.raises(ConfigError, match="give input_range, output_range or both"):
        net.set_scaling(data, input_range=None, output_range=None)
    with pytest.raises(ConfigError, match="expected a Topology, got dict"):
        kf.Network.from_topology({"layers": [2, 1]}, [0.0, 0.0, 0.0])
    assert not net.has_scaling  # the refusals changed nothing


def test_parameter_descriptors_on_the_class() -> None:
    """Read on the class, each training parameter is its descriptor, documented (help(), Sphinx)."""
    for name in ("learning_rate", "cascade_max_out_epochs", "training_algorithm"):
        descriptor = getattr(kf.Network, name)
        assert not isinstance(descriptor, (int, float, str)) and descriptor.__doc__
    assert kf.Network.learning_rate.__doc__.startswith("Learning rate")


def test_topology_counts() -> None:
    layered, shortcut = kf.Network([3, 4, 2]).topology, kf.Network([3, 4, 2], shortcut=True).topology
    assert (layered.stored_neurons, layered.total_neurons, layered.num_output) == (12, 11, 2)  # fann_get_total_neurons
    assert (shortcut.stored_neurons, shortcut.total_neurons, shortcut.num_output) == (10, 10, 2)


def test_fixed_networks_quantization_and_repr() -> None:
    net = kf.Network([3, 4, 2], hidden="sigmoid_symmetric", output="sigmoid", seed=1)
    fann = net.to_fixed()
    scale, zero = fann.input_quantization
    np.testing.assert_array_equal(scale, np.full(3, 1.0 / fann.multiplier))
    np.testing.assert_array_equal(zero, np.zeros(3, np.int32))
    assert fann.output_quantization == (1.0 / fann.multiplier, 0)
    with pytest.raises(ConfigError, match="a FannFixedNetwork owns a compiled FixNet, got Network"):
        kf.FannFixedNetwork(net)
    q8 = net.quantize(calibration=RNG.uniform(-1, 1, (50, 3)))
    assert q8.layers == (3, 4, 2) and q8.spec.num_output == 2 and q8.spec.layers[0].n_in == 3
    assert repr(q8) == "FixedNetwork(layers=[3, 4, 2], format='q8', weight_bits=8)"


def test_constant_outputs_get_a_unit_range() -> None:
    """An output that never moves on the calibration inputs (here: every weight 0, sigmoid(0) =
    0.5) is quantized over [value - 0.5, value + 0.5]: 8 bits of 1/255 from 0."""
    net = kf.Network([2, 1], output="sigmoid")
    net.weights = np.zeros(3)
    q8 = net.quantize(calibration=RNG.uniform(-1, 1, (20, 2)))
    assert q8.output_quantization == (pytest.approx(1.0 / 255.0), 0)
    np.testing.assert_allclose(q8.run(RNG.uniform(-1, 1, (5, 2))), 0.5, atol=1.0 / 255.0)


def test_router_quantized_gates_are_copies() -> None:
    gates = RNG.normal(size=(4, 3))
    assert kf.Router(gates, top_k=2).quantized_gates is None
    router = kf.Router(gates, top_k=2, gate_bits=8)
    q, scale = router.quantized_gates
    assert q.dtype == np.int16 and q.shape == (4, 3) and np.abs(q).max() == 127 and scale.shape == (4,)
    np.testing.assert_allclose(q * scale[:, None], gates, atol=scale.max())
    q[:] = 0  # a copy: the router keeps its own
    assert np.abs(router.quantized_gates[0]).max() == 127


def test_mixture_refusals_repr_and_one_sample() -> None:
    router = kf.Router(RNG.normal(size=(3, 2)), top_k=2)
    experts = [kf.Network([2, 3, 1], seed=s) for s in range(3)]
    with pytest.raises(ConfigError, match="router must be a Router, got ndarray"):
        kf.MixtureOfExperts(RNG.normal(size=(3, 2)), experts)
    moe = kf.MixtureOfExperts(router, experts)
    assert repr(moe).startswith("MixtureOfExperts(experts=3, top_k=2, ")
    x = RNG.uniform(-1, 1, (4, 2))
    y, chosen, weights = moe.run(x, return_routes=True)
    y0, chosen0, weights0 = moe.run(x[0], return_routes=True)  # one sample: one row of each
    assert y0.shape == (1,) and chosen0.shape == weights0.shape == (2,)
    np.testing.assert_array_equal(y0, y[0])
    np.testing.assert_array_equal(chosen0, chosen[0])
    np.testing.assert_array_equal(weights0, weights[0])
    data = kf.TrainingData(x, y)
    with pytest.raises(ConfigError, match="expected TrainingData or a pair of dask arrays, got tuple"):
        kf.MixtureOfExperts.fit((x, y), n_experts=2)
    with pytest.raises(ConfigError, match="n_experts must be a positive integer, got 0"):
        kf.MixtureOfExperts.fit(data, n_experts=0)


def test_a_shortcut_layer_that_skips_the_inputs_quantizes_as_zero_columns() -> None:
    """A shortcut network's output neuron that reads the hidden layer but none of the inputs (only
    their bias) is quantized as if it read the inputs with weight 0: the same integers as the
    fully connected network whose input weights into it are 0."""
    starts = [0, 3, 6, 7]  # 2 inputs and their bias, 3 hidden, 1 output
    activations = [0, 0, 0, 5, 5, 5, 3]
    steepnesses = [0, 0, 0, 0.5, 0.5, 0.5, 0.5]
    skipping = kf.Topology(starts, [0, 0, 0, 0, 3, 6, 9, 13], [0, 1, 2] * 3 + [2, 3, 4, 5], activations, steepnesses,
                           shortcut=True)
    hidden_w = RNG.uniform(-1, 1, 9)
    output_w = RNG.uniform(-1, 1, 4)  # bias, then the three hidden neurons
    net = kf.Network.from_topology(skipping, np.concatenate([hidden_w, output_w]))
    full = kf.Network.from_topology(kf.Topology.fully_connected(starts, activations, steepnesses, shortcut=True),
                                    np.concatenate([hidden_w, [0.0, 0.0], output_w]))
    x = RNG.uniform(-1, 1, (64, 2))
    np.testing.assert_array_equal(net.run(x), full.run(x))
    q, q_full = net.quantize(calibration=x), full.quantize(calibration=x)
    np.testing.assert_array_equal(q.spec.layers[1].weights, q_full.spec.layers[1].weights)
    np.testing.assert_array_equal(q.run(x), q_full.run(x))
    assert np.abs(q.run(x) - net.run(x)).max() < 0.02
