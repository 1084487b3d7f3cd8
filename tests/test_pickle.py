"""Every public object survives pickle, copy.copy and copy.deepcopy: the same outputs bit for
bit, the same settings, and (for float networks) the same training from there on."""

from __future__ import annotations

import copy
import dataclasses
import multiprocessing
import pickle
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import kimi_fann as kf
from kimi_fann import analyzer

RNG = np.random.default_rng(16)
X = RNG.uniform(-1, 1, (300, 3)).astype(np.float32)
Y = (X[:, :2] ** 2).astype(np.float32)


def _round_trips(model: Any) -> list[Any]:
    """The model through each protocol of pickle, copy.copy and copy.deepcopy."""
    pickles = [pickle.loads(pickle.dumps(model, protocol=p)) for p in range(2, pickle.HIGHEST_PROTOCOL + 1)]
    return [*pickles, copy.copy(model), copy.deepcopy(model)]


def _same(a: np.ndarray | tuple, b: np.ndarray | tuple) -> None:
    for u, v in zip(a if isinstance(a, tuple) else (a,), b if isinstance(b, tuple) else (b,)):
        assert u.dtype == v.dtype and u.shape == v.shape
        assert u.tobytes() == v.tobytes()  # bit for bit (np.array_equal would let -0.0 == 0.0 pass)


def _trained(algorithm: str, epochs: int = 7) -> kf.Network:
    net = kf.Network([3, 5, 2], hidden="sigmoid_symmetric", output="sigmoid", seed=4)
    net.training_algorithm = algorithm
    net.learning_momentum = 0.4
    for _ in range(epochs):
        net.train_epoch(kf.TrainingData(X, Y))
    return net


# ---- float networks ----


def test_network_keeps_every_setting() -> None:
    net = kf.Network([3, 6, 4, 2], hidden="elliot", output="linear", steepness=0.37, connection_rate=0.123456789,
                     seed=3)
    net.set_activation("gaussian", steepness=1.25, layer=1, neuron=2)
    net.learning_rate = 0.123456789
    net.rprop_delta_max = 17.5
    net.train_stop_function = "bit"
    net.cascade_activation_functions = ["sin", "relu"]
    net.cascade_activation_steepnesses = [0.1234567]
    net.set_scaling(kf.TrainingData(X, Y))
    for back in _round_trips(net):
        assert type(back) is kf.Network and back is not net
        assert back.connection_rate == net.connection_rate  # exact, not the .net text's six decimals
        assert back.training_parameters() == net.training_parameters()
        assert back.cascade_activation_functions == net.cascade_activation_functions
        assert back.cascade_activation_steepnesses == net.cascade_activation_steepnesses
        _same(back.weights, net.weights)
        _same(back.scaling_parameters(), net.scaling_parameters())
        _same(back.topology.steepnesses, net.topology.steepnesses)
        _same(back.topology.sources, net.topology.sources)
        _same(back.run(X), net.run(X))
        assert back.to_fann_text() == net.to_fann_text()


def test_shortcut_network_and_its_fixed_point_form() -> None:
    net = kf.Network([3, 4, 2], shortcut=True, seed=2)
    for back in _round_trips(net):
        assert back.shortcut
        _same(back.run(X), net.run(X))
        assert back.to_fixed().to_fann_text() == net.to_fixed().to_fann_text()


@pytest.mark.parametrize("algorithm", ["rprop", "quickprop", "sarprop", "incremental", "batch"])
def test_training_continues_exactly_after_a_round_trip(algorithm: str) -> None:
    """The training history goes along: RPROP's step sizes, Quickprop's previous steps and
    slopes, SARPROP's epoch count and random stream, incremental training's momentum."""
    net = _trained(algorithm)
    data = kf.TrainingData(X, Y)
    clones = _round_trips(net)
    assert all(c.mse == net.mse and c.bit_fail == net.bit_fail for c in clones)
    want = [net.train_epoch(data) for _ in range(5)]
    for clone in clones:
        got = [clone.train_epoch(data) for _ in range(5)]
        assert np.array(got, dtype=np.float32).tobytes() == np.array(want, dtype=np.float32).tobytes()
        _same(clone.weights, net.weights)


