"""Many threads at once: running, routing and saving concurrently gives exactly the serial
results (models are immutable while they run; scratch is per call), and a save that fails at
any point leaves the previous file intact."""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import kimi_fann as kf
from kimi_fann import _io, _threads, kfn
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
        for threads in (2, 4, 7):
            assert _same(_call(model, big, threads=threads), one), (name, threads)


@pytest.mark.parametrize("bad_rows", [[0], [2600], [4999], [4999, 1200, 3000]])
def test_a_failing_chunk_raises_after_every_chunk_has_finished(bad_rows: list[int]) -> None:
    # threads=3: the calling thread and two pool workers share the chunks; every chunk runs,
    # then the error of the first failing chunk (in row order) is raised
    x = np.arange(5000, dtype=np.float32)
    y = np.zeros_like(x)

    def run(xs: np.ndarray, ys: np.ndarray) -> None:
        ys[:] = xs + 1
        for bad in bad_rows:
            if xs[0] <= bad <= xs[-1]:
                raise kf.errors.NumericError(f"row {bad}")

    with pytest.raises(kf.errors.NumericError, match=f"row {min(bad_rows)}$"):
        _threads.run_split(run, x, y, 3)
    np.testing.assert_array_equal(y, x + 1)


def test_more_threads_than_rows_runs_no_empty_chunk() -> None:
    x = np.arange(3, dtype=np.float32)
    y = np.zeros_like(x)
    sizes: list[int] = []

    def run(xs: np.ndarray, ys: np.ndarray) -> None:
        sizes.append(len(xs))
        ys[:] = xs - 1

    _threads.run_split(run, x, y, 7)
    np.testing.assert_array_equal(y, x - 1)
    assert sorted(sizes) == [1, 1, 1]


def test_a_slow_thread_takes_fewer_chunks() -> None:
    # The pool worker is made slow: the calling thread, finishing its chunks at once, takes the
    # rest of the batch instead of waiting for an even share to be done.
    x = np.arange(5000, dtype=np.float32)
    y = np.zeros_like(x)
    caller = threading.get_ident()
    ran: list[bool] = []

    def run(xs: np.ndarray, ys: np.ndarray) -> None:
        ran.append(threading.get_ident() == caller)
        if not ran[-1]:
            time.sleep(0.2)
        ys[:] = xs * 2

    _threads.run_split(run, x, y, 2)
    np.testing.assert_array_equal(y, x * 2)
    assert len(ran) == _threads.CHUNKS_PER_THREAD * 2 and sum(ran) >= len(ran) - 2, ran


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
