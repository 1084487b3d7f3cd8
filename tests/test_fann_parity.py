"""kimi-fann held against the real libfann 2.2 (Debian's libfann-dev), loaded with ctypes.

Networks are built in libfann, exchanged through .net files, then run and trained in both
libraries. Skipped where libfann is not installed; .ci/run installs it.
"""

from __future__ import annotations

import numpy as np
import pytest

import kimi_fann as kf

import fannref
from fannsets import fann_dataset

pytestmark = pytest.mark.skipif(not fannref.available(), reason="libfann 2.2 is not installed")

FANN_ACTIVATIONS = kf.ACTIVATIONS[:18]
STRUCTURES = ["standard", "sparse", "shortcut"]


def libfann_net(structure: str, layers: list[int], seed: int) -> fannref.FloatNet:
    """A libfann network; seed drives the weights drawn next (fann_create_* itself reseeds
    rand() from /dev/urandom, so sparse connections differ from run to run)."""
    if structure == "standard":
        fann = fannref.FloatNet.standard(layers)
    elif structure == "sparse":
        fann = fannref.FloatNet.sparse(0.5, layers)
    else:
        fann = fannref.FloatNet.shortcut(layers)
    fannref.FloatNet.seed(seed)
    return fann


def exchange(fann: fannref.FloatNet, tmp_path) -> kf.Network:
    """libfann's network, saved by libfann and loaded by kimi-fann."""
    path = tmp_path / "from_libfann.net"
    fann.save(str(path))
    return kf.Network.load(path)


def random_layers(rng: np.random.Generator) -> list[int]:
    return [int(n) for n in rng.integers(1, 12, size=int(rng.integers(3, 6)))]


@pytest.mark.parametrize("structure", STRUCTURES)
@pytest.mark.parametrize("activation", FANN_ACTIVATIONS)
def test_outputs_match_libfann(tmp_path, structure: str, activation: str) -> None:
    code = kf.ACTIVATIONS.index(activation)
    for trial in range(3):
        rng = np.random.default_rng([code, STRUCTURES.index(structure), trial])
        layers = random_layers(rng)
        fann = libfann_net(structure, layers, seed=trial)
        fann.set_activation_function_hidden(code)
        fann.set_activation_function_output(code)
        fann.set_activation_steepness_hidden(float(rng.uniform(0.2, 1.5)))
        fann.set_activation_steepness_output(float(rng.uniform(0.2, 1.5)))
        fann.randomize_weights(-1.5, 1.5)
        ours = exchange(fann, tmp_path)
        x = rng.uniform(-2, 2, size=(40, layers[0])).astype(np.float32)
        expected = fann.run_batch(x)
        np.testing.assert_array_equal(ours.run(x), expected, err_msg=f"layers {layers}")


@pytest.mark.parametrize("path", kf.simd_info()["supported"])
@pytest.mark.parametrize("structure", STRUCTURES)
def test_batches_match_libfann_bit_for_bit(tmp_path, monkeypatch, structure: str, path: str) -> None:
    """Batches of every size run a panel of samples side by side through dense blocks of neurons
    (blocks of eight, four and one, edge panels padded; at batch 1, up to seven packed blocks)
    with libfann's bits on every SIMD path and for every FANN activation, including sums large
    enough that exp leaves the range the vector kernels compute (those lanes go to libm)."""
    monkeypatch.setenv("KIMI_FANN_SIMD", path)  # the path is chosen when a network is made
    rng = np.random.default_rng(STRUCTURES.index(structure))
    for code, activation in enumerate(FANN_ACTIVATIONS):
        layers = [int(n) for n in rng.integers(1, 60, size=int(rng.integers(3, 5)))]  # up to 7 blocks of 8
        fann = libfann_net(structure, layers, seed=code)
        fann.set_activation_function_hidden(code)
        fann.set_activation_function_output(code)
        fann.set_activation_steepness_hidden(float(rng.uniform(0.2, 1.5)))
        fann.set_activation_steepness_output(float(rng.uniform(0.2, 1.5)))
        fann.randomize_weights(-4.0, 4.0)
        ours = exchange(fann, tmp_path)
        x = rng.uniform(-3, 3, size=(300, layers[0])).astype(np.float32)
        expected = fann.run_batch(x)
        for n in (1, 2, 15, 16, 17, 64, 65, 300):
            np.testing.assert_array_equal(ours.run(x[:n], threads=1), expected[:n], err_msg=f"{activation} {layers} {n}")


