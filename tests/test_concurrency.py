"""Many threads at once: running, routing and saving concurrently gives exactly the serial
results (models are immutable while they run; scratch is per call), and a save that fails at
any point leaves the previous file intact."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import kimi_fann as kf
from kimi_fann import _core, _io, kfn
from kimi_fann.errors import FileError

RNG = np.random.default_rng(7)
X = RNG.normal(size=(300, 8)).astype(np.float32)
THREADS = 8


def _models() -> dict[str, object]:
    net = kf.Network([8, 16, 4], seed=1)
    router = kf.Router(RNG.normal(size=(12, 8)), top_k=3)
    return {
        "network": net,
        "q8": net.quantize(X),
        "q16": net.quantize(X, activation_bits=16),
        "fann_fixed": net.to_fixed(),
        "router": router,
        "router_q8": kf.Router(RNG.normal(size=(12, 8)), top_k=2, gate_bits=8),
        "mixture": kf.MixtureOfExperts(router, [kf.Network([8, 6, 4], seed=10 + i) for i in range(12)],
                                       shared_expert=kf.Network([8, 4], seed=3)),
    }


MODELS = _models()


def _call(model: object, x: np.ndarray, **kwargs: object) -> tuple[np.ndarray, ...]:
    result = model.route(x, **kwargs) if isinstance(model, kf.Router) else model.run(x, **kwargs)  # type: ignore[attr-defined]
    return result if isinstance(result, tuple) else (result,)


def _same(a: tuple[np.ndarray, ...], b: tuple[np.ndarray, ...]) -> bool:
    return len(a) == len(b) and all(np.array_equal(p, q) for p, q in zip(a, b))


def test_every_model_from_many_threads_equals_serial() -> None:
    """All models, called from 8 threads at once on different slices, and with threads=3 inside."""
    serial = {name: [_call(m, X[i::5]) for i in range(5)] for name, m in MODELS.items()}
    barrier = threading.Barrier(THREADS)

    def work(worker: int) -> list[str]:
        barrier.wait()
        wrong = []
        for rep in range(6):
            for name, model in MODELS.items():
                i = (worker + rep) % 5
                threads = 3 if (worker + rep) % 2 else None
                if not _same(_call(model, X[i::5], threads=threads), serial[name][i]):
                    wrong.append(f"{name} slice {i} threads={threads}")
        return wrong

    with ThreadPoolExecutor(THREADS) as pool:
        wrong = [w for ws in pool.map(work, range(THREADS)) for w in ws]
    assert wrong == []


def test_one_large_batch_split_across_threads_equals_serial() -> None:
    big = RNG.normal(size=(5000, 8)).astype(np.float32)
    for name, model in MODELS.items():
        one = _call(model, big, threads=1)
        for threads in (2, 4, 7, np.int64(3), None):  # float32 rows go straight into C, split there too
            assert _same(_call(model, big, threads=threads), one), (name, threads)
            assert _same(_call(model, big.astype(np.float64), threads=threads), one), (name, threads)


@pytest.mark.parametrize("threads", [0, -2, True, 1.5, "2", np.float32(2)])
def test_a_thread_count_that_is_not_a_positive_integer_is_refused(threads: object) -> None:
    for model in MODELS.values():
        for x in (X, X.astype(np.float64), X[0]):
            with pytest.raises(kf.errors.ConfigError, match="threads must be a positive integer or None"):
                _call(model, x, threads=threads)
    with pytest.raises(kf.errors.ConfigError, match="threads must be a positive integer or None"):
        kf.analyzer.profile(MODELS["network"], batch_sizes=[1], repeats=1, threads=threads)


def test_threads_left_to_the_library_split_only_large_batches() -> None:
    cores = os.cpu_count() or 1
    assert _core.resolve_threads(None, _core.FAST_ROWS) == 1
    assert _core.resolve_threads(None, _core.FAST_ROWS + 1) == min(cores, 2)
    assert _core.resolve_threads(None, 100 * _core.FAST_ROWS) == min(cores, 200)
    assert _core.resolve_threads(9, 4) == 4 and _core.resolve_threads(np.uint8(3), 50) == 3
    assert _core.resolve_threads(2**70, 2**40) == 2**32 - 1


def test_every_split_run_equals_serial() -> None:
    """The runs that return more than outputs, and the integer runs, split by rows too."""
    big = RNG.normal(size=(5000, 8)).astype(np.float32)
    router, mixture = MODELS["router"], MODELS["mixture"]
    q8, fixed = MODELS["q8"], MODELS["fann_fixed"]
    raw_q8 = RNG.integers(0, 256, size=(5000, 8)).astype(np.int32)
    raw_fixed = RNG.integers(-3000, 3000, size=(5000, 8)).astype(np.int32)
    calls = {
        "router load": lambda t: router.route(big, return_load=True, threads=t),
        "mixture routes": lambda t: mixture.run(big, return_routes=True, threads=t),
        "q8 raw": lambda t: (q8.run_raw(raw_q8, threads=t),),
        "fann fixed raw": lambda t: (fixed.run_raw(raw_fixed, threads=t),),
    }
    for name, call in calls.items():
        one = call(1)
        for threads in (2, 3, 8):
            assert _same(call(threads), one), (name, threads)
    load = router.route(big, return_load=True, threads=3)[2]
    assert load.sum() == 5000 * router.top_k
    counts = np.zeros(router.n_experts, np.uint64)  # one row asked for three threads: not split
    router._router.route(big[:1], np.empty((1, router.top_k), np.uint32), np.empty((1, router.top_k), np.float32),
                         counts, 0, 3)
    assert counts.sum() == router.top_k


@pytest.mark.parametrize("bad_rows", [[0], [2600], [4999], [4999, 1200, 3000]])
@pytest.mark.parametrize("threads", [2, 3, 7])
def test_a_failing_chunk_names_the_first_bad_row_of_the_batch(bad_rows: list[int], threads: int) -> None:
    x = RNG.normal(size=(5000, 8)).astype(np.float32)
    x[bad_rows, 3] = np.nan
    for name in ("network", "q8", "router", "mixture"):
        with pytest.raises(kf.errors.NumericError, match=f"row {min(bad_rows)}: the input holds NaN") as info:
            _call(MODELS[name], x, threads=threads)
        assert info.value.row == min(bad_rows), name


def test_more_threads_than_rows_equals_serial() -> None:
    x = X[:3]
    for name, model in MODELS.items():
        assert _same(_call(model, x, threads=7), _call(model, x, threads=1)), name


def _wait_for(condition: object, seconds: float = 10.0) -> bool:
    end = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        if time.monotonic() > end:
            return False
        time.sleep(0.001)
    return True


def test_helpers_park_when_idle_and_serve_again() -> None:
    pool = _core.shared_pool()
    big = RNG.normal(size=(5000, 8)).astype(np.float32)
    net = MODELS["network"]
    one = net.run(big, threads=1)
    assert np.array_equal(net.run(big, threads=4), one)
    assert pool.helpers() == min(3, (os.cpu_count() or 1) - 1)  # never more than the other cores
    assert _wait_for(lambda: pool.parked() == pool.helpers())  # after a millisecond without work
    for _ in range(3):  # woken for each batch
        assert np.array_equal(net.run(big, threads=2), one)
        assert _wait_for(lambda: pool.parked() == pool.helpers())


def _run_split_in_child(queue: object) -> None:
    net = kf.Network([8, 16, 4], seed=1)
    queue.put(net.run(np.ones((5000, 8), np.float32), threads=2))  # type: ignore[attr-defined]


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="no fork here")
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_split_batches_in_a_forked_child() -> None:
    """A child forked after the helpers started has none of them: it starts its own."""
    net = MODELS["network"]
    big = np.ones((5000, 8), np.float32)
    expected = net.run(big, threads=2)  # the parent's helpers exist now
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_run_split_in_child, args=(queue,))
    child.start()
    got = queue.get(timeout=60)
    child.join(60)
    assert child.exitcode == 0 and np.array_equal(got, expected)


def test_training_one_network_while_others_run() -> None:
    """Training mutates only its own network; the others' results do not move."""
    data = kf.TrainingData(X[:64], np.tanh(X[:64, :4]))
    student = kf.Network([8, 16, 4], seed=1)
    expected = _call(MODELS["network"], X)
    stop = threading.Event()
    errors: list[str] = []

    def runner() -> None:
        while not stop.is_set():
            if not _same(_call(MODELS["network"], X), expected):
                errors.append("network changed")

    threads = [threading.Thread(target=runner) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        for _ in range(20):
            student.train_epoch(data)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert errors == []


def test_saving_from_many_threads_while_running(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Concurrent saves of different models to one path: the file always holds one whole model."""
    path = tmp_path / "model.kfn"
    names = list(MODELS)
    kfn.save(path, MODELS["network"])

    def work(worker: int) -> None:
        for rep in range(5):
            name = names[(worker + rep) % len(names)]
            kfn.save(path, MODELS[name])
            loaded = kf.load(path)  # whichever save landed last, whole
            assert type(loaded) in {type(m) for m in MODELS.values()}
            _call(MODELS[name], X[:10])

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(work, range(THREADS)))
    final = kf.load(path)  # the header's time stamp differs: compare what the model computes
    assert any(type(final) is type(m) and _same(_call(final, X[:20]), _call(m, X[:20])) for m in MODELS.values())
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "model.kfn"]
    assert leftovers == []


# ---- interrupted saves ----

SAVERS = {
    "network .net": (lambda p: MODELS["network"].save(p), lambda p: kf.Network.load(p)),  # type: ignore[attr-defined]
    "fixed .net": (lambda p: MODELS["fann_fixed"].save(p), lambda p: kf.FixedNetwork.load(p)),  # type: ignore[attr-defined]
    "data": (lambda p: kf.TrainingData(X[:4], X[:4, :2]).save(p), lambda p: kf.TrainingData.load(p)),
    "kfn": (lambda p: kf.save(p, MODELS["mixture"]), lambda p: kf.load(p)),
}


class _Boom(Exception):
    pass


@pytest.mark.parametrize("saver", SAVERS)
@pytest.mark.parametrize("stage", ["write", "flush", "fsync", "replace", "interrupt"])
def test_failed_save_leaves_previous_file_intact(tmp_path, monkeypatch, saver: str, stage: str) -> None:  # type: ignore[no-untyped-def]
    save, load = SAVERS[saver]
    path = tmp_path / "target"
    path.write_bytes(b"the previous good file")
    error: type[BaseException] = KeyboardInterrupt if stage == "interrupt" else OSError

    def fail(*args: object, **kwargs: object) -> None:
        raise error(28, "No space left on device")

    if stage in ("write", "interrupt"):
        real_fdopen = os.fdopen

        class HalfWriter:
            """Writes half of what it is given, then fails, like a full disk."""

            def __init__(self, f):  # type: ignore[no-untyped-def]
                self._f = f

            def write(self, data: bytes) -> int:
                self._f.write(bytes(data)[: len(data) // 2])
                fail()
                return 0

            def __getattr__(self, name: str) -> object:
                return getattr(self._f, name)

            def __enter__(self):  # type: ignore[no-untyped-def]
                return self

            def __exit__(self, *exc: object) -> None:
                self._f.close()

        monkeypatch.setattr(_io.os, "fdopen", lambda *a, **k: HalfWriter(real_fdopen(*a, **k)))
    elif stage == "flush":
        real_fdopen = os.fdopen

        def fdopen(*a, **k):  # type: ignore[no-untyped-def]
            f = real_fdopen(*a, **k)
            f.flush = fail
            return f

        monkeypatch.setattr(_io.os, "fdopen", fdopen)
    elif stage == "fsync":
        monkeypatch.setattr(_io.os, "fsync", fail)
    else:
        monkeypatch.setattr(_io.os, "replace", fail)

    with pytest.raises(KeyboardInterrupt if stage == "interrupt" else FileError):
        save(path)
    monkeypatch.undo()
    assert path.read_bytes() == b"the previous good file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["target"]  # no temporary file left
    save(path)  # and a save that works replaces it whole
    load(path)
