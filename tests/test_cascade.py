"""Cascade-correlation training held against libfann 2.2's fann_cascadetrain_on_data (ctypes,
tests/fannref.py): the same starting network (one .net file, loaded by both), the same rand()
stream (srand(seed) there, kf.FannRandom(seed) here), and then the same MSE after every neuron
and a byte-identical .net file. Plus kf.FannRandom against the C library's rand(), the checks,
the callback, and the grown network in every other part of the package."""

from __future__ import annotations

import ctypes
import pickle
import platform

import numpy as np
import pytest

import kimi_fann as kf
from kimi_fann.errors import ConfigError, LimitError, NumericError, ShapeError

import fannref
import qref
from fannsets import fann_train_path

ALGORITHMS = {"rprop": 2, "quickprop": 3, "sarprop": 4}
libfann = pytest.mark.skipif(not fannref.available(), reason="libfann 2.2 is not installed")


def _glibc() -> bool:
    try:
        return platform.system() == "Linux" and hasattr(ctypes.CDLL(None), "gnu_get_libc_version")
    except OSError:
        return False


glibc = pytest.mark.skipif(not _glibc(), reason="the C library is not glibc")


# ---- kf.FannRandom ----


@glibc
@pytest.mark.parametrize("seed", [0, 1, 2, 7, 42, 1000, 65537, 2**31 - 1, 2**31, 2**32 - 1])
def test_fann_random_is_glibc_rand(seed: int) -> None:
    ours = kf.FannRandom(seed).rand_array(5000)
    fannref.srand(seed)
    theirs = np.array([fannref.rand() for _ in range(5000)], dtype=np.int64)
    np.testing.assert_array_equal(ours, theirs)


@glibc
def test_fann_random_one_by_one_and_continued() -> None:
    r = kf.FannRandom(123)
    fannref.srand(123)
    for _ in range(700):  # past the table's 31 words many times, single draws and arrays mixed
        assert r.rand() == fannref.rand()
    np.testing.assert_array_equal(r.rand_array(3000), [fannref.rand() for _ in range(3000)])


def test_fann_random_copies_pickles_and_checks() -> None:
    r = kf.FannRandom(9)
    r.rand_array(10)
    twin, thawed = r.copy(), pickle.loads(pickle.dumps(r))
    expected = r.rand_array(50)
    np.testing.assert_array_equal(twin.rand_array(50), expected)
    np.testing.assert_array_equal(thawed.rand_array(50), expected)
    assert repr(r) == "FannRandom(seed=9)" and r.seed == 9 and kf.FannRandom.RAND_MAX == 2**31 - 1
    u = kf.FannRandom(4)
    draw = kf.FannRandom(4).rand()
    assert u.uniform(-1.0, 1.0) == np.float32(np.float32(-1) + np.float32(np.float32(2) * np.float32(draw)) / 2**31)
    for bad in (-1, 2**32, 1.5, True, "1"):
        with pytest.raises(ConfigError, match="seed"):
            kf.FannRandom(bad)  # type: ignore[arg-type]


# ---- parity with libfann ----


def start_network(tmp_path, name: str, seed: int, output: int = 5, setup=None) -> tuple[str, kf.TrainingData]:
    """A shortcut network without hidden neurons made by libfann for data set `name`, weights
    drawn after srand(seed), settings applied, saved: both libraries load this file."""
    data = kf.TrainingData.load(fann_train_path(name))
    fann = fannref.FloatNet.shortcut([data.num_input, data.num_output])
    fannref.srand(seed)
    fann.randomize_weights(-0.2, 0.2)
    fann.set_activation_function_output(output)
    if setup is not None:
        setup(fann)
    path = str(tmp_path / f"{name}-{seed}-start.net")
    fann.save(path)
    return path, data


def grow_both(tmp_path, start: str, data_name: str, seed: int, max_neurons: int, desired_error: float = 0.0,
              between: int = 0) -> tuple[bytes, bytes, list, list, kf.Network]:
    """(libfann's .net, ours, libfann's reports, ours, our network) after cascade training from
    the same file with the same rand() stream."""
    fann = fannref.FloatNet.load(start)
    theirs_steps: list = []
    fann.set_callback(lambda f, max_epochs, epochs: theirs_steps.append((f.mse, f.bit_fail, epochs)) or 0)
    fannref.srand(seed)
    fann.cascadetrain_on_data(fannref.TrainData.load(fann_train_path(data_name)), max_neurons, max(between, 1),
                              desired_error)
    path = tmp_path / "libfann-grown.net"
    fann.save(str(path))
    net = kf.Network.load(start)
    history = net.cascade_train(kf.TrainingData.load(fann_train_path(data_name)), max_neurons=max_neurons,
                                desired_error=desired_error, neurons_between_reports=between,
                                random=kf.FannRandom(seed))
    ours_steps = [(np.float32(s.mse), s.bit_fail, s.epochs) for s in history.steps]
    return path.read_bytes(), net.to_fann_text(), theirs_steps, ours_steps, net


