"""The native Q8/Q16 engine: the integers against a numpy oracle and across every SIMD path,
the overflow proof, the accuracy goals, and bad input."""

from __future__ import annotations

import dataclasses
import os
import pickle
import subprocess
import sys
import threading

import numpy as np
import pytest

import kimi_fann as kf
from kimi_fann import errors

import qref
from fannsets import fann_dataset

PATHS = kf.simd_info()["supported"]
PRECISIONS = [(8, 8), (16, 8), (16, 16)]  # (activation_bits, weight_bits)


def random_net(rng: np.random.Generator, layers: list[int], hidden: str, output: str) -> kf.Network:
    net = kf.Network(layers, hidden=hidden, output=output, seed=int(rng.integers(1 << 30)))
    net.randomize_weights(-1.5, 1.5, seed=int(rng.integers(1 << 30)))
    return net


@pytest.mark.parametrize("bits", PRECISIONS, ids=lambda b: f"a{b[0]}w{b[1]}")
def test_every_path_gives_the_oracles_integers(bits: tuple[int, int]) -> None:
    rng = np.random.default_rng(bits)
    shapes = [[1, 1], [3, 5, 2], [17, 33, 7], [64, 100, 10], [5, 16, 16, 3], [40, 1, 9]]
    activations = [("sigmoid_symmetric", "sigmoid"), ("elliot", "linear"), ("relu", "sigmoid_symmetric_stepwise"),
                   ("gaussian", "threshold"), ("sin_symmetric", "linear_piece_symmetric"), ("leaky_relu", "cos")]
    for shape, (hidden, output) in zip(shapes, activations):
        net = random_net(rng, shape, hidden, output)
        calibration = rng.normal(size=(200, shape[0]))
        q = net.quantize(calibration=calibration, activation_bits=bits[0], weight_bits=bits[1])
        lo, hi = (0, 255) if bits[0] == 8 else (-32768, 32767)
        for n in (1, 2, 3, 15, 16, 17, 40):
            raw = rng.integers(lo, hi + 1, size=(n, shape[0]))
            expected = qref.run_raw(q.spec, raw)
            for path in PATHS:
                np.testing.assert_array_equal(q.run_raw(raw, simd=path), expected, err_msg=f"{shape} {path} n={n}")
        x = rng.normal(size=(37, shape[0])) * 2
        for path in PATHS:
            np.testing.assert_array_equal(q.run(x, simd=path), qref.run(q.spec, x.astype(np.float32)))


@pytest.mark.parametrize("bits", PRECISIONS, ids=lambda b: f"a{b[0]}w{b[1]}")
def test_every_path_agrees_on_random_shapes_and_batch_sizes(bits: tuple[int, int]) -> None:
    """Random layer sizes (tails of every width), batch sizes 1..70 and 4096: each path gives
    the scalar path's integers, which are the oracle's."""
    rng = np.random.default_rng(100 + bits[0] + bits[1])
    lo, hi = (0, 255) if bits[0] == 8 else (-32768, 32767)
    for _ in range(3):
        shape = [int(v) for v in rng.integers(1, 200, size=int(rng.integers(2, 5)))]
        net = random_net(rng, shape, "sigmoid_symmetric", "sigmoid")
        q = net.quantize(calibration=rng.normal(size=(100, shape[0])), activation_bits=bits[0], weight_bits=bits[1])
        raw = rng.integers(lo, hi + 1, size=(4096, shape[0]))
        expected = q.run_raw(raw, simd="scalar")
        np.testing.assert_array_equal(expected, qref.run_raw(q.spec, raw))
        for path in PATHS:
            for n in [*range(1, 71), 4096]:
                np.testing.assert_array_equal(q.run_raw(raw[:n], simd=path), expected[:n], err_msg=f"{shape} {path} n={n}")


def test_accumulators_cannot_overflow() -> None:
    rng = np.random.default_rng(5)
    net = random_net(rng, [1000, 40, 3], "linear", "linear")
    net.weights = rng.normal(0, 50, net.total_connections)
    for a_bits, w_bits in PRECISIONS:
        q = net.quantize(calibration=rng.normal(size=(50, 1000)), activation_bits=a_bits, weight_bits=w_bits)
        assert q.report.accumulator_headroom >= 1.0
        lo, hi = (0, 255) if a_bits == 8 else (-32768, 32767)
        extremes = np.array([[lo] * 1000, [hi] * 1000, [lo, hi] * 500, [hi, lo] * 500])
        # the oracle asserts |acc| < 2^31 in 64-bit arithmetic
        np.testing.assert_array_equal(q.run_raw(extremes), qref.run_raw(q.spec, extremes))


