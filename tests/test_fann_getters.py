"""Every FANN getter on freshly created networks, kimi-fann's answer against libfann 2.2's.

A network made by ``kf.Network(layers)`` (with ``connection_rate`` or ``shortcut``) must be the
one ``fann_create_standard``, ``fann_create_sparse`` or ``fann_create_shortcut`` makes: the same
counts, structure, activations and steepnesses (bias neurons included), training and cascade
parameters and error state, and so the same ``.net`` file but for the random weights. libfann
is driven through ctypes (tests/fannref.py); skipped where it is not installed.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import kimi_fann as kf
from kimi_fann import errors

import fannref

pytestmark = pytest.mark.skipif(not fannref.available(), reason="libfann 2.2 is not installed")

LAYER_SETS = [[2, 3, 4], [2, 3, 4, 5], [5, 1], [3, 7, 2, 4, 1], [1, 1, 1]]
KINDS = {"standard": {}, "sparse 0.5": {"connection_rate": 0.5}, "sparse 0.01": {"connection_rate": 0.01},
         "sparse 0.8": {"connection_rate": 0.8}, "shortcut": {"shortcut": True}}

# The training and numeric cascade parameters, as the .net file and fann_get_<name> name them
PARAMS = tuple(kf.Network([1, 1]).training_parameters())
# The getters the sweep compares, by the name after fann_get_ ...
SWEPT = {
    "num_input", "num_output", "num_layers", "layer_array", "bias_array", "total_neurons",
    "total_connections", "connection_rate", "network_type", "connection_array",
    "activation_function", "activation_steepness", "MSE", "bit_fail", *PARAMS,
    "cascade_activation_functions", "cascade_activation_functions_count",
    "cascade_activation_steepnesses", "cascade_activation_steepnesses_count", "cascade_num_candidates",
}
# ... and those it leaves out, with the reason.
NOT_SWEPT = {
    "errno": "errors are exceptions: there is no error state to read",
    "errstr": "errors are exceptions: the message is the exception's",
    "user_data": "any Python attribute stands for it",
    "decimal_point": "libfixedfann only; FannFixedNetwork.decimal_point is held against it in test_fann_fixed.py",
    "multiplier": "libfixedfann only; FannFixedNetwork.multiplier is held against it in test_fann_fixed.py",
}


# FANN's enumerations in their order, as the attributes name them
CHOICES = {"training_algorithm": kf.TRAINING_ALGORITHMS, "train_error_function": ("linear", "tanh"),
           "train_stop_function": ("mse", "bit")}


def create(kind: str, layers: list[int]) -> tuple[fannref.FloatNet, kf.Network]:
    """The same network made by libfann and by kimi-fann."""
    options = KINDS[kind]
    if "connection_rate" in options:
        ref = fannref.FloatNet.sparse(options["connection_rate"], layers)
    elif options.get("shortcut"):
        ref = fannref.FloatNet.shortcut(layers)
    else:
        ref = fannref.FloatNet.standard(layers)
    return ref, kf.Network(layers, **options)


def test_the_sweep_covers_every_getter_of_libfanns_headers() -> None:
    """Every fann_get_* that libfann-dev's headers declare is swept or set aside with a reason."""
    headers = sorted(Path("/usr/include").glob("*fann*.h"))
    if not headers:
        pytest.skip("libfann-dev's headers are not installed")
    text = "".join(path.read_text(encoding="latin-1") for path in headers)
    declared = set(re.findall(r"FANN_EXTERNAL\s[^;{()]*?\bfann_get_(\w+)\s*\(", text))
    assert len(declared) >= 50
    assert declared == SWEPT | set(NOT_SWEPT)
    assert not SWEPT & set(NOT_SWEPT)


@pytest.mark.parametrize("layers", LAYER_SETS, ids=lambda layers: "-".join(map(str, layers)))
@pytest.mark.parametrize("kind", KINDS)
def test_every_getter_matches_libfann_on_a_fresh_network(kind: str, layers: list[int]) -> None:
    ref, net = create(kind, layers)

    # sizes and kind
    assert (net.num_input, net.num_output) == (ref.num_input, ref.num_output)
    assert len(net.layers) == ref.num_layers
    assert net.layers == tuple(ref.get_layer_array())
    assert net.layer_biases == tuple(ref.get_bias_array())
    assert net.total_neurons == ref.total_neurons
    assert net.total_connections == ref.total_connections
    assert int(net.shortcut) == ref.network_type
    assert np.float32(net.connection_rate) == np.float32(ref.connection_rate)

    # connections: the same for standard and shortcut networks; a sparse network's sources are
    # random in both, but every neuron has as many, from the same layer, its layer's bias among them
    src, dst, w = net.connections()
    ref_src, ref_dst, ref_w = ref.get_connections()
    np.testing.assert_array_equal(dst, ref_dst)
    topology = net.topology
    if kind.startswith("sparse"):
        layer_of = topology.layer_of
        np.testing.assert_array_equal(layer_of[src], layer_of[ref_src])
        bias = topology.bias_neurons
        assert sorted(set(dst[np.isin(src, bias)].tolist())) == sorted(set(ref_dst[np.isin(ref_src, bias)].tolist()))
        assert len(set(zip(src.tolist(), dst.tolist()))) == len(src)  # no connection twice
    else:
        np.testing.assert_array_equal(src, ref_src)
    assert np.abs(w).max() <= 0.1 and np.abs(ref_w).max() <= 0.1  # both uniform in [-0.1, 0.1]

    # activation function and steepness of every neuron, bias neurons included
    for layer in range(1, len(layers)):
        for neuron in range(layers[layer] + (0 if net.shortcut else 1)):
            function, steepness = net.get_activation(layer, neuron)
            assert kf.ACTIVATIONS.index(function) == ref.get_activation_function(layer, neuron), (layer, neuron)
            assert np.float32(steepness) == np.float32(ref.get_activation_steepness(layer, neuron)), (layer, neuron)
        with pytest.raises(errors.ConfigError):  # where libfann reports "index out of bound"
            net.get_activation(layer, layers[layer] + (0 if net.shortcut else 1))

    # training and cascade parameters
    params = net.training_parameters()
    for name in PARAMS:
        theirs = ref.get_cascade(name) if name.startswith("cascade_") else ref.get(name)
        value = getattr(net, name)
        if name in CHOICES:  # an enumeration, read by name
            assert value == CHOICES[name][theirs], name
        else:
            assert np.float32(value) == np.float32(theirs), name
        assert np.float32(params[name]) == np.float32(theirs), name
    functions = [kf.ACTIVATIONS.index(f) for f in net.cascade_activation_functions]
    assert functions == ref.get_cascade_activation_functions()
    np.testing.assert_array_equal(np.float32(net.cascade_activation_steepnesses),
                                  np.float32(ref.get_cascade_activation_steepnesses()))
    candidates = len(functions) * len(net.cascade_activation_steepnesses) * net.cascade_num_candidate_groups
    assert candidates == ref.get_cascade_num_candidates()

    # error state and scaling: nothing yet
    assert net.mse == ref.mse == 0.0
    assert net.bit_fail == ref.bit_fail == 0
    assert not net.has_scaling and net.scaling_parameters() is None