def assert_same(theirs: bytes, ours: bytes, theirs_steps: list, ours_steps: list) -> None:
    assert ours_steps == [(np.float32(m), b, e) for m, b, e in theirs_steps]
    if ours != theirs:  # the first differing line, for the failure message
        for a, b in zip(theirs.splitlines(), ours.splitlines()):
            assert b == a
    assert ours == theirs


def defaults(fann) -> None:
    """FANN's defaults, fewer epochs (the tests' budget)."""
    fann.set_cascade("cascade_max_out_epochs", 60)
    fann.set_cascade("cascade_max_cand_epochs", 60)


# (data set, algorithm, seed, neurons, settings): every cascade parameter moved somewhere, both
# output training algorithms on several sets, symmetric and plain output activations.
def tuned_a(fann) -> None:
    fann.set_cascade("cascade_output_change_fraction", 0.02)
    fann.set_cascade("cascade_output_stagnation_epochs", 8)
    fann.set_cascade("cascade_candidate_change_fraction", 0.005)
    fann.set_cascade("cascade_candidate_stagnation_epochs", 6)
    fann.set_cascade("cascade_min_out_epochs", 20)
    fann.set_cascade("cascade_max_out_epochs", 80)
    fann.set_cascade("cascade_min_cand_epochs", 15)
    fann.set_cascade("cascade_max_cand_epochs", 50)
    fann.set_cascade("cascade_weight_multiplier", 0.7)
    fann.set_cascade("cascade_num_candidate_groups", 3)
    fann.set_cascade_activation_functions([5, 11, 8, 15])
    fann.set_cascade_activation_steepnesses([0.3, 0.9])


def tuned_b(fann) -> None:
    fann.set_cascade("cascade_candidate_limit", 1.5)
    fann.set_cascade("cascade_num_candidate_groups", 1)
    fann.set_cascade("cascade_max_out_epochs", 40)
    fann.set_cascade("cascade_max_cand_epochs", 40)
    fann.set_cascade_activation_functions([3, 7, 10, 16, 17, 12, 4, 0])
    fann.set_cascade_activation_steepnesses([0.5, 1.0, 1.7])
    fann.set("train_error_function", 0)
    fann.set("quickprop_mu", 1.5)
    fann.set("quickprop_decay", -0.0003)
    fann.set("learning_rate", 0.9)


def tuned_c(fann) -> None:
    fann.set_cascade("cascade_max_out_epochs", 50)
    fann.set_cascade("cascade_max_cand_epochs", 50)
    fann.set("rprop_increase_factor", 1.3)
    fann.set("rprop_decrease_factor", 0.4)
    fann.set("rprop_delta_zero", 0.05)
    fann.set("rprop_delta_max", 20.0)
    fann.set("rprop_delta_min", 0.001)
    fann.set("bit_fail_limit", 0.2)
    fann.set_cascade_activation_functions([6, 13, 14, 9, 2 + 3])


CASES = [
    ("diabetes", "rprop", 1, 4, 5, defaults),
    ("diabetes", "quickprop", 2, 4, 5, defaults),
    ("two-spiral", "rprop", 3, 6, 5, tuned_a),
    ("two-spiral", "quickprop", 4, 5, 3, tuned_b),
    ("robot", "quickprop", 5, 3, 3, defaults),
    ("robot", "rprop", 6, 3, 5, tuned_c),
    ("parity8", "rprop", 7, 4, 3, tuned_a),
    ("parity8", "quickprop", 8, 3, 5, tuned_c),
    ("soybean", "rprop", 9, 2, 3, tuned_b),
    ("diabetes", "sarprop", 10, 3, 5, defaults),
    ("two-spiral", "sarprop", 11, 4, 3, tuned_a),
    ("thyroid", "quickprop", 17, 2, 3, tuned_b),
    ("thyroid", "rprop", 18, 2, 5, tuned_b),
]