def test_clipped_weights_shrink_with_their_row_when_it_could_overflow() -> None:
    """Q16 with int16 weights: +-1500 weights that cancel beside a small one. The weight scale
    clips the big ones, and the row must still fit int32 (it used to reach the core unfitted)."""
    net = kf.Network([3, 1], output="sigmoid_symmetric")
    net.weights = [1500.0, 5.0, -1500.0, 0.0]
    t = np.linspace(0, 1, 50)
    x = np.column_stack([t, np.cos(7 * t), t])
    q = net.quantize(calibration=x, activation_bits=16, weight_bits=16)
    assert q.report.accumulator_headroom >= 1.0 and q.report.max_abs_error < 0.01
    extremes = np.array([[-32768] * 3, [32767] * 3, [-32768, 32767, -32768], [32767, -32768, 32767]])
    np.testing.assert_array_equal(q.run_raw(extremes), qref.run_raw(q.spec, extremes))

def test_the_core_refuses_a_network_that_could_overflow() -> None:
    weights = np.full((1, 70000), 127, dtype=np.int16)
    layer = kf.QuantizedLayer(weights, np.zeros(1, np.int32), np.ones(1, np.int32), np.ones(1, np.uint8), 0, 0,
                              np.array([0, 256], np.int32), 0, 255)
    with pytest.raises(errors.ConfigError, match="overflow"):
        kf.QuantizedNetwork(kf.QuantizedSpec(8, 8, np.ones(70000, np.float32), np.zeros(70000, np.int32), 1.0, 0,
                                             (layer,)))
    bad_weight = dataclasses.replace(layer, weights=np.full((1, 2), 300, dtype=np.int16))
    with pytest.raises(errors.ConfigError, match="weight"):
        kf.QuantizedNetwork(kf.QuantizedSpec(8, 8, np.ones(2, np.float32), np.zeros(2, np.int32), 1.0, 0,
                                             (bad_weight,)))


def trained(name: str) -> tuple[kf.Network, kf.TrainingData, kf.TrainingData]:
    if name == "digits":
        datasets = pytest.importorskip("sklearn.datasets")
        digits = datasets.load_digits()
        x, y = digits.data / 16.0, np.eye(10)[digits.target]
        order = np.random.default_rng(0).permutation(len(x))
        train = kf.TrainingData(x[order[:1200]], y[order[:1200]])
        test = kf.TrainingData(x[order[1200:]], y[order[1200:]])
    else:
        train, test = fann_dataset(name)
    net = kf.Network([train.num_input, 24, train.num_output], hidden="sigmoid_symmetric", output="sigmoid", seed=1)
    net.training_algorithm = "incremental"
    net.learning_rate = 0.2
    net.train(train, max_epochs=60, target_error=0)
    return net, train, test


@pytest.mark.parametrize("name", ["digits", "thyroid", "mushroom", "gene"])
def test_accuracy_goals(name: str) -> None:
    net, train, test = trained(name)
    float_out = net.run(test.inputs)
    labels = float_out.argmax(axis=1)
    # Rows inside the calibrated input range (beyond it inputs saturate by design).
    inside = np.all((test.inputs >= train.inputs.min(0)) & (test.inputs <= train.inputs.max(0)), axis=1)
    q16 = net.quantize(calibration=train.inputs, activation_bits=16, weight_bits=16)
    out16 = q16.run(test.inputs)
    assert np.mean(out16.argmax(axis=1) == labels) >= 0.995
    assert np.abs(out16 - float_out)[inside].max() <= 4e-3
    q8 = net.quantize(calibration=train.inputs)
    assert np.mean(q8.run(test.inputs).argmax(axis=1) == labels) >= 0.99
    assert q8.report.max_abs_error < 0.05 and q16.report.max_abs_error < 4e-3


def test_fann_rprop_networks_with_huge_weights_still_quantize_well() -> None:
    """FANN's RPROP leaves weights at its +-1500 limit; the weight-scale search copes."""
    train, test = fann_dataset("gene")
    net = kf.Network([train.num_input, 24, train.num_output], hidden="sigmoid_symmetric", output="sigmoid", seed=1)
    net.train(train, max_epochs=150, target_error=0)
    assert np.abs(net.weights).max() == 1500
    labels = net.run(test.inputs).argmax(axis=1)
    assert np.mean(net.quantize(calibration=train.inputs).run(test.inputs).argmax(axis=1) == labels) >= 0.99


