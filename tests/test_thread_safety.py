"""The thread-safety contract (docs/threads.md): runs from many threads are safe, and a change
to a model (training, weights, bias, activations, parameters, cascade training) made while
other threads run it waits for the runs in progress; runs started meanwhile wait for it. No run
ever sees half of a change: each concurrent result equals the serial result of one of the
states the model went through, and a pickle taken during training is one of those states."""

from __future__ import annotations

import pickle
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import kimi_fann as kf
from kimi_fann._core import Guard

RNG = np.random.default_rng(17)
X = RNG.normal(size=(256, 8)).astype(np.float32)
Y = np.tanh(X[:, :4] * 0.5).astype(np.float32)
DATA = kf.TrainingData(X, Y)
RUNNERS = 3


def _key(result: Any) -> bytes:
    parts = result if isinstance(result, tuple) else (result,)
    return b"".join(np.ascontiguousarray(p).tobytes() for p in parts)


def concurrent_results(call: Callable[[], Any], steps: list[Callable[[], Any]]) -> list[bytes]:
    """call()'s results from RUNNERS threads while this thread makes the changes of steps, one
    after another; the runners start before the first change and stop after the last."""
    stop = threading.Event()
    started = threading.Barrier(RUNNERS + 1)
    results: list[list[bytes]] = [[] for _ in range(RUNNERS)]

    def runner(out: list[bytes]) -> None:
        started.wait()
        while not stop.is_set():
            out.append(_key(call()))

    threads = [threading.Thread(target=runner, args=(out,)) for out in results]
    for t in threads:
        t.start()
    started.wait()
    try:
        for step in steps:
            _progress(lambda: sum(map(len, results)))  # runs go on between the changes
            step()
        _progress(lambda: sum(map(len, results)))
    finally:
        stop.set()
        for t in threads:
            t.join()
    return [r for out in results for r in out]


def _progress(count: Callable[[], int], timeout: float = 2.0) -> None:
    """Wait until count() grows (another thread has done something), for at most timeout."""
    before, deadline = count(), time.monotonic() + timeout
    while count() == before and time.monotonic() < deadline:
        time.sleep(0.0005)


def serial_states(call: Callable[[], Any], steps: list[Callable[[], Any]]) -> set[bytes]:
    """call()'s result before the steps and after each."""
    states = {_key(call())}
    for step in steps:
        step()
        states.add(_key(call()))
    return states


def mixed_count(make: Callable[[], tuple[Callable[[], Any], list[Callable[[], Any]]]]) -> tuple[int, int]:
    """(results matching no serial state, results) of a model changed while it runs: make()
    builds the same model afresh and returns (call, steps) over it."""
    call, steps = make()
    expected = serial_states(call, steps)
    call, steps = make()
    got = concurrent_results(call, steps)
    return sum(r not in expected for r in got), len(got)


def _net(algorithm: str = "rprop") -> kf.Network:
    net = kf.Network([8, 48, 4], hidden="sigmoid_symmetric", output="linear", seed=3)
    net.training_algorithm = algorithm
    return net


def _weights_steps(net: kf.Network) -> list[Callable[[], Any]]:
    draws = np.random.default_rng(5).normal(scale=0.5, size=(60, net.total_connections))
    return [lambda w=w: setattr(net, "weights", w) for w in draws]