def test_a_fresh_network_trains_as_its_copies_do() -> None:
    """No trainer yet: the copy creates its own from the same generator state."""
    net = kf.Network([3, 4, 2], seed=9)
    net.training_algorithm = "sarprop"
    clones = _round_trips(net)
    data = kf.TrainingData(X, Y)
    want = net.train(data, max_epochs=6, target_error=0)
    for clone in clones:
        _same(clone.train(data, max_epochs=6, target_error=0), want)
        _same(clone.weights, net.weights)


def test_copies_keep_the_random_generator_and_are_independent() -> None:
    net = kf.Network([3, 4, 2], seed=5)
    clones = _round_trips(net)
    a = net.copy()  # copy() draws the copy's seed from the generator
    a.randomize_weights()
    for clone in clones:
        b = clone.copy()
        b.randomize_weights()
        _same(a.weights, b.weights)
        clone.randomize_weights(seed=1)
        assert not np.array_equal(clone.weights, net.weights)
    # copy.deepcopy leaves the original as it was (copy() draws from its generator)
    before = net.copy()
    copy.deepcopy(net)
    after = net.copy()
    before.randomize_weights(seed=None)
    after.randomize_weights(seed=None)
    assert not np.array_equal(before.weights, after.weights)


def test_a_damaged_training_state_is_refused() -> None:
    state = _trained("rprop").__getstate__()
    state["training"]["steps"][0] = np.nan
    with pytest.raises(kf.errors.NumericError):
        kf.Network.__new__(kf.Network).__setstate__(state)
    state = _trained("rprop").__getstate__()
    state["training"]["rng_inc"] = 2  # a PCG increment is odd
    with pytest.raises(kf.errors.ConfigError):
        kf.Network.__new__(kf.Network).__setstate__(state)
    state = _trained("rprop").__getstate__()
    state["training"]["mse_sum"] = -1.0
    with pytest.raises(kf.errors.ConfigError):
        kf.Network.__new__(kf.Network).__setstate__(state)
    state["training"]["mse_sum"] = np.inf
    with pytest.raises(kf.errors.NumericError):
        kf.Network.__new__(kf.Network).__setstate__(state)
    state = _trained("rprop").__getstate__()
    state["training"]["steps"] = state["training"]["steps"][:-1]
    with pytest.raises(kf.errors.ShapeError):
        kf.Network.__new__(kf.Network).__setstate__(state)


# ---- fixed point ----


@pytest.mark.parametrize("kind", ["fann", "q8", "q16", "q16w16"])
def test_fixed_networks(kind: str) -> None:
    net = kf.Network([3, 6, 2], hidden="sigmoid_symmetric", output="sigmoid", seed=1)
    net.train(kf.TrainingData(X, Y), max_epochs=20, target_error=0)
    model = {"fann": lambda: net.to_fixed(), "q8": lambda: net.quantize(calibration=X),
             "q16": lambda: net.quantize(calibration=X, activation_bits=16),
             "q16w16": lambda: net.quantize(calibration=X, activation_bits=16, weight_bits=16)}[kind]()
    raw = model.run_raw(np.zeros((2, 3), dtype=np.int32))
    for back in _round_trips(model):
        assert type(back) is type(model) and back.format == model.format
        _same(back.run(X), model.run(X))
        _same(back.run_raw(np.zeros((2, 3), dtype=np.int32)), raw)
        assert back.input_quantization[0].tobytes() == model.input_quantization[0].tobytes()
        assert back.output_quantization == model.output_quantization
        if kind == "fann":
            assert back.to_fann_text() == model.to_fann_text()
        else:
            assert back.report == model.report


# ---- routers and mixtures ----


@pytest.mark.parametrize("gate_bits", [32, 16, 8])
@pytest.mark.parametrize("scoring", ["sigmoid", "softmax"])
def test_router(gate_bits: int, scoring: str) -> None:
    router = kf.Router(RNG.normal(size=(7, 3)), bias=RNG.normal(size=7) * 0.1, top_k=3, scoring=scoring,
                       scaling=2.5123456789, gate_bits=gate_bits)
    for back in _round_trips(router):
        assert (back.top_k, back.scoring, back.scaling, back.gate_bits) == (3, scoring, 2.5123456789, gate_bits)
        _same(back.gates, router.gates)
        _same(back.bias, router.bias)
        _same(back.route(X), router.route(X))
        if gate_bits != 32:
            _same(back.quantized_gates, router.quantized_gates)
    # the copies own their compiled router: a new bias on one leaves the other as it was
    clone = copy.copy(router)
    clone.bias = None
    assert router.bias is not None and not np.array_equal(clone.route(X)[0], router.route(X)[0])