def test_bad_inputs() -> None:
    rng = np.random.default_rng(1)
    net = random_net(rng, [3, 4, 2], "sigmoid_symmetric", "sigmoid")
    x = rng.uniform(-1, 1, (20, 3))
    q = net.quantize(calibration=x)
    with pytest.raises(errors.ShapeError, match=r"\[0, 255\]"):
        q.run_raw([0, 256, 3])
    with pytest.raises(errors.ShapeError):
        q.run_raw([0.5, 1, 2])
    with pytest.raises(errors.NumericError):
        q.run([0.1, np.nan, 0.3])
    with pytest.raises(errors.ShapeError):
        q.run(np.zeros((2, 4)))
    with pytest.raises(errors.NumericError):
        q.run([0.1, np.inf, 0.3])
    # Beyond the calibrated range inputs saturate.
    big = q.run([[1e30, -1e30, 1e30]])
    np.testing.assert_array_equal(big, q.run([[x[:, 0].max(), x[:, 1].min(), x[:, 2].max()]]))
    with pytest.raises(errors.ConfigError, match="unknown SIMD path"):
        q.run(x, simd="sse9")
    unsupported = set(kf._core.simd_names()[1:]) - set(PATHS)
    assert unsupported  # no build has both NEON and x86 or WASM kernels
    for path in unsupported:
        with pytest.raises(errors.ConfigError, match="not supported by this build or CPU"):
            q.run(x, simd=path)


@pytest.mark.parametrize(
    "make, kwargs, error",
    [
        (lambda: kf.Network([3, 4, 2]), {"weight_bits": 16}, "precisions"),
        (lambda: kf.Network([3, 4, 2]), {"activation_bits": 4}, "precisions"),
    ],
)
def test_quantize_refuses_what_it_cannot_do(make, kwargs: dict, error: str) -> None:
    with pytest.raises(errors.ConfigError, match=error):
        make().quantize(calibration=np.zeros((4, 3)), **kwargs)


def test_quantize_checks_layers_and_calibration() -> None:
    net = kf.Network([3, 4, 2])
    net.set_activation("elliot", layer=1, neuron=0)
    with pytest.raises(errors.ConfigError, match="mixes"):
        net.quantize(calibration=np.zeros((4, 3)))
    with pytest.raises(errors.ShapeError):
        kf.Network([3, 4, 2]).quantize(calibration=np.zeros((4, 5)))
    with pytest.raises(errors.ConfigError, match="at least one"):
        kf.Network([3, 4, 2]).quantize(calibration=np.zeros((0, 3)))


def test_sparse_networks_quantize() -> None:
    rng = np.random.default_rng(3)
    net = kf.Network([10, 20, 4], connection_rate=0.4, seed=2)
    net.randomize_weights(-1, 1, seed=1)
    x = rng.uniform(-1, 1, (300, 10))
    q = net.quantize(calibration=x, activation_bits=16, weight_bits=16)
    assert np.abs(q.run(x) - net.run(x)).max() < 1e-3


def test_pickle_and_threads() -> None:
    rng = np.random.default_rng(4)
    net = random_net(rng, [16, 32, 4], "sigmoid_symmetric", "sigmoid")
    x = rng.uniform(-1, 1, (500, 16))
    q = net.quantize(calibration=x)
    again = pickle.loads(pickle.dumps(q))
    np.testing.assert_array_equal(again.run(x), q.run(x))
    assert again.report.max_abs_error == q.report.max_abs_error
    serial = [q.run(x[i::8]) for i in range(8)]
    results: list = [None] * 8

    def work(i: int) -> None:
        for _ in range(20):
            results[i] = q.run(x[i::8])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for got, want in zip(results, serial):
        np.testing.assert_array_equal(got, want)


def test_peak_loops_run_on_every_supported_path() -> None:
    """The register-only loops the benchmarks time for each path's peak (bench/conftest.py)."""
    names = kf._core.simd_names()
    for number in range(1, len(names)):
        for kind in range(3):
            if names[number] in PATHS:
                assert kf._core.simd_peak(number, kind, 10) % 10 == 0 and kf._core.simd_peak(number, kind, 10) > 0
            else:
                with pytest.raises(errors.ConfigError, match="not supported"):
                    kf._core.simd_peak(number, kind, 10)
    with pytest.raises(errors.KimiFannError):
        kf._core.simd_peak(1, 3, 10)


def run_with_simd(value: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, KIMI_FANN_SIMD=value)
    return subprocess.run([sys.executable, "-c", "import kimi_fann; print(kimi_fann.simd_path())"],
                          capture_output=True, text=True, env=env)


def test_kimi_fann_simd_forces_a_path() -> None:
    for path in PATHS:
        result = run_with_simd(path)
        assert result.returncode == 0 and result.stdout.strip() == path
    bogus = run_with_simd("sse9")
    assert bogus.returncode != 0 and "not a known SIMD path" in bogus.stderr
    for path in set(kf._core.simd_names()[1:]) - set(PATHS):
        refused = run_with_simd(path)
        assert refused.returncode != 0 and "not supported" in refused.stderr