def _network_cases() -> dict[str, Callable[[], tuple[Callable[[], Any], list[Callable[[], Any]]]]]:
    def run(net: kf.Network) -> Callable[[], Any]:
        return lambda: net.run(X, threads=1)

    def weights() -> tuple[Callable[[], Any], list[Callable[[], Any]]]:
        net = _net()
        return run(net), _weights_steps(net)

    def train(algorithm: str) -> Callable[[], tuple[Callable[[], Any], list[Callable[[], Any]]]]:
        def make() -> tuple[Callable[[], Any], list[Callable[[], Any]]]:
            net = _net(algorithm)
            return run(net), [lambda: net.train_epoch(DATA)] * 25
        return make

    def train_sample() -> tuple[Callable[[], Any], list[Callable[[], Any]]]:
        net = _net("incremental")
        return run(net), [lambda i=i: net.train_sample(X[i], Y[i]) for i in range(60)]

    def activation() -> tuple[Callable[[], Any], list[Callable[[], Any]]]:
        net = _net()
        choices = [("sigmoid_symmetric", 0.5), ("elliot_symmetric", 0.9), ("gaussian", 0.3)]
        return run(net), [lambda c=c: net.set_activation(c[0], steepness=c[1]) for c in choices * 15]

    def randomize() -> tuple[Callable[[], Any], list[Callable[[], Any]]]:
        net = _net()
        return run(net), [lambda s=s: net.randomize_weights(-0.5, 0.5, seed=s) for s in range(60)]

    def init_weights() -> tuple[Callable[[], Any], list[Callable[[], Any]]]:
        net = _net()
        return run(net), [lambda s=s: net.init_weights(DATA, seed=s) for s in range(60)]

    def cascade() -> tuple[Callable[[], Any], list[Callable[[], Any]]]:
        net = kf.Network([8, 4], output="linear", shortcut=True, seed=2)
        random = kf.FannRandom(4)
        return run(net), [lambda: net.cascade_train(DATA, max_neurons=1, desired_error=0.0, random=random)] * 3

    def parameters() -> tuple[Callable[[], Any], list[Callable[[], Any]]]:
        net = _net()
        values = [{"learning_rate": 0.1 * i, "learning_momentum": 0.01 * i, "quickprop_decay": -1e-4 * i,
                   "rprop_increase_factor": 1.1 + 0.01 * i} for i in range(1, 80)]
        return (lambda: tuple(net.training_parameters().values()),
                [lambda v=v: net.set_training_parameters(v) for v in values])

    return {"weights": weights, "train_rprop": train("rprop"), "train_quickprop": train("quickprop"),
            "train_batch": train("batch"), "train_sample": train_sample, "set_activation": activation,
            "randomize_weights": randomize, "init_weights": init_weights, "cascade_train": cascade,
            "set_training_parameters": parameters}


NETWORK_CASES = _network_cases()


@pytest.mark.parametrize("name", sorted(NETWORK_CASES))
def test_changing_a_network_while_threads_run_it_mixes_no_states(name: str) -> None:
    mixed, total = mixed_count(NETWORK_CASES[name])
    assert total > 0
    assert mixed == 0, f"{mixed} of {total} runs matched no state"


def _router_bias() -> tuple[Callable[[], Any], list[Callable[[], Any]]]:
    router = kf.Router(np.random.default_rng(1).normal(size=(64, 8)), top_k=4)
    biases = np.random.default_rng(2).normal(scale=2.0, size=(100, 64))
    return (lambda: router.route(X, threads=1), [lambda b=b: setattr(router, "bias", b) for b in biases])


def _router_update_bias() -> tuple[Callable[[], Any], list[Callable[[], Any]]]:
    router = kf.Router(np.random.default_rng(1).normal(size=(64, 8)), top_k=4)
    loads = np.random.default_rng(3).integers(0, 50, size=(100, 64))
    return (lambda: router.route(X, threads=1), [lambda load=load: router.update_bias(load, 0.5) for load in loads])


def _mixture(change: str) -> Callable[[], tuple[Callable[[], Any], list[Callable[[], Any]]]]:
    def make() -> tuple[Callable[[], Any], list[Callable[[], Any]]]:
        router = kf.Router(np.random.default_rng(1).normal(size=(6, 8)), top_k=2)
        experts = [kf.Network([8, 24, 4], seed=10 + i) for i in range(6)]
        moe = kf.MixtureOfExperts(router, experts, shared_expert=experts[0])
        if change == "expert":
            draws = np.random.default_rng(4).normal(size=(60, experts[2].total_connections))
            steps = [lambda w=w: setattr(experts[2], "weights", w) for w in draws]
        else:
            biases = np.random.default_rng(2).normal(scale=2.0, size=(60, 6))
            steps = [lambda b=b: setattr(router, "bias", b) for b in biases]
        return lambda: moe.run(X, threads=1, return_routes=True), steps
    return make


