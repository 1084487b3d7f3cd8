"""analyzer.analyze: counts checked against independent arithmetic, SQNR, dead and saturated
neurons, router balance."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import kimi_fann as kf
from kimi_fann.analyzer import analyze


def _inputs(n: int, dim: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1, 1, (n, dim))


@pytest.mark.parametrize("layers", [[4, 8, 2], [3, 7, 5, 1], [10, 1]])
def test_dense_counts(layers: list[int]) -> None:
    report = analyze(kf.Network(layers, seed=0))
    assert len(report.layers) == len(layers) - 1
    for layer, n_in, n_out in zip(report.layers, layers[:-1], layers[1:]):
        assert (layer.inputs, layer.outputs) == (n_in, n_out)
        assert layer.parameters == n_out * (n_in + 1)
        assert layer.macs == n_out * n_in
        assert layer.possible_connections == layer.parameters and layer.absent_connections == 0
        assert layer.float_bytes == layer.stored_bytes == 4 * layer.parameters
        assert sum(layer.histogram_counts) == n_in * n_out  # biases excluded
        assert len(layer.histogram_edges) == len(layer.histogram_counts) + 1
    total = sum(o * (i + 1) for i, o in zip(layers[:-1], layers[1:]))
    assert report.parameters == total == kf.Network(layers, seed=0).total_connections
    assert report.macs == sum(o * i for i, o in zip(layers[:-1], layers[1:]))


def test_weight_statistics_match_numpy() -> None:
    net = kf.Network([5, 6, 3], seed=2)
    net.randomize_weights(-2, 3, seed=1)
    src, dst, w = net.connections()
    is_bias = np.isin(src, [5, 5 + 1 + 6])  # bias neurons of the input and hidden layers
    report = analyze(net, bins=10)
    first = report.layers[0]
    hidden = (dst >= 6) & (dst < 12) & ~is_bias
    assert first.weight_min == pytest.approx(w[hidden].min())
    assert first.weight_max == pytest.approx(w[hidden].max())
    assert first.weight_mean == pytest.approx(w[hidden].mean(), rel=1e-5)
    assert first.weight_std == pytest.approx(w[hidden].std(), rel=1e-5)
    counts, _ = np.histogram(w[hidden].astype(np.float64), bins=10)
    assert first.histogram_counts == counts.tolist()


def test_sparse_and_shortcut_connections() -> None:
    sparse = kf.Network([6, 10, 3], connection_rate=0.4, seed=0)
    report = analyze(sparse)
    assert report.parameters == sparse.total_connections
    for layer, n_in, n_out in zip(report.layers, (6, 10), (10, 3)):
        assert layer.possible_connections == n_out * (n_in + 1)
        assert layer.absent_connections == layer.possible_connections - layer.parameters > 0
        assert 0 < layer.sparsity < 1
    shortcut = analyze(kf.Network([3, 4, 2], shortcut=True, seed=0))
    # the output layer reads the 3 inputs, the bias and the 4 hidden neurons
    assert [(l.inputs, l.parameters, l.macs) for l in shortcut.layers] == [(3, 16, 12), (7, 16, 14)]


def test_zero_weights_counted() -> None:
    net = kf.Network([3, 4, 1], seed=0)
    w = net.weights
    w[:5] = 0.0
    net.weights = w
    report = analyze(net)
    assert report.layers[0].zero_weights == 5
    assert report.layers[0].sparsity == pytest.approx(5 / 16)


def test_activation_ranges_match_run() -> None:
    net = kf.Network([4, 6, 3], output="linear", seed=3)
    x = _inputs(300, 4)
    report = analyze(net, x)
    y = net.run(x)
    assert report.samples == 300
    assert report.layers[-1].activation_min == pytest.approx(float(y.min()), abs=1e-5)
    assert report.layers[-1].activation_max == pytest.approx(float(y.max()), abs=1e-5)
    assert -1 <= report.layers[0].activation_min <= report.layers[0].activation_max <= 1


def test_dead_and_saturated_neurons() -> None:
    net = kf.Network([3, 5, 2], hidden="sigmoid_symmetric", seed=0)
    src, dst, w = net.connections()
    w = w.copy()
    w[dst == 4 + 2] = 0.0  # hidden neuron 2 (neuron 6): every input weight and its bias zero
    w[(dst == 4 + 4) & (src == 3)] = 8.0  # hidden neuron 4: a large bias keeps tanh near +1 ...
    assert np.abs(w[(dst == 4 + 4) & (src != 3)]).max() > 0.01  # ... yet its output still varies
    net.weights = w
    report = analyze(net, _inputs(200, 3))
    hidden = report.layers[0]
    assert hidden.dead_neurons == [2]
    assert hidden.saturated_neurons == [4]
    assert analyze(net).layers[0].dead_neurons is None  # needs data


def test_training_data_accepted() -> None:
    net = kf.Network([2, 3, 1], seed=0)
    data = kf.TrainingData(_inputs(50, 2), np.zeros(50))
    assert analyze(net, data).to_dict() == analyze(net, data.inputs).to_dict()


def test_sqnr_q16_beats_q8() -> None:
    net = kf.Network([6, 12, 3], seed=4)
    net.randomize_weights(-1, 1, seed=2)
    x = _inputs(500, 6)
    q8 = analyze(net.quantize(calibration=x), x, reference=net)
    q16 = analyze(net.quantize(calibration=x, activation_bits=16, weight_bits=16), x, reference=net)
    assert (q8.model, q16.model) == ("q8", "q16")
    assert q8.reference == "float reference"
    for a, b in zip(q8.layers, q16.layers):
        assert a.sqnr_db is not None and b.sqnr_db is not None
        assert b.sqnr_db > a.sqnr_db > 15
        assert b.weight_sqnr_db > a.weight_sqnr_db
    assert q16.output_sqnr_db > q8.output_sqnr_db
    # simulated by analyze on a float network: same ordering
    s8, s16 = analyze(net, x, quantize="q8"), analyze(net, x, quantize="q16")
    assert s8.reference == "simulated q8"
    assert all(b.sqnr_db > a.sqnr_db for a, b in zip(s8.layers, s16.layers))
    assert analyze(net, x, quantize=None).layers[0].sqnr_db is None


def test_quantized_counts_and_bytes() -> None:
    net = kf.Network([5, 7, 2], seed=0)
    x = _inputs(100, 5)
    q8 = analyze(net.quantize(calibration=x))
    q16 = analyze(net.quantize(calibration=x, activation_bits=16, weight_bits=16))
    for report, width, dtype in ((q8, 1, "int8"), (q16, 2, "int16")):
        for layer, n_in, n_out in zip(report.layers, (5, 7), (7, 2)):
            assert layer.dtype == dtype and layer.weight_units == "integer"
            assert layer.parameters == n_out * (n_in + 1)
            assert layer.stored_bytes == width * n_in * n_out + 4 * n_out
            assert layer.float_bytes == 4 * layer.parameters
            assert layer.overhead_bytes > 0
            assert -(2 ** (8 * width - 1)) <= layer.weight_min <= layer.weight_max < 2 ** (8 * width - 1)
    assert q8.quantization is not None and q8.quantization["activation_bits"] == 8


def test_fann_fixed() -> None:
    net = kf.Network([3, 4, 2], seed=0)
    fixed = net.to_fixed()
    x = _inputs(100, 3)
    report = analyze(fixed, x, reference=net)
    assert report.model == "fann_fixed"
    assert [l.parameters for l in report.layers] == [16, 10]
    assert all(l.dtype == "fann_fixed" and l.weight_units == "float" for l in report.layers)
    # stored weights are the float ones rounded to 1/32768: close but not identical
    assert all(60 < l.weight_sqnr_db < 200 for l in report.layers)
    assert report.output_sqnr_db > 30
    assert abs(report.layers[0].weight_max - analyze(net).layers[0].weight_max) <= 1 / fixed.multiplier


def test_router_balance_of_skewed_router() -> None:
    gates = np.zeros((4, 3))
    gates[0] = [5.0, 0.0, 0.0]  # expert 0 wins whenever x0 > 0 ...
    router = kf.Router(gates, top_k=1, scoring="softmax")
    x = np.abs(_inputs(400, 3)) + 0.1  # ... which is always; ties among the rest never matter
    report = analyze(router, x)
    r = report.router
    assert report.model == "router" and r is not None
    assert r.load == [400, 0, 0, 0]
    assert r.unused_experts == [1, 2, 3]
    assert r.entropy == pytest.approx(0.0)
    assert r.max_mean_ratio == pytest.approx(4.0)
    assert r.parameters == 12 and r.macs == 12

    even = analyze(kf.Router(np.eye(4, 4), top_k=1, scoring="softmax"), np.eye(4).repeat(25, axis=0)).router
    assert even.load == [25, 25, 25, 25]
    assert even.entropy == pytest.approx(1.0)
    assert even.max_mean_ratio == pytest.approx(1.0)


def test_mixture() -> None:
    experts = [kf.Network([3, 4, 2], seed=i) for i in range(4)]
    shared = kf.Network([3, 2, 2], seed=9)
    moe = kf.MixtureOfExperts(kf.Router(np.eye(4, 3), top_k=2, scoring="softmax"), experts, shared_expert=shared)
    x = _inputs(200, 3)
    report = analyze(moe, x)
    assert report.model == "mixture" and len(report.experts) == 4 and report.layers == []
    assert report.shared_expert is not None and report.shared_expert.index == -1
    expert_params = 4 * (4 * 4 + 2 * 5)
    shared_params = 2 * 4 + 2 * 3
    assert report.parameters == 12 + expert_params + shared_params
    assert report.macs == 12 + 2 * (4 * 3 + 2 * 4) + (2 * 3 + 2 * 2)
    chosen, _ = moe.router.route(x)
    assert report.router.load == [int((chosen == e).sum()) for e in range(4)]
    assert [e.samples for e in report.experts] == report.router.load  # top_k picks distinct experts
    assert sum(report.router.load) == 2 * 200
    assert report.experts[0].domain == "expert_0"

    fixed = kf.MixtureOfExperts(moe.router, [e.quantize(calibration=x) for e in experts])
    plain = kf.MixtureOfExperts(moe.router, experts)
    quantized = analyze(fixed, x, reference=plain)
    assert {e.model for e in quantized.experts} == {"q8"}
    assert quantized.output_sqnr_db is not None and quantized.output_sqnr_db > 20
    assert all(l.sqnr_db is not None for e in quantized.experts for l in e.layers if e.samples)


def test_bad_arguments() -> None:
    net = kf.Network([2, 3, 1])
    with pytest.raises(kf.errors.ConfigError):
        analyze("not a model")  # type: ignore[arg-type]
    with pytest.raises(kf.errors.ConfigError):
        analyze(net, bins=0)
    with pytest.raises(kf.errors.ConfigError):
        analyze(net, quantize="q4")
    with pytest.raises(kf.errors.ShapeError):
        analyze(net, np.zeros((4, 3)))
    with pytest.raises(kf.errors.ConfigError):
        analyze(net.to_fixed(), reference=kf.Router(np.eye(2)))  # type: ignore[arg-type]


def test_references_that_do_not_fit_are_refused() -> None:
    net = kf.Network([3, 4, 2], seed=0)
    router = kf.Router(np.eye(3), top_k=1)
    moe = kf.MixtureOfExperts(router, [kf.Network([3, 2], seed=s) for s in range(3)])
    with pytest.raises(kf.errors.ConfigError, match="a Router has no reference model"):
        analyze(router, reference=net)
    with pytest.raises(kf.errors.ConfigError, match="the reference of a MixtureOfExperts must be a MixtureOfExperts"):
        analyze(moe, reference=net)
    with pytest.raises(kf.errors.ConfigError,
                       match="the reference has 2 inputs and 1 outputs, the model 3 and 2"):
        analyze(net.to_fixed(), reference=kf.Network([2, 1]))


def test_notes_say_what_could_not_be_measured() -> None:
    x = np.random.default_rng(1).uniform(-1, 1, (40, 3))
    mixed = kf.Network([3, 4, 2], hidden="sigmoid_symmetric", seed=0)
    mixed.set_activation("elliot", layer=1, neuron=0)  # one activation per layer is what Q8 takes
    assert analyze(mixed, x, quantize="q8").notes == [
        "no simulated q8 SQNR: layer 1 mixes activation functions ['elliot', 'sigmoid_symmetric']; "
        "quantize needs one per layer"]
    fixed = kf.Network([3, 4, 2], seed=0).to_fixed()
    other = analyze(fixed, reference=kf.Network([3, 4, 2], connection_rate=0.5, seed=0))
    assert other.notes == ["the reference's connections differ from the model's: no weight SQNR"]
    assert all(layer.weight_sqnr_db is None for layer in other.layers)


def test_a_quantized_network_without_its_report() -> None:
    """Built from a spec that lost the per-layer output scales (its quantizer's measurements), a
    Q8 network is analysed from its reference's activations, and the report says so."""
    x = np.random.default_rng(2).uniform(-1, 1, (40, 3))
    net = kf.Network([3, 4, 2], hidden="sigmoid_symmetric", seed=0)
    q = net.quantize(calibration=x)
    bare = kf.QuantizedNetwork(dataclasses.replace(
        q.spec, layers=tuple(dataclasses.replace(l, output_scale=None, output_zero=None) for l in q.spec.layers)))
    assert bare.report is None
    report = analyze(bare, x, reference=net)
    assert report.notes == ["the quantizer's report is missing: no per-layer activations of the integer engine"]
    assert report.quantization is None
    plain = analyze(net, x)
    assert [l.activation_min for l in report.layers] == [l.activation_min for l in plain.layers]


def test_quantized_router_bytes_and_one_sample() -> None:
    rng = np.random.default_rng(3)
    router = kf.Router(rng.normal(size=(6, 5)), rng.normal(size=6), top_k=2, gate_bits=8, scoring="sigmoid")
    report = analyze(router)
    assert report.router.stored_bytes == 6 * 5 + 4 * 6 + 4 * 6  # int8 gates, a scale and a bias per expert
    assert report.router.parameters == 6 * 5 + 6
    one = analyze(kf.Network([3, 4, 2], seed=0), rng.uniform(size=(1, 3)))
    assert all(l.dead_neurons is None and l.saturated_neurons is None for l in one.layers)  # one row says nothing


def test_experts_that_receive_no_inputs() -> None:
    router = kf.Router(np.array([[5.0, 0.0], [0.0, 5.0], [-9.0, -9.0]]), top_k=1)
    moe = kf.MixtureOfExperts(router, [kf.Network([2, 3, 1], seed=s) for s in range(3)])
    x = np.random.default_rng(4).uniform(0, 1, (30, 2))  # expert 2 scores -9 (x0 + x1): never chosen
    report = analyze(moe, x)
    assert report.experts[2].samples == 0
    assert all(l.activation_min is None for l in report.experts[2].layers)
    assert all(l.activation_min is not None for l in report.experts[0].layers)


def test_sqnr_limits() -> None:
    from kimi_fann.analyzer.analyze import SQNR_CAP_DB, sqnr_db

    assert sqnr_db([1.0, -2.0], [1.0, -2.0]) == SQNR_CAP_DB  # no noise
    assert sqnr_db([0.0, 0.0], [0.5, 0.0]) == -SQNR_CAP_DB  # noise and no signal
    assert sqnr_db([1.0, 1.0], [1.1, 0.9]) == pytest.approx(20.0)