_UNFUSED_LIBM_PARITY = """
import sys
import numpy as np
sys.path.insert(0, sys.argv[1])
import fannref
import kimi_fann as kf
rng = np.random.default_rng(5)
for code in (3, 5, 7, 8):  # sigmoid, sigmoid_symmetric, gaussian, gaussian_symmetric
    fann = fannref.FloatNet.standard([24, 40, 9])
    fann.set_activation_function_hidden(code)
    fann.set_activation_function_output(code)
    fann.randomize_weights(-2.0, 2.0)
    fann.save(sys.argv[2])
    x = rng.uniform(-3, 3, size=(200, 24)).astype(np.float32)
    assert np.array_equal(kf.Network.load(sys.argv[2]).run(x, threads=1), fann.run_batch(x)), code
print("ok")
"""


def test_batches_match_libfann_with_libms_unfused_exp(tmp_path) -> None:
    """glibc has a second exp, compiled without fused multiply-adds, for CPUs without FMA; a
    glibc tunable makes libm pick it here. The vector activations follow whichever libm runs."""
    import os
    import pathlib
    import subprocess
    import sys

    env = {**os.environ, "GLIBC_TUNABLES": "glibc.cpu.hwcaps=-AVX2,-FMA"}
    done = subprocess.run([sys.executable, "-c", _UNFUSED_LIBM_PARITY, str(pathlib.Path(__file__).parent),
                           str(tmp_path / "n.net")], capture_output=True, text=True, env=env)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


@pytest.mark.parametrize("structure", STRUCTURES)
def test_per_neuron_activations_match_libfann(tmp_path, structure: str) -> None:
    rng = np.random.default_rng(7)
    for trial in range(4):
        layers = random_layers(rng)
        fann = libfann_net(structure, layers, seed=trial)
        fann.randomize_weights(-1, 1)
        for layer in range(1, len(layers)):
            for neuron in range(layers[layer]):
                fann.set_activation_function(int(rng.integers(0, 18)), layer, neuron)
                fann.set_activation_steepness(float(rng.uniform(0.1, 2)), layer, neuron)
        ours = exchange(fann, tmp_path)
        x = rng.uniform(-1, 1, size=(30, layers[0])).astype(np.float32)
        np.testing.assert_allclose(ours.run(x), fann.run_batch(x), rtol=0, atol=1e-5)


@pytest.mark.parametrize("structure", STRUCTURES)
def test_files_interchange_byte_for_byte(tmp_path, structure: str) -> None:
    fann = libfann_net(structure, [5, 7, 4, 3], seed=3)
    fann.set_activation_function_hidden(kf.ACTIVATIONS.index("elliot_symmetric"))
    fann.set_activation_steepness_output(0.8)
    fann.randomize_weights(-2, 2)
    fann.set("learning_momentum", 0.4)
    fann.set("training_algorithm", 3)
    theirs = tmp_path / "theirs.net"
    fann.save(str(theirs))
    ours = kf.Network.load(theirs)
    assert ours.learning_momentum == pytest.approx(0.4) and ours.training_algorithm == "quickprop"
    # Writing back what we read gives libfann's bytes.
    assert ours.to_fann_text() == theirs.read_bytes()
    # And libfann reads ours: same outputs, and it writes the same bytes again.
    mine = tmp_path / "ours.net"
    ours.save(mine)
    back = fannref.FloatNet.load(str(mine))
    x = np.random.default_rng(1).uniform(-1, 1, (20, 5)).astype(np.float32)
    np.testing.assert_allclose(back.run_batch(x), ours.run(x), rtol=0, atol=1e-6)
    again = tmp_path / "again.net"
    back.save(str(again))
    assert again.read_bytes() == mine.read_bytes()


def test_networks_created_here_run_the_same_in_libfann(tmp_path) -> None:
    for kwargs in ({}, {"connection_rate": 0.4}, {"shortcut": True}):
        net = kf.Network([6, 9, 5, 2], hidden="sigmoid_symmetric", output="linear", seed=4, **kwargs)
        net.randomize_weights(-1, 1, seed=5)
        path = tmp_path / "created.net"
        net.save(path)
        fann = fannref.FloatNet.load(str(path))
        assert fann.total_connections == net.total_connections
        x = np.random.default_rng(2).uniform(-1, 1, (25, 6)).astype(np.float32)
        np.testing.assert_allclose(fann.run_batch(x), net.run(x), rtol=0, atol=1e-6)