@libfann
@pytest.mark.parametrize(("name", "algorithm", "seed", "neurons", "output", "setup"), CASES,
                         ids=[f"{c[0]}-{c[1]}-{c[2]}-{c[5].__name__}" for c in CASES])
def test_cascade_matches_libfann_byte_for_byte(tmp_path, name, algorithm, seed, neurons, output, setup) -> None:
    def configure(fann):
        fann.set("training_algorithm", ALGORITHMS[algorithm])
        setup(fann)

    start, _ = start_network(tmp_path, name, seed, output, configure)
    theirs, ours, theirs_steps, ours_steps, net = grow_both(tmp_path, start, name, seed, neurons)
    assert_same(theirs, ours, theirs_steps, ours_steps)
    assert len(ours_steps) == neurons and net.layers[1:-1] == (1,) * neurons


@libfann
def test_cascade_stops_at_the_desired_error_as_libfann(tmp_path) -> None:
    start, _ = start_network(tmp_path, "two-spiral", 12, 5, defaults)
    theirs, ours, theirs_steps, ours_steps, _ = grow_both(tmp_path, start, "two-spiral", 12, 30, desired_error=0.12)
    assert_same(theirs, ours, theirs_steps, ours_steps)
    assert 1 <= len(ours_steps) < 30  # stopped early, at the neuron libfann stopped at


@libfann
def test_cascade_bit_fail_stop_and_report_points_match_libfann(tmp_path) -> None:
    def setup(fann):
        defaults(fann)
        fann.set("train_stop_function", 1)

    start, _ = start_network(tmp_path, "diabetes", 13, 3, setup)
    theirs, ours, theirs_steps, ours_steps, _ = grow_both(tmp_path, start, "diabetes", 13, 5, desired_error=40,
                                                          between=2)
    assert_same(theirs, ours, theirs_steps, ours_steps)


@libfann
def test_random_settings_match_libfann(tmp_path) -> None:
    """Settings drawn at random (a fixed seed), on a random slice of a set: what no case above fixed."""
    rng = np.random.default_rng(2027)
    for _ in range(8):
        name = str(rng.choice(["diabetes", "two-spiral", "robot", "parity8", "soybean"]))
        all_functions = [0, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]
        functions = [int(f) for f in rng.choice(all_functions, size=int(rng.integers(1, 6)), replace=False)]
        steepnesses = [float(np.float32(s)) for s in rng.uniform(0.1, 1.5, size=int(rng.integers(1, 4)))]
        algorithm = int(rng.choice([2, 3, 4]))
        output = int(rng.choice([3, 5, 10, 11, 0]))
        values = {
            "cascade_output_change_fraction": float(rng.choice([0.005, 0.01, 0.05])),
            "cascade_output_stagnation_epochs": int(rng.integers(4, 16)),
            "cascade_candidate_change_fraction": float(rng.choice([0.005, 0.01, 0.05])),
            "cascade_candidate_stagnation_epochs": int(rng.integers(4, 16)),
            "cascade_max_out_epochs": int(rng.integers(20, 70)),
            "cascade_min_out_epochs": int(rng.integers(0, 20)),
            "cascade_max_cand_epochs": int(rng.integers(20, 70)),
            "cascade_min_cand_epochs": int(rng.integers(0, 20)),
            "cascade_num_candidate_groups": int(rng.integers(1, 4)),
            "cascade_weight_multiplier": float(rng.choice([0.2, 0.4, 1.0])),
            "cascade_candidate_limit": float(rng.choice([2.0, 1000.0])),
        }
        seed = int(rng.integers(0, 2**32))

        def setup(fann, functions=functions, steepnesses=steepnesses, algorithm=algorithm, values=values):
            fann.set("training_algorithm", algorithm)
            fann.set("train_error_function", int(rng.integers(0, 2)))
            for key, value in values.items():
                fann.set_cascade(key, value)
            fann.set_cascade_activation_functions(functions)
            fann.set_cascade_activation_steepnesses(steepnesses)

        start, _ = start_network(tmp_path, name, seed, output, setup)
        theirs, ours, theirs_steps, ours_steps, _ = grow_both(tmp_path, start, name, seed, int(rng.integers(1, 4)))
        assert_same(theirs, ours, theirs_steps, ours_steps)