def test_router_without_bias() -> None:
    router = kf.Router(np.eye(4, 3), top_k=1)
    for back in _round_trips(router):
        assert back.bias is None
        _same(back.route(X), router.route(X))


def _mixture(quantized: bool) -> kf.MixtureOfExperts:
    experts: list[Any] = [kf.Network([3, 4, 2], hidden="sigmoid_symmetric", output="linear", seed=i)
                          for i in range(5)]
    if quantized:
        experts = [e.quantize(calibration=X) for e in experts]
    shared = kf.Network([3, 2, 2], hidden="elliot", output="linear", seed=9)
    router = kf.Router(RNG.normal(size=(5, 3)), top_k=2, gate_bits=8)
    return kf.MixtureOfExperts(router, experts, shared_expert=shared, domains=[f"d{i}" for i in range(5)])


@pytest.mark.parametrize("quantized", [False, True])
def test_mixture(quantized: bool) -> None:
    moe = _mixture(quantized)
    for back in _round_trips(moe):
        assert back.domains == moe.domains and back.num_output == moe.num_output
        _same(back.run(X), moe.run(X))
        _same(back.run(X, return_routes=True), moe.run(X, return_routes=True))
        assert [type(e) for e in back.experts] == [type(e) for e in moe.experts]


def test_mixture_copies() -> None:
    moe = _mixture(False)
    shallow, deep = copy.copy(moe), copy.deepcopy(moe)
    assert shallow.router is moe.router and shallow.experts[0] is moe.experts[0]  # a shallow copy shares its parts
    assert deep.router is not moe.router and deep.experts[0] is not moe.experts[0]
    # parts shared with other objects stay shared within one pickle
    back_moe, back_router, back_expert = pickle.loads(pickle.dumps((moe, moe.router, moe.experts[2])))
    assert back_moe.router is back_router and back_moe.experts[2] is back_expert


def test_distilled_mixture_pickles() -> None:
    x = RNG.normal(size=(400, 4))
    w = RNG.normal(size=(4, 3))
    model, report = analyzer.distill(lambda v: v @ w, x, n_experts=3, hidden=4, max_epochs=20, seed=1)
    assert isinstance(model, kf.MixtureOfExperts)
    for back in _round_trips(model):
        _same(back.run(x), model.run(x))
    for back in _round_trips(report):
        assert back.to_json() == report.to_json()


# ---- data, descriptions and reports ----


def test_training_data() -> None:
    data = kf.TrainingData(X, Y)
    for back in _round_trips(data):
        _same(back.inputs, data.inputs)
        _same(back.outputs, data.outputs)
        back.shuffle(seed=1)  # its own, writable arrays
        _same(data.inputs, X)


@pytest.mark.parametrize("make", [
    lambda net: net.topology,
    lambda net: net.quantize(calibration=X).spec,
    lambda net: net.quantize(calibration=X).report,
])
def test_descriptions(make: Callable[[kf.Network], Any]) -> None:
    description = make(kf.Network([3, 4, 2], seed=0))
    for back in _round_trips(description):
        for field in dataclasses.fields(description):
            a, b = getattr(back, field.name), getattr(description, field.name)
            if isinstance(a, np.ndarray):
                _same(a, b)
            elif field.name != "layers":
                assert a == b


def test_analyzer_reports() -> None:
    net = kf.Network([3, 5, 2], seed=0)
    moe = _mixture(True)
    for report in (analyzer.analyze(net, X), analyzer.analyze(moe, X),
                   analyzer.profile(net, batch_sizes=(1, 8), repeats=3)):
        for back in _round_trips(report):
            assert type(back) is type(report) and back.to_json() == report.to_json()


