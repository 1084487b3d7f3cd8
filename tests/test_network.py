"""Network: construction, running, parameters, weights, copies and files (no libfann needed)."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import kimi_fann as kf
from kimi_fann import errors


def reference_forward(net: kf.Network, x: np.ndarray) -> np.ndarray:
    """A numpy model of a layered network with linear/sigmoid_symmetric/sigmoid activations."""
    src, dst, w = net.connections()
    starts = np.cumsum([0] + [n + 1 for n in net.layers])
    values = np.zeros(net.stored_neurons)
    values[: net.num_input] = x
    values[net.num_input] = 1.0
    for layer in range(1, len(net.layers)):
        for j in range(starts[layer], starts[layer + 1]):
            mask = dst == j
            if not mask.any():
                values[j] = 1.0
                continue
            function, steepness = net.get_activation(layer, j - starts[layer])
            s = steepness * float(np.dot(w[mask].astype(np.float64), values[src[mask]]))
            values[j] = {"linear": s, "sigmoid": 1 / (1 + np.exp(-2 * s)), "sigmoid_symmetric": np.tanh(s)}[function]
    return values[starts[-2] : starts[-2] + net.num_output]


def test_defaults_and_structure() -> None:
    net = kf.Network([3, 5, 2])
    assert net.layers == (3, 5, 2)
    assert (net.num_input, net.num_output) == (3, 2)
    assert net.total_neurons == 4 + 6 + 2  # fann_get_total_neurons: no output bias
    assert net.stored_neurons == 4 + 6 + 3 and net.layer_biases == (1, 1, 0)
    assert net.total_connections == 5 * 4 + 2 * 6
    assert net.get_activation(1, 0) == ("sigmoid_stepwise", 0.5)  # fann_create_standard's neurons
    assert net.get_activation(2, 1) == ("sigmoid_stepwise", 0.5)
    assert net.training_algorithm == "rprop" and net.learning_rate == pytest.approx(0.7)
    assert np.all(np.abs(net.weights) <= 0.1)
    assert "layers=[3, 5, 2]" in repr(net)


def test_run_matches_a_numpy_model() -> None:
    net = kf.Network([4, 6, 3], hidden="sigmoid_symmetric", output="linear", steepness=0.8, seed=3)
    net.randomize_weights(-1, 1, seed=9)
    x = np.random.default_rng(0).uniform(-1, 1, size=(5, 4))
    y = net.run(x)
    expected = np.array([reference_forward(net, row) for row in x])
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)


def test_run_accepts_any_layout_and_dtype() -> None:
    net = kf.Network([3, 4, 2], seed=2)
    x = np.random.default_rng(1).normal(size=(6, 3))
    expected = net.run(x.astype(np.float32))
    np.testing.assert_array_equal(net.run(x), expected)  # float64
    np.testing.assert_array_equal(net.run(np.asfortranarray(x)), expected)
    np.testing.assert_array_equal(net.run(np.repeat(x, 2, axis=0)[::2]), expected)  # strided
    np.testing.assert_array_equal(net.run(x[0].tolist()), expected[0])
    assert net.run(x[0]).shape == (2,)
    assert net.run(np.zeros((0, 3))).shape == (0, 2)
    ro = x.astype(np.float32)
    ro.setflags(write=False)
    np.testing.assert_array_equal(net.run(ro), expected)
    np.testing.assert_array_equal(net.run(np.ones((2, 3), dtype=np.int8)), net.run(np.ones((2, 3))))


@pytest.mark.parametrize(
    "x, error",
    [
        (np.zeros((2, 4)), errors.ShapeError),
        (np.zeros(2), errors.ShapeError),
        (np.zeros((2, 3, 1)), errors.ShapeError),
        (np.array([[1, np.nan, 0]]), errors.NumericError),
        (np.array([[1, 0, -np.inf]]), errors.NumericError),
        (np.array([["a", "b", "c"]]), errors.ShapeError),
        (np.array([[1 + 1j, 0, 0]]), errors.ShapeError),
    ],
)
def test_run_rejects_bad_inputs(x: np.ndarray, error: type) -> None:
    with pytest.raises(error):
        kf.Network([3, 4, 2]).run(x)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"layers": [3]},
        {"layers": [3, 0, 1]},
        {"layers": [3, 2.5, 1]},
        {"layers": [3, True, 1]},
        {"layers": [2, 2], "hidden": "tanh"},
        {"layers": [2, 2], "connection_rate": 0},
        {"layers": [2, 2], "connection_rate": 1.5},
        {"layers": [2, 2, 2], "shortcut": True, "connection_rate": 0.5},
        {"layers": [2, 2], "seed": -1},
    ],
)
def test_bad_construction_is_a_config_error(kwargs: dict) -> None:
    layers = kwargs.pop("layers")
    with pytest.raises(errors.ConfigError):
        kf.Network(layers, **kwargs)


def test_same_seed_same_network() -> None:
    a, b, c = kf.Network([5, 7, 2], seed=4), kf.Network([5, 7, 2], seed=4), kf.Network([5, 7, 2], seed=5)
    np.testing.assert_array_equal(a.weights, b.weights)
    assert not np.array_equal(a.weights, c.weights)
    s1, s2 = kf.Network([8, 9, 3], connection_rate=0.4, seed=1), kf.Network([8, 9, 3], connection_rate=0.4, seed=1)
    np.testing.assert_array_equal(s1.connections()[0], s2.connections()[0])


def test_sparse_and_shortcut_structures() -> None:
    sparse = kf.Network([10, 20, 5], connection_rate=0.3)
    assert sparse.total_connections == (60 + 20) + (30 + 5)  # FANN's counts
    shortcut = kf.Network([2, 3, 1], shortcut=True)
    assert shortcut.shortcut and shortcut.total_neurons == shortcut.stored_neurons == 3 + 3 + 1
    assert shortcut.layer_biases == (1, 0, 0)
    assert shortcut.total_connections == 3 * 3 + 1 * 6
    src, dst, _ = shortcut.connections()
    assert set(src[dst == 6]) == set(range(6))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_incremental_training_of_sparse_networks_follows_each_connection(seed: int) -> None:
    """One incremental step on one pair (momentum 0) moves every weight by learning_rate x error x
    the value of the neuron the connection reads, as one batch epoch on that pair does (batch
    training of sparse networks is libfann's bit for bit, see test_fann_parity; libfann's own
    incremental step reads the wrong neurons in sparse networks, docs/fann-parity.md)."""
    layers = [6, 7, 5, 3]
    net = kf.Network(layers, connection_rate=0.5, seed=seed, hidden="sigmoid_symmetric", output="sigmoid")
    src, dst, _ = net.connections()
    # the sources of some neurons are not consecutive: the gathering paths run, not the dense ones
    assert any(np.any(np.diff(src[dst == j]) != 1) for j in np.unique(dst))
    net.learning_momentum = 0.0
    batch = net.copy()
    batch.training_algorithm = "batch"
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, layers[0]).astype(np.float32)
    y = rng.uniform(0, 1, layers[-1]).astype(np.float32)
    before = net.weights
    net.train_sample(x, y)
    batch.train_epoch(kf.TrainingData(x[None], y[None]))
    assert np.abs(net.weights - before).max() > 1e-3  # the step moved the weights
    # the same products, (error x rate) x value against (error x value) x rate: equal to rounding
    np.testing.assert_allclose(net.weights, batch.weights, rtol=0, atol=1e-7)


def test_activation_setting() -> None:
    net = kf.Network([2, 3, 3, 2])
    net.set_activation("elliot", layer="hidden")
    assert net.get_activation(1, 2)[0] == "elliot" and net.get_activation(2, 0)[0] == "elliot"
    net.set_activation(steepness=0.25, layer=2, neuron=1)
    assert net.get_activation(2, 1) == ("elliot", 0.25) and net.get_activation(2, 0)[1] == 0.5
    net.set_activation("relu", layer="output")
    assert net.get_activation(3, 1)[0] == "relu"
    for bad in [dict(function="nope"), dict(layer=0, function="linear"), dict(layer=4, function="linear"),
                dict(layer=1, neuron=3, function="linear"), dict(neuron=0, function="linear"), dict()]:
        with pytest.raises(errors.ConfigError):
            net.set_activation(**bad)
    with pytest.raises(errors.NumericError):
        net.set_activation(steepness=float("nan"), layer=1)


def test_parameters_validate() -> None:
    net = kf.Network([2, 2])
    net.training_algorithm = "quickprop"
    net.learning_momentum = 0.25
    net.cascade_max_out_epochs = 99
    assert (net.training_algorithm, net.learning_momentum, net.cascade_max_out_epochs) == ("quickprop", 0.25, 99)
    with pytest.raises(errors.ConfigError):
        net.training_algorithm = "adam"
    with pytest.raises(errors.ConfigError):
        net.learning_rate = "fast"
    with pytest.raises(errors.NumericError):
        net.learning_rate = float("inf")
    with pytest.raises(errors.ConfigError):
        net.cascade_max_out_epochs = 1.5


def test_weights_and_connections() -> None:
    net = kf.Network([2, 2, 1])
    w = np.linspace(-1, 1, net.total_connections)
    net.weights = w
    np.testing.assert_allclose(net.weights, w, rtol=1e-6)
    src, dst, weights = net.connections()
    assert list(src[:3]) == [0, 1, 2] and list(dst[:3]) == [3, 3, 3]
    with pytest.raises(errors.ShapeError):
        net.weights = np.zeros(3)
    with pytest.raises(errors.NumericError):
        net.weights = np.full(net.total_connections, np.nan)


def test_copies_and_pickles_are_independent_and_exact() -> None:
    net = kf.Network([3, 4, 2], seed=1)
    net.learning_rate = 0.123456789
    for clone in (net.copy(), copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
        np.testing.assert_array_equal(clone.weights, net.weights)
        assert clone.learning_rate == net.learning_rate
        clone.randomize_weights(seed=3)
        assert not np.array_equal(clone.weights, net.weights)


def test_save_load_round_trip(tmp_path) -> None:
    net = kf.Network([4, 5, 3], connection_rate=0.6, seed=8)
    net.set_activation("gaussian", layer=1, neuron=2)
    net.rprop_delta_max = 20
    path = tmp_path / "net.net"
    net.save(path)
    back = kf.Network.load(path)
    assert back.to_fann_text() == net.to_fann_text()
    x = np.random.default_rng(2).uniform(-1, 1, (7, 4))
    np.testing.assert_array_equal(back.run(x), net.run(x))
    assert back.rprop_delta_max == 20 and back.connection_rate == pytest.approx(0.6)


def test_failed_save_keeps_the_previous_file(tmp_path, monkeypatch) -> None:
    path = tmp_path / "model.net"
    kf.Network([2, 2], seed=1).save(path)
    before = path.read_bytes()

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.replace", broken_replace)
    with pytest.raises(errors.FileError, match="No space left"):
        kf.Network([2, 2], seed=2).save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.net"]  # no temporary left behind


@pytest.mark.parametrize(
    "edit, fragment",
    [
        (lambda t: t.replace("FANN_FLO_2.1", "FANN_FLO_9.9"), "expected FANN_FLO_2.1"),
        (lambda t: t.replace("num_layers=3", "num_layers=x"), "num_layers"),
        (lambda t: t[: len(t) // 2], "line"),
        (lambda t: t.replace("layer_sizes=3 4 2", "layer_sizes=3 4 2000000"), "more than"),
    ],
)
def test_malformed_net_files(tmp_path, edit, fragment: str) -> None:
    text = kf.Network([2, 3, 1]).to_fann_text().decode()
    path = tmp_path / "bad.net"
    path.write_text(edit(text))
    with pytest.raises(errors.FormatError, match=fragment) as info:
        kf.Network.load(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("algorithm", ["incremental", "batch", "rprop", "quickprop", "sarprop"])
def test_every_algorithm_reduces_the_error(xor: kf.TrainingData, algorithm: str) -> None:
    net = kf.Network([2, 4, 1], hidden="sigmoid_symmetric", output="sigmoid_symmetric", seed=11)
    net.training_algorithm = algorithm
    net.randomize_weights(-1, 1, seed=3)
    before = net.test(xor)
    history = net.train(xor, max_epochs=300, target_error=-1)
    assert len(history) == 300
    assert history[-1] < before / 2
    assert net.test(xor) < before / 2


def test_train_stops_at_target_and_on_callback(xor: kf.TrainingData) -> None:
    net = kf.Network([2, 4, 1], hidden="sigmoid_symmetric", output="sigmoid_symmetric", seed=1)
    history = net.train(xor, max_epochs=1000, target_error=1e-2)
    assert history[-1] <= 1e-2 and np.all(history[:-1] > 1e-2)
    seen = []
    net2 = kf.Network([2, 4, 1], hidden="sigmoid_symmetric", output="sigmoid_symmetric", seed=1)
    history2 = net2.train(xor, max_epochs=1000, target_error=0,
                          callback=lambda epoch, mse, bits: seen.append(epoch) or epoch == 5)
    assert len(history2) == 5 and seen == [1, 2, 3, 4, 5]
    net3 = kf.Network([2, 4, 1], hidden="sigmoid_symmetric", output="sigmoid_symmetric", seed=1)
    net3.train_stop_function = "bit"
    history3 = net3.train(xor, max_epochs=1000, target_error=0)
    assert net3.bit_fail == 0 and len(history3) < 1000


def test_training_checks_its_inputs(xor: kf.TrainingData) -> None:
    net = kf.Network([3, 2, 1])
    with pytest.raises(errors.ShapeError):
        net.train_epoch(xor)
    with pytest.raises(errors.ConfigError):
        net.train_epoch(np.zeros((4, 3)))
    threshold = kf.Network([2, 2, 1], output="threshold")
    with pytest.raises(errors.ConfigError, match="unsupported"):
        threshold.train_epoch(xor)
    bad = xor.copy()
    bad.inputs[0, 0] = np.nan
    with pytest.raises(errors.NumericError):
        kf.Network([2, 2, 1]).train_epoch(bad)


@pytest.mark.parametrize("algorithm", ["batch", "rprop", "quickprop", "sarprop"])
@pytest.mark.parametrize("trained_before", [False, True])
def test_a_non_finite_pair_late_in_the_data_changes_nothing(algorithm: str, trained_before: bool) -> None:
    """The batch algorithms check each panel of pairs as they reach it: a NaN in the last pair
    stops the epoch after most slopes are summed, and the network and its training history must
    be as before (the next epoch as if the failed one never ran)."""
    rng = np.random.default_rng(7)
    x = rng.uniform(-1, 1, (300, 4)).astype(np.float32)
    good = kf.TrainingData(x, (x[:, :2] > 0).astype(np.float32))
    bad = good.copy()
    bad.outputs[-1, 1] = np.nan
    net = kf.Network([4, 5, 2], seed=3)
    net.training_algorithm = algorithm
    if trained_before:
        net.train_epoch(good)
    twin = copy.copy(net)
    with pytest.raises(errors.NumericError):
        net.train_epoch(bad)
    np.testing.assert_array_equal(net.weights, twin.weights)
    state, twin_state = net._training_state(), twin._training_state()
    if twin_state is None:  # the failed epoch made the trainer: it must still be a fresh one
        assert state["cleared"] == 0 and state["num_mse"] == 0 and not state["slopes"].any()
    else:
        for key, value in twin_state.items():
            np.testing.assert_array_equal(state[key], value, err_msg=key)
    # the first epoch clears the history with the parameters of the epoch that succeeds
    net.rprop_delta_zero = twin.rprop_delta_zero = 0.25
    for _ in range(2):
        assert net.train_epoch(good) == twin.train_epoch(good)
    np.testing.assert_array_equal(net.weights, twin.weights)


def test_train_sample_is_one_incremental_step(xor: kf.TrainingData) -> None:
    a = kf.Network([2, 3, 1], seed=5)
    b = a.copy()
    b.training_algorithm = "incremental"
    for x, y in zip(xor.inputs, xor.outputs):
        a.train_sample(x, y)
    b.train_epoch(xor)
    np.testing.assert_array_equal(a.weights, b.weights)


@pytest.mark.parametrize("algorithm", kf.TRAINING_ALGORITHMS)
def test_every_weight_change_reaches_single_sample_runs(algorithm: str) -> None:
    # One sample's forward pass sums blocks of eight neurons from an interleaved copy of their
    # weights; batches read the weights themselves. Each change must reach both.
    rng = np.random.default_rng(3)
    x = rng.normal(size=(6, 9)).astype(np.float32)
    data = kf.TrainingData(x, rng.uniform(0, 1, (6, 8)))
    net = kf.Network([9, 16, 24, 8], hidden="sigmoid_symmetric", output="sigmoid", seed=1)
    net.training_algorithm = algorithm

    def check(step: str) -> None:
        single = np.stack([net.run(row) for row in x])
        np.testing.assert_array_equal(single, net.run(x), err_msg=step)

    changes = {
        "created": lambda: None,
        "weights set": lambda: setattr(net, "weights", rng.uniform(-1, 1, net.total_connections)),
        "randomized": lambda: net.randomize_weights(-0.5, 0.5, seed=2),
        "initialised": lambda: net.init_weights(data, seed=3),
        "one epoch": lambda: net.train_epoch(data),
        "trained": lambda: net.train(data, max_epochs=3, target_error=0),
        "one sample": lambda: net.train_sample(x[0], data.outputs[0]),
    }
    before = net.run(x[0])
    for step, change in changes.items():
        change()
        check(step)
    assert not np.array_equal(before, net.run(x[0]))
    copy = net.copy()
    np.testing.assert_array_equal(copy.run(x[0]), net.run(x[0]))


def test_nguyen_widrow_initialisation(xor: kf.TrainingData) -> None:
    net = kf.Network([2, 8, 1], seed=0)
    net.init_weights(xor, seed=1)
    w = net.weights
    assert np.abs(w).max() > 0.1  # beyond the default +-0.1 range
    # (0.7 * hidden)^(1/inputs) / input range, as fann_init_weights
    assert np.abs(w).max() <= (0.7 * 8) ** 0.5 / 2 + 1e-6
    with pytest.raises(errors.NumericError):
        net.init_weights(kf.TrainingData([[1, 1], [1, 1]], [[0], [1]]))


def test_scaling(xor: kf.TrainingData, tmp_path) -> None:
    rng = np.random.default_rng(3)
    data = kf.TrainingData(rng.normal(5, 2, size=(200, 2)), rng.normal(-3, 4, size=(200, 1)))
    net = kf.Network([2, 3, 1])
    assert not net.has_scaling
    with pytest.raises(errors.ConfigError):
        net.scale_input(data.inputs)
    net.set_scaling(data, input_range=(-1, 1), output_range=(0, 1))
    scaled = net.scale_data(data)
    # one deviation maps onto half the range around its centre
    np.testing.assert_allclose(scaled.inputs.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(scaled.inputs.std(axis=0), 1, rtol=1e-4)
    np.testing.assert_allclose(scaled.outputs.std(), 0.5, rtol=1e-4)
    back = net.descale_data(scaled)
    np.testing.assert_allclose(back.inputs, data.inputs, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(back.outputs, data.outputs, rtol=1e-5, atol=1e-5)
    path = tmp_path / "scaled.net"
    net.save(path)
    assert "scale_included=1" in path.read_text()
    assert kf.Network.load(path).has_scaling
    restored = pickle.loads(pickle.dumps(net))
    np.testing.assert_array_equal(restored.scale_input(data.inputs), net.scale_input(data.inputs))
    net.clear_scaling()
    np.testing.assert_allclose(net.scale_input(data.inputs), data.inputs, rtol=1e-6)


_FLOAT_BITS = r"""
import sys
import numpy as np
import kimi_fann as kf
rng = np.random.default_rng(0)
out = []
for t in range(36):
    sizes = [int(v) for v in rng.integers(1, 40, int(rng.integers(2, 5)))]
    shape = [{}, {"shortcut": True}, {"connection_rate": 0.6}][t % 3]
    hidden = ["sigmoid_symmetric", "elliot", "linear", "relu"][t % 4]
    net = kf.Network(sizes, seed=t, hidden=hidden, output="sigmoid", **shape)
    x = rng.normal(size=(5, sizes[0])).astype(np.float32)
    out += [net.run(row) for row in x] + [net.run(x).ravel()]
    net.train(kf.TrainingData(x, rng.uniform(0, 1, (5, sizes[-1]))), max_epochs=3)
    out.append(net.weights)
sys.stdout.write(np.concatenate(out).view(np.uint32).tobytes().hex())
"""


@pytest.mark.parametrize("path", [p for p in kf.simd_info()["supported"] if p != "scalar"])
def test_float_runs_and_training_give_the_scalar_paths_bits(path: str) -> None:
    """The float sums of eight neurons at once (the SIMD dot8 kernels) keep fann_run's order in
    every lane: outputs and trained weights are the same bits as on the scalar path. The path
    is chosen when a network is created, hence one process per path."""
    import os
    import subprocess
    import sys

    bits = {}
    for p in ("scalar", path):
        done = subprocess.run([sys.executable, "-c", _FLOAT_BITS], capture_output=True, text=True, check=True,
                              env={**os.environ, "KIMI_FANN_SIMD": p})
        bits[p] = done.stdout
    assert len(bits["scalar"]) > 10_000 and bits[path] == bits["scalar"]
