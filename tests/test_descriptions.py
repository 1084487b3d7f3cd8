"""The typed descriptions (Topology, DenseLayer, QuantizedSpec) and the two kinds of
FixedNetwork: models are made from their descriptions and give them back unchanged."""

from __future__ import annotations

import copy
import dataclasses
import pickle

import numpy as np
import pytest

import kimi_fann as kf
from kimi_fann import errors


@pytest.mark.parametrize("shortcut, rate", [(False, 1.0), (True, 1.0), (False, 0.5)])
def test_a_topology_and_its_weights_rebuild_the_network(shortcut: bool, rate: float) -> None:
    net = kf.Network([4, 6, 5, 3], hidden="elliot_symmetric", output="linear", shortcut=shortcut,
                     connection_rate=rate, seed=3)
    net.weights = np.random.default_rng(0).uniform(-1, 1, net.total_connections)
    t = net.topology
    assert t.layers == net.layers and t.total_connections == net.total_connections
    assert t.shortcut is shortcut and t.connection_rate == net.connection_rate
    assert t.is_fully_connected is (rate == 1.0)
    twin = kf.Network.from_topology(t, net.weights)
    x = np.random.default_rng(1).normal(size=(7, 4)).astype(np.float32)
    np.testing.assert_array_equal(twin.run(x), net.run(x))
    assert twin.to_fann_text() == net.to_fann_text()


def test_descriptions_are_frozen() -> None:
    t = kf.Network([2, 3, 1]).topology
    with pytest.raises(dataclasses.FrozenInstanceError):
        t.shortcut = True  # type: ignore[misc]
    with pytest.raises(ValueError):
        t.sources[0] = 5
    spec = kf.Network([2, 1]).quantize(calibration=np.zeros((2, 2))).spec
    with pytest.raises(ValueError):
        spec.layers[0].weights[0, 0] = 1


def test_the_fully_connected_topology_is_the_one_networks_are_created_with() -> None:
    for shortcut in (False, True):
        t = kf.Network([3, 4, 2], shortcut=shortcut).topology
        full = kf.Topology.fully_connected(t.layer_starts, t.activations, t.steepnesses, shortcut=shortcut)
        np.testing.assert_array_equal(full.connection_starts, t.connection_starts)
        np.testing.assert_array_equal(full.sources, t.sources)
    with pytest.raises(errors.ConfigError):
        kf.Topology.fully_connected([0, 3, 3], [0] * 3, [1.0] * 3)


def test_dense_layers_compute_the_network() -> None:
    """Each dense layer's weights @ inputs + bias, times the steepness, through the activation,
    is the network's forward pass (up to float rounding), for sparse and shortcut networks."""
    rng = np.random.default_rng(2)
    for kwargs in ({"connection_rate": 0.6}, {"shortcut": True}, {}):
        net = kf.Network([5, 7, 4], hidden="sigmoid_symmetric", output="sigmoid_symmetric", seed=1, **kwargs)
        net.weights = rng.uniform(-1, 1, net.total_connections)
        x = rng.uniform(-1, 1, (9, 5))
        outs = [x]
        for dense in net.topology.dense_layers(net.weights):
            assert dense.activation == "sigmoid_symmetric"
            assert dense.weights.shape == dense.connected.shape == (len(dense.bias), sum(net.layers[k] for k in dense.sources))
            assert not dense.weights[~dense.connected].any()
            pre = (np.hstack([outs[k] for k in dense.sources]) @ dense.weights.T + dense.bias) * dense.steepnesses
            outs.append(np.tanh(pre))
        np.testing.assert_allclose(outs[-1], net.run(x), atol=1e-5)


def test_a_quantized_network_is_made_from_its_spec() -> None:
    net = kf.Network([4, 6, 2], hidden="sigmoid_symmetric", output="sigmoid", seed=4)
    x = np.random.default_rng(3).uniform(-1, 1, (40, 4))
    q = net.quantize(calibration=x, activation_bits=16)
    spec = q.spec
    assert spec.format == "q16" and spec.layer_sizes == (4, 6, 2) and spec.input_range == (-32768, 32767)
    assert [layer.activation for layer in spec.layers] == ["sigmoid_symmetric", "sigmoid"]
    assert spec.layers[-1].output_scale == spec.output_scale
    again = kf.QuantizedNetwork(spec)
    np.testing.assert_array_equal(again.run(x), q.run(x))
    assert again.report is None and q.report is not None


def test_the_two_kinds_of_fixed_network() -> None:
    net = kf.Network([3, 4, 2], seed=5)
    fann, q8 = net.to_fixed(), net.quantize(calibration=np.zeros((3, 3)))
    assert isinstance(fann, kf.FannFixedNetwork) and isinstance(fann, kf.FixedNetwork)
    assert isinstance(q8, kf.QuantizedNetwork) and isinstance(q8, kf.FixedNetwork)
    assert fann.format == "fann" and q8.format == "q8" and fann.report is None
    assert isinstance(kf.FixedNetwork.from_fann_text(fann.to_fann_text()), kf.FannFixedNetwork)
    t = fann.topology
    np.testing.assert_array_equal(t.sources, net.topology.sources)
    np.testing.assert_allclose(fann.weights / fann.multiplier, net.weights, atol=1.0 / fann.multiplier)
    with pytest.raises(TypeError):
        kf.FixedNetwork()  # type: ignore[abstract]
    with pytest.raises(errors.ConfigError, match="kfn"):
        q8.save("q8.net")
    for model in (fann, q8):
        for back in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
            assert type(back) is type(model)
            np.testing.assert_array_equal(back.run([0.1, 0.2, 0.3]), model.run([0.1, 0.2, 0.3]))


def test_the_cascade_settings_and_training_parameters_are_public() -> None:
    net = kf.Network([2, 1])
    net.cascade_activation_functions = ["gaussian", "relu"]
    net.cascade_activation_steepnesses = [0.1, 0.2, 0.3]
    assert net.cascade_activation_functions == ("gaussian", "relu")
    np.testing.assert_allclose(net.cascade_activation_steepnesses, [0.1, 0.2, 0.3], rtol=1e-7)
    with pytest.raises(errors.LimitError):
        net.cascade_activation_steepnesses = [1.0] * 65
    with pytest.raises(errors.NumericError):
        net.cascade_activation_steepnesses = [float("nan")]
    with pytest.raises(errors.ConfigError):
        net.cascade_activation_functions = ["tanh"]
    back = kf.kfn.loads(kf.kfn.dumps(net))
    assert back.cascade_activation_functions == ("gaussian", "relu")
    params = net.training_parameters()
    params["training_algorithm"] = 4.0
    net.set_training_parameters(params)
    assert net.training_algorithm == "sarprop"
    with pytest.raises(errors.ConfigError):
        net.set_training_parameters({"no_such_parameter": 1.0})