@libfann
@pytest.mark.parametrize("path", kf.simd_info()["supported"])
def test_every_simd_path_grows_libfanns_network(tmp_path, monkeypatch, path: str) -> None:
    monkeypatch.setenv("KIMI_FANN_SIMD", path)  # the path is chosen when a network is made (loaded)
    start, _ = start_network(tmp_path, "robot", 14, 5, tuned_a)
    theirs, ours, theirs_steps, ours_steps, _ = grow_both(tmp_path, start, "robot", 14, 2)
    assert_same(theirs, ours, theirs_steps, ours_steps)


@libfann
def test_cascade_on_file_matches_libfann(tmp_path) -> None:
    start, _ = start_network(tmp_path, "parity8", 15, 5, defaults)
    fann = fannref.FloatNet.load(start)
    fannref.srand(15)
    fann.cascadetrain_on_file(fann_train_path("parity8"), 2, 0, 0.0)
    fann.save(str(tmp_path / "theirs.net"))
    net = kf.Network.load(start)
    history = net.cascade_train_on_file(fann_train_path("parity8"), max_neurons=2, desired_error=0.0,
                                        random=kf.FannRandom(15))
    assert history.neurons == 2 and net.to_fann_text() == (tmp_path / "theirs.net").read_bytes()


@libfann
def test_grown_network_runs_and_trains_as_in_libfann(tmp_path) -> None:
    start, data = start_network(tmp_path, "robot", 16, 5, defaults)
    theirs, ours, _, _, net = grow_both(tmp_path, start, "robot", 16, 3)
    fann = fannref.FloatNet.load(tmp_path / "libfann-grown.net")
    x = data.inputs[:100]
    np.testing.assert_array_equal(net.run(x), fann.run_batch(x))
    for _ in range(3):  # further training of the grown network, epoch by epoch
        assert np.float32(net.train_epoch(data)) == np.float32(fann.train_epoch(fannref.TrainData.load(
            fann_train_path("robot"))))
    np.testing.assert_array_equal(net.run(x), fann.run_batch(x))


# ---- the Python API ----