def test_scaling_parameters_match_libfann(tmp_path) -> None:
    train, _ = fann_dataset("building")
    fann = fannref.FloatNet.standard([train.num_input, 5, train.num_output])
    data = fannref.TrainData.from_arrays(train.inputs, train.outputs)
    # A range other than (-1, 1) so that the factor (new_max - new_min) / 2 is exercised.
    fann.set_scaling_params(data, -0.5, 0.8, 0.0, 1.0)
    ours = exchange(fann, tmp_path)
    assert ours.has_scaling
    x = train.inputs[:50]
    np.testing.assert_allclose(ours.scale_input(x), fann.scale_input(x), rtol=1e-5, atol=1e-5)
    ours2 = kf.Network([train.num_input, 5, train.num_output])
    ours2.set_scaling(train, input_range=(-0.5, 0.8), output_range=(0.0, 1.0))
    np.testing.assert_allclose(ours2.scale_input(x), fann.scale_input(x), rtol=1e-5, atol=1e-5)


def train_both(tmp_path, structure: str, layers: list[int], data: kf.TrainingData, epochs: int,
               configure) -> tuple[np.ndarray, np.ndarray, kf.Network, fannref.FloatNet]:
    """Per-epoch MSE of libfann and kimi-fann trained from the same initial .net file."""
    fann = libfann_net(structure, layers, seed=11)
    fann.set_activation_function_hidden(kf.ACTIVATIONS.index("sigmoid_symmetric"))
    fann.set_activation_function_output(kf.ACTIVATIONS.index("sigmoid"))
    fann.randomize_weights(-0.5, 0.5)
    configure(fann)
    ours = exchange(fann, tmp_path)
    fann_data = fannref.TrainData.from_arrays(data.inputs, data.outputs)
    theirs = np.array([fann.train_epoch(fann_data) for _ in range(epochs)])
    mine = np.array([ours.train_epoch(data) for _ in range(epochs)])
    fann_data.close()
    return theirs, mine, ours, fann


ALGORITHMS = {
    "incremental": lambda f: (f.set("training_algorithm", 0), f.set("learning_momentum", 0.3)),
    "batch": lambda f: (f.set("training_algorithm", 1), f.set("learning_rate", 2.0)),
    "rprop": lambda f: f.set("training_algorithm", 2),
    "quickprop": lambda f: (f.set("training_algorithm", 3), f.set("learning_rate", 1.0)),
    "rprop_linear_error": lambda f: (f.set("training_algorithm", 2), f.set("train_error_function", 0)),
    # steps held between delta_min and delta_max: both clamps of fann_update_weights_irpropm run
    "rprop_step_bounds": lambda f: (f.set("training_algorithm", 2), f.set("rprop_delta_min", 0.08),
                                    f.set("rprop_delta_max", 0.2)),
}


@pytest.mark.parametrize("structure", ["standard", "shortcut"])
@pytest.mark.parametrize("algorithm", list(ALGORITHMS))
def test_training_follows_libfann_epoch_by_epoch(tmp_path, structure: str, algorithm: str) -> None:
    train, _ = fann_dataset("thyroid")
    data = train.subset(0, 400)
    theirs, mine, ours, fann = train_both(tmp_path, structure, [21, 8, 3], data, 20, ALGORITHMS[algorithm])
    np.testing.assert_array_equal(mine, theirs)  # the MSE is accumulated in a float, as FANN does
    assert mine[-1] < mine[0]  # it learned something
    # Same float operations in the same order: the trained weights are bit-identical.
    np.testing.assert_array_equal(exchange(fann, tmp_path).weights, ours.weights)


PANEL_HIDDEN = ["sigmoid_symmetric", "sigmoid_stepwise", "gaussian", "elliot_symmetric", "linear_piece_symmetric",
                "sin_symmetric"]