@pytest.mark.parametrize("make", [_router_bias, _router_update_bias, _mixture("expert"), _mixture("router")],
                         ids=["router_bias", "router_update_bias", "mixture_expert_weights", "mixture_router_bias"])
def test_changing_a_router_or_a_mixture_part_while_threads_run_mixes_no_states(make: Any) -> None:
    mixed, total = mixed_count(make)
    assert total > 0
    assert mixed == 0, f"{mixed} of {total} runs matched no state"


@pytest.mark.parametrize("algorithm", ["quickprop", "rprop", "sarprop", "batch"])
def test_two_threads_training_one_network_take_turns_by_epoch(algorithm: str) -> None:
    # Epochs from two threads run one after another: the network ends as after all of them
    # serially (training is deterministic, epoch by epoch).
    serial, shared = _net(algorithm), _net(algorithm)
    for _ in range(40):
        serial.train_epoch(DATA)
    barrier = threading.Barrier(2)

    def train() -> None:
        barrier.wait()
        for _ in range(20):
            shared.train_epoch(DATA)

    threads = [threading.Thread(target=train) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    np.testing.assert_array_equal(shared.weights, serial.weights)
    assert shared.mse == serial.mse


def test_a_pickle_taken_during_training_is_one_state_of_it() -> None:
    # Each pickle holds the weights and the training history of the same epoch: training the
    # unpickled network once more gives what the serial run gave after the next epoch.
    serial = _net("quickprop")
    states = [(serial.weights.tobytes(), None)]
    for _ in range(30):
        serial.train_epoch(DATA)
        states.append((serial.weights.tobytes(), serial.mse))
    weights = [w for w, _ in states]

    net = _net("quickprop")
    done = threading.Event()
    pickles: list[bytes] = []

    def train() -> None:
        for _ in range(30):
            _progress(lambda: len(pickles))  # pickles are taken all along the training
            net.train_epoch(DATA)
        done.set()

    trainer = threading.Thread(target=train)
    trainer.start()
    while not done.is_set():
        pickles.append(pickle.dumps(net))
    trainer.join()
    assert len(pickles) > 30
    wrong = 0
    for blob in pickles:
        copy = pickle.loads(blob)
        if copy.weights.tobytes() not in weights:
            wrong += 1
            continue
        k = weights.index(copy.weights.tobytes())
        if k and copy.mse != states[k][1]:
            wrong += 1  # weights of one epoch, error of another
        elif k < 30:
            copy.train_epoch(DATA)
            wrong += copy.weights.tobytes() != weights[k + 1]  # the history of another epoch
    assert wrong == 0, f"{wrong} of {len(pickles)} pickles mixed two states"


def test_a_change_waits_for_runs_in_progress_and_runs_wait_for_a_change() -> None:
    guard = Guard()
    order: list[str] = []
    with guard.reading():
        writer = threading.Thread(target=lambda: (guard.writing().__enter__(), order.append("write"),
                                                  guard.writing().__exit__()))
        writer.start()
        writer.join(0.2)
        assert writer.is_alive() and order == []  # the writer waits for the run
        assert guard.state() == (1, 0, 1)
        reader = threading.Thread(target=lambda: (guard.reading().__enter__(), order.append("read"),
                                                  guard.reading().__exit__()))
        reader.start()
        reader.join(0.2)
        assert reader.is_alive()  # a new run waits behind the waiting writer
    writer.join(5)
    reader.join(5)
    assert order == ["write", "read"]
    assert guard.state() == (0, 0, 0)


def test_the_writer_may_change_again_and_run_inside_its_change() -> None:
    net = _net()
    before = net.run(X[:3])
    with net.core.writing():
        net.weights = np.zeros(net.total_connections)
        np.testing.assert_array_equal(net.run(X[:3]), np.zeros((3, 4), np.float32))
        net.weights = np.zeros(net.total_connections) + 0.5
    assert not np.array_equal(net.run(X[:3]), before)
    assert net.core.writing().__enter__().__exit__(None, None, None) is False
    assert net.core.guard_state() == (0, 0, 0) if hasattr(net.core, "guard_state") else True