def spiral(n: int = 96) -> kf.TrainingData:
    t = np.linspace(0.3, 3 * np.pi, n // 2)
    a = np.c_[t * np.cos(t), t * np.sin(t)] / 10
    x = np.r_[a, -a].astype(np.float32)
    y = np.r_[np.ones(n // 2), -np.ones(n // 2)].astype(np.float32)
    return kf.TrainingData(x, y)


def small_net(seed: int = 0) -> kf.Network:
    net = kf.Network([2, 1], output="sigmoid_symmetric", shortcut=True, seed=seed)
    net.cascade_max_out_epochs = 40
    net.cascade_max_cand_epochs = 40
    return net


def test_cascade_history_and_callback() -> None:
    net, seen = small_net(), []
    history = net.cascade_train(spiral(), max_neurons=4, desired_error=0.0,
                                callback=lambda n, mse, bits: seen.append((n, mse, bits)))
    assert [s.neurons for s in history.steps] == [0, 1, 2, 3] == [n for n, _, _ in seen]
    assert [s.mse for s in history.steps] == [m for _, m, _ in seen]
    assert history.neurons == 4 and net.layers == (2, 1, 1, 1, 1, 1) and not history.stopped
    assert history.steps[0].activation is None and history.steps[1].activation in kf.ACTIVATIONS
    assert history.mse == net.mse and history.bit_fail == net.bit_fail
    assert history.mse_per_neuron.shape == (4,) and history.to_dict()["steps"][1]["neurons"] == 1
    assert history.epochs > history.steps[-1].epochs


def test_callback_stops_and_its_exceptions_propagate() -> None:
    net = small_net()
    history = net.cascade_train(spiral(), max_neurons=5, desired_error=0.0, callback=lambda n, m, b: n == 2)
    assert history.stopped and history.neurons == 2 and net.layers == (2, 1, 1, 1)

    def boom(n, m, b):
        raise KeyError("from the callback")

    net = small_net()
    with pytest.raises(KeyError, match="from the callback"):
        net.cascade_train(spiral(), max_neurons=3, desired_error=0.0, callback=boom)
    assert net.layers == (2, 1)  # unchanged


def test_default_random_is_seeded_and_fann_random_moves_on() -> None:
    a, b = small_net(3), small_net(3)
    a.cascade_train(spiral(), max_neurons=2, desired_error=0.0)
    b.cascade_train(spiral(), max_neurons=2, desired_error=0.0)
    np.testing.assert_array_equal(a.weights, b.weights)
    r = kf.FannRandom(1)
    c, d = small_net(), small_net()
    c.cascade_train(spiral(), max_neurons=1, desired_error=0.0, random=r)
    d.cascade_train(spiral(), max_neurons=1, desired_error=0.0, random=r)  # continues the stream
    assert not np.array_equal(c.weights, d.weights)
    assert r.rand() != kf.FannRandom(1).rand()


def test_bad_settings_raise_clear_errors(tmp_path) -> None:
    data = spiral()
    with pytest.raises(ConfigError, match="shortcut"):
        kf.Network([2, 3, 1], hidden="sigmoid", output="sigmoid").cascade_train(data, max_neurons=2,
                                                                                 desired_error=0.01)
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ConfigError, match="max_neurons"):
            small_net().cascade_train(data, max_neurons=bad, desired_error=0.01)
    with pytest.raises(ShapeError, match="no pairs"):
        small_net().cascade_train(kf.TrainingData(np.zeros((0, 2)), np.zeros((0, 1))), max_neurons=2,
                                  desired_error=0.01)
    with pytest.raises(ShapeError, match="inputs"):
        small_net().cascade_train(kf.TrainingData([[1, 2, 3]], [1]), max_neurons=2, desired_error=0.01)
    net = small_net()
    net.cascade_activation_functions = ["sigmoid", "relu"]
    with pytest.raises(ConfigError, match="relu"):
        net.cascade_train(data, max_neurons=2, desired_error=0.01)
    net.cascade_activation_functions = ["threshold"]
    with pytest.raises(ConfigError, match="threshold"):
        net.cascade_train(data, max_neurons=2, desired_error=0.01)
    net = small_net()
    for algorithm in ("incremental", "batch"):
        net.training_algorithm = algorithm
        with pytest.raises(ConfigError, match=algorithm):
            net.cascade_train(data, max_neurons=2, desired_error=0.01)
    net = small_net()
    net.cascade_num_candidate_groups = 0
    with pytest.raises(ConfigError, match="no candidates"):
        net.cascade_train(data, max_neurons=2, desired_error=0.01)
    with pytest.raises(ConfigError, match="desired_error"):
        small_net().cascade_train(data, max_neurons=2, desired_error=-0.5)
    with pytest.raises(NumericError, match="desired_error"):
        small_net().cascade_train(data, max_neurons=2, desired_error=float("nan"))
    with pytest.raises(LimitError, match="limits"):
        small_net().cascade_train(data, max_neurons=5000, desired_error=0.01)
    with pytest.raises(ConfigError, match="random"):
        small_net().cascade_train(data, max_neurons=2, desired_error=0.01, random=3)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="TrainingData"):
        small_net().cascade_train([[0, 0]], max_neurons=2, desired_error=0.01)  # type: ignore[arg-type]
    net = small_net()
    net.set_activation("threshold", layer="output")
    with pytest.raises(ConfigError, match="threshold"):
        net.cascade_train(data, max_neurons=2, desired_error=0.01)
    assert small_net().cascade_num_candidates == 80


# ---- the grown network everywhere a network goes ----


@pytest.fixture(scope="module")
def grown() -> tuple[kf.Network, kf.TrainingData]:
    """A network grown on diabetes with the default candidates (sigmoids, gaussians, elliots,
    sines and cosines)."""
    data = kf.TrainingData.load(fann_train_path("diabetes"))
    net = kf.Network([8, 2], output="sigmoid_symmetric", shortcut=True, seed=21)
    net.cascade_max_out_epochs = 60
    net.cascade_max_cand_epochs = 60
    net.cascade_train(data, max_neurons=5, desired_error=0.0, random=kf.FannRandom(21))
    assert net.layers == (8, 1, 1, 1, 1, 1, 2)
    return net, data


def test_grown_network_files_copies_and_pickles(tmp_path, grown) -> None:
    net, data = grown
    x = data.inputs
    net.save(tmp_path / "grown.net")
    for twin in (kf.Network.load(tmp_path / "grown.net"), net.copy(), pickle.loads(pickle.dumps(net)),
                 kf.Network.from_topology(net.topology, net.weights)):
        np.testing.assert_array_equal(twin.run(x), net.run(x))
    for compress in (None, "deflate"):
        kf.save(tmp_path / "grown.kfn", net, compress=compress)
        back = kf.load(tmp_path / "grown.kfn")
        assert back.to_fann_text() == net.to_fann_text()
    kf.save(tmp_path / "grown.q8.kfn", net, compress="q8")
    assert np.abs(kf.load(tmp_path / "grown.q8.kfn").run(x) - net.run(x)).max() < 0.25


def test_grown_network_quantizes(tmp_path, grown) -> None:
    """Q8 and Q16 of a shortcut network: each layer reads the inputs and every earlier layer."""
    net, data = grown
    x = data.inputs
    for activation_bits, weight_bits, worst, mean in ((8, 8, 0.25, 0.02), (16, 8, 0.15, 0.02), (16, 16, 5e-3, 5e-4)):
        q = net.quantize(calibration=x, activation_bits=activation_bits, weight_bits=weight_bits)
        assert q.spec.shortcut and [layer.n_in for layer in q.spec.layers] == [8, 9, 10, 11, 12, 13]
        error = np.abs(q.run(x) - net.run(x))
        assert error.max() < worst and error.mean() < mean
        assert error.max() == pytest.approx(q.report.max_abs_error)
        np.testing.assert_array_equal(q.run(x), qref.run(q.spec, x))  # the numpy model of the integers
        lo, hi = q.spec.input_range
        raw = np.random.default_rng(activation_bits + weight_bits).integers(lo, hi + 1, (64, 8)).astype(np.int32)
        np.testing.assert_array_equal(q.run_raw(raw), qref.run_raw(q.spec, raw))
        kf.save(tmp_path / "q.kfn", q)
        back = kf.load(tmp_path / "q.kfn")
        assert back.spec.shortcut
        np.testing.assert_array_equal(back.run(x), q.run(x))
        for path in kf.simd_info()["supported"]:
            np.testing.assert_array_equal(q.run(x, simd=path), q.run(x))


def test_grown_network_exports_to_onnx(grown) -> None:
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from kimi_fann.analyzer.convert import to_onnx

    net, data = grown
    session = ort.InferenceSession(to_onnx(net), providers=["CPUExecutionProvider"])
    y = session.run(["output"], {"input": data.inputs})[0]
    np.testing.assert_allclose(y, net.run(data.inputs), atol=1e-5, rtol=0)


@pytest.mark.skipif(not (fannref.available() and fannref.fixed_available()), reason="libfann 2.2 is not installed")
def test_grown_network_in_fixed_point_as_libfixedfann(tmp_path) -> None:
    """libfixedfann runs sigmoids and linear pieces: grow with those, then fann_save_to_fixed's file
    byte for byte and libfixedfann's outputs."""
    data = kf.TrainingData.load(fann_train_path("diabetes"))
    net = kf.Network([8, 2], output="sigmoid", shortcut=True, seed=22)
    net.cascade_activation_functions = ["sigmoid_symmetric", "sigmoid", "sigmoid_stepwise", "linear_piece_symmetric"]
    net.cascade_max_out_epochs = net.cascade_max_cand_epochs = 40
    net.cascade_train(data, max_neurons=3, desired_error=0.0, random=kf.FannRandom(22))
    net.save(tmp_path / "grown.net")
    fann = fannref.FloatNet.load(tmp_path / "grown.net")
    fann.save_to_fixed(str(tmp_path / "theirs_fixed.net"))
    assert net.save_fixed(tmp_path / "ours_fixed.net") >= 0
    assert (tmp_path / "ours_fixed.net").read_bytes() == (tmp_path / "theirs_fixed.net").read_bytes()
    fixed = net.to_fixed()
    xi = np.rint(data.inputs[:50] * fixed.multiplier).astype(np.int32)
    lib = fannref.FixedNet.load(str(tmp_path / "theirs_fixed.net"))
    np.testing.assert_array_equal(fixed.run_raw(xi), lib.run_batch(xi))


def test_recorded_cascade_run_grows_the_same_network() -> None:
    """The run recorded in tests/golden/vectors.json (which the Pyodide suite repeats in wasm32)
    grows its recorded network here too, through the compiled core alone."""
    import importlib.util
    import pathlib

    from kimi_fann import _core

    path = pathlib.Path(__file__).resolve().parents[1] / "tests_pyodide" / "golden_core.py"
    spec = importlib.util.spec_from_file_location("golden_core", path)
    golden_core = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(golden_core)
    assert golden_core.cascade_mismatches(_core) == []