# ---- out-of-band buffers at any byte (as Dask rebuilds them) ----


def _misaligned(a: np.ndarray) -> np.ndarray:
    """A copy of a whose values start one byte into their buffer."""
    raw = bytearray(a.nbytes + 1)
    out = np.frombuffer(raw, dtype=a.dtype, offset=1, count=a.size).reshape(a.shape)
    out[...] = a
    return out


def _through_odd_buffers(model: Any) -> Any:
    """Pickled with protocol 5 and unpickled from out-of-band buffers that start one byte into
    their memory, as arrays sent between Dask workers can: numpy then gives misaligned arrays."""
    buffers: list[pickle.PickleBuffer] = []
    payload = pickle.dumps(model, protocol=5, buffer_callback=buffers.append)
    odd = []
    for b in buffers:
        raw = bytearray(b.raw().nbytes + 1)
        raw[1:] = b.raw()
        odd.append(memoryview(raw)[1:])
    return pickle.loads(payload, buffers=odd)


def _arrays_of(obj: Any, seen: set[int] | None = None) -> list[np.ndarray]:
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return []
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        return [obj]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return [a for f in dataclasses.fields(obj) for a in _arrays_of(getattr(obj, f.name), seen)]
    if isinstance(obj, (list, tuple)):
        return [a for v in obj for a in _arrays_of(v, seen)]
    return []


@pytest.mark.parametrize("kind", ["network", "trained", "q8", "q16", "router", "mixture", "data"])
def test_odd_out_of_band_buffers_come_back_aligned(kind: str) -> None:
    model = {"network": lambda: kf.Network([3, 5, 2], seed=1), "trained": lambda: _trained("rprop"),
             "q8": lambda: _mixture(True).experts[0], "q16": lambda: _trained("rprop").quantize(
                 calibration=X, activation_bits=16, weight_bits=16),
             "router": lambda: kf.Router(RNG.normal(size=(4, 3)), bias=RNG.normal(size=4), top_k=2, gate_bits=8),
             "mixture": lambda: _mixture(True), "data": lambda: kf.TrainingData(X, Y)}[kind]()
    back = _through_odd_buffers(model)
    if kind == "data":
        assert all(a.flags.aligned and a.flags.writeable and a.flags.owndata for a in (back.inputs, back.outputs))
        _same(back.inputs, model.inputs)
        return
    if isinstance(back, kf.QuantizedNetwork):
        arrays = _arrays_of(back.spec)
        assert arrays and all(a.flags.aligned and not a.flags.writeable for a in arrays)
    if isinstance(back, kf.Router):
        _same(back.route(X), model.route(X))
    else:
        _same(back.run(X), model.run(X))
    if kind == "trained":
        data = kf.TrainingData(X, Y)
        assert back.train_epoch(data) == model.train_epoch(data)


def test_misaligned_inputs_run_as_aligned_ones() -> None:
    odd = _misaligned(X)
    assert not odd.flags.aligned
    net = _trained("rprop")
    q8 = net.quantize(calibration=X)
    router = kf.Router(RNG.normal(size=(4, 3)), top_k=2)
    moe = _mixture(False)
    for threads in (None, 1, 2):
        _same(net.run(odd, threads=threads), net.run(X))
        _same(q8.run(odd, threads=threads), q8.run(X))
        _same(router.route(odd, threads=threads), router.route(X))
        _same(moe.run(odd, threads=threads), moe.run(X))
    raw = np.zeros((4, 3), dtype=np.int32)
    _same(q8.run_raw(_misaligned(raw)), q8.run_raw(raw))
    _same(net.to_fixed().run_raw(_misaligned(raw)), net.to_fixed().run_raw(raw))
    _same(kf.TrainingData(odd, Y).inputs, X)


# ---- another process ----


def _run_there(payload: bytes) -> bytes:
    model, x = pickle.loads(payload)
    return pickle.dumps(model.run(x))


def test_models_run_the_same_in_another_process() -> None:
    models = [_trained("rprop"), _mixture(True), _mixture(False)]
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        outputs = pool.map(_run_there, [pickle.dumps((m, X)) for m in models])
    for model, out in zip(models, outputs):
        _same(pickle.loads(out), model.run(X))