@pytest.mark.parametrize("layers", LAYER_SETS, ids=lambda layers: "-".join(map(str, layers)))
@pytest.mark.parametrize("kind", KINDS)
def test_a_fresh_network_saves_libfanns_file_but_for_the_weights(tmp_path, kind: str, layers: list[int]) -> None:
    """fann_save of a fresh network against Network.save: every line equal, and in the
    connections line the same neurons (every neuron's count for a sparse network, whose
    sources are drawn at random by both)."""
    ref, net = create(kind, layers)
    ref.save(tmp_path / "libfann.net")
    theirs = (tmp_path / "libfann.net").read_bytes().split(b"\n")
    ours = net.to_fann_text().split(b"\n")
    assert len(ours) == len(theirs)
    for line, ref_line in zip(ours, theirs):
        if line.startswith(b"connections (connected_to_neuron, weight)="):
            sources = re.findall(rb"\((\d+), ", line)
            assert len(sources) == len(re.findall(rb"\((\d+), ", ref_line)) == net.total_connections
            if not kind.startswith("sparse"):
                assert sources == re.findall(rb"\((\d+), ", ref_line)
        else:
            assert line == ref_line


def test_activation_setters_reach_the_bias_neurons_as_libfanns_do() -> None:
    """Network(layers, hidden=..., output=..., steepness=...) acts as create, then
    fann_set_activation_function_hidden/_output and fann_set_activation_steepness_hidden/_output:
    bias neurons included, the output layer's too."""
    layers = [3, 4, 2]
    ref = fannref.FloatNet.standard(layers)
    ref.set_activation_function_hidden(kf.ACTIVATIONS.index("elliot"))
    ref.set_activation_steepness_hidden(0.75)
    ref.set_activation_function_output(kf.ACTIVATIONS.index("linear_piece"))
    ref.set_activation_steepness_output(0.75)
    net = kf.Network(layers, hidden="elliot", output="linear_piece", steepness=0.75)
    for layer in (1, 2):
        for neuron in range(layers[layer] + 1):
            function, steepness = net.get_activation(layer, neuron)
            assert kf.ACTIVATIONS.index(function) == ref.get_activation_function(layer, neuron)
            assert steepness == ref.get_activation_steepness(layer, neuron)
    only_hidden = kf.Network(layers, hidden="elliot")  # the output layer keeps FANN's default
    assert only_hidden.get_activation(2, 0) == ("sigmoid_stepwise", 0.5)
    assert only_hidden.get_activation(2, 2) == ("linear", 0.0)  # its bias neuron untouched
    assert only_hidden.get_activation(1, 4) == ("elliot", 0.0)  # the hidden bias: function set, steepness not


def test_mse_and_bit_fail_follow_fann_train(tmp_path) -> None:
    """fann_get_MSE and fann_get_bit_fail after fann_train steps from the same .net file: the
    same weights, MSE and failed bits; fann_reset_MSE clears both."""
    ref = fannref.FloatNet.standard([3, 5, 2])
    fannref.FloatNet.seed(7)
    ref.randomize_weights(-0.5, 0.5)
    ref.save(tmp_path / "start.net")
    net = kf.Network.load(tmp_path / "start.net")
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (60, 3)).astype(np.float32)
    y = rng.uniform(0, 1, (60, 2)).astype(np.float32)
    for i in range(len(x)):
        ref.train(x[i], y[i])
        net.train_sample(x[i], y[i])
        if i in (0, 17, 59):
            assert net.mse == ref.mse and net.bit_fail == ref.bit_fail > 0
    np.testing.assert_array_equal(net.weights, ref.get_connections()[2])
    ref.reset_mse()
    net.reset_mse()
    assert net.mse == ref.mse == 0.0 and net.bit_fail == ref.bit_fail == 0
    ref.train(x[0], y[0])
    net.train_sample(x[0], y[0])
    assert net.mse == ref.mse > 0 and net.bit_fail == ref.bit_fail