@pytest.mark.parametrize("path", kf.simd_info()["supported"])
@pytest.mark.parametrize("structure", STRUCTURES)
@pytest.mark.parametrize("algorithm", ["batch", "rprop", "quickprop", "rprop_linear_error"])
def test_batch_training_matches_libfann_on_every_path(tmp_path, monkeypatch, structure: str, algorithm: str,
                                                      path: str) -> None:
    """The batch algorithms run panels of 64 samples side by side (forward pass, output errors,
    backpropagation through blocks of neurons, slope sums in the samples' order): every epoch's
    MSE and the trained weights are libfann's bits, on every SIMD path, for hidden activations
    with each kind of derivative, layers that make blocks of sixteen, eight, four and one neuron,
    and a last panel of 17 samples."""
    monkeypatch.setenv("KIMI_FANN_SIMD", path)  # the path is chosen when a network is made
    train, _ = fann_dataset("thyroid")
    data = train.subset(0, 401)
    for trial, hidden in enumerate(PANEL_HIDDEN):
        fann = libfann_net(structure, [21, 37, 13, 3], seed=trial)
        fann.set_activation_function_hidden(kf.ACTIVATIONS.index(hidden))
        fann.set_activation_function_output(kf.ACTIVATIONS.index("sigmoid" if trial % 2 else "linear"))
        fann.set_activation_steepness_hidden(0.5 + 0.25 * trial)
        fann.randomize_weights(-0.5, 0.5)
        ALGORITHMS[algorithm](fann)
        ours = exchange(fann, tmp_path)
        fann_data = fannref.TrainData.from_arrays(data.inputs, data.outputs)
        for epoch in range(4):
            assert ours.train_epoch(data) == fann.train_epoch(fann_data), (hidden, epoch)
        fann_data.close()
        np.testing.assert_array_equal(exchange(fann, tmp_path).weights, ours.weights, err_msg=hidden)


def test_sarprop_without_noise_is_libfanns_to_the_bit(tmp_path) -> None:
    """With its step-error threshold at 0 SARPROP never draws noise (rand() in libfann, the
    trainer's stream here), and every epoch is libfann's to the bit, including libfann's quirk
    that a connection whose slope sign product is 0 (the epoch after a sign change) keeps the
    step of the connection before it."""
    x = np.array([[-1, -1], [-1, 1], [1, -1], [1, 1]], np.float32)
    y = np.array([[-1], [1], [1], [-1]], np.float32)
    net = kf.Network([2, 4, 1], hidden="sigmoid_symmetric", output="sigmoid_symmetric", seed=11)
    net.training_algorithm = "sarprop"
    net.sarprop_step_error_threshold_factor = 0.0
    net.randomize_weights(-1, 1, seed=2)
    path = tmp_path / "xor.net"
    net.save(path)
    fann = fannref.FloatNet.load(str(path))
    fann.set("sarprop_step_error_threshold_factor", 0.0)  # FANN's .net files do not keep it
    data = fannref.TrainData.from_arrays(x, y)
    theirs = [fann.train_epoch(data) for _ in range(300)]
    data.close()
    mine = net.train(kf.TrainingData(x, y), max_epochs=300, target_error=-1)
    np.testing.assert_array_equal(np.float32(mine), np.float32(theirs))
    np.testing.assert_array_equal(exchange(fann, tmp_path).weights, net.weights)


def test_sarprop_matches_libfann_statistically(tmp_path) -> None:
    """SARPROP draws random numbers (libfann from rand(), we from our own stream): compare the
    mean test error over several starting networks."""
    train, test = fann_dataset("thyroid")
    test_data = fannref.TrainData.from_arrays(test.inputs, test.outputs)
    theirs, mine = [], []
    for seed in range(4):
        fann = libfann_net("standard", [21, 8, 3], seed=seed)
        fann.set_activation_function_hidden(kf.ACTIVATIONS.index("sigmoid_symmetric"))
        fann.set_activation_function_output(kf.ACTIVATIONS.index("sigmoid"))
        fann.randomize_weights(-0.5, 0.5)
        fann.set("training_algorithm", 4)
        ours = exchange(fann, tmp_path)
        fann_train = fannref.TrainData.from_arrays(train.inputs, train.outputs)
        for _ in range(30):
            fann.train_epoch(fann_train)
            ours.train_epoch(train)
        fann_train.close()
        theirs.append(fann.test_data(test_data))
        mine.append(ours.test(test))
    test_data.close()
    assert np.mean(mine) == pytest.approx(np.mean(theirs), rel=0.1)


@pytest.mark.parametrize("name", ["thyroid", "mushroom", "building"])
def test_benchmark_sets_reach_libfanns_test_error(tmp_path, name: str) -> None:
    train, test = fann_dataset(name)
    theirs, mine, ours, fann = train_both(
        tmp_path, "standard", [train.num_input, 12, train.num_output], train, 30, ALGORITHMS["rprop"]
    )
    fann_test = fannref.TrainData.from_arrays(test.inputs, test.outputs)
    their_test = fann.test_data(fann_test)
    fann_test.close()
    assert ours.test(test) == pytest.approx(their_test, rel=0.05)
