"""Running large batches on several threads: the C core is single-threaded and releases the GIL,
so chunks of one batch run in parallel on a shared pool."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from ._core import FAST_ROWS
from .errors import ConfigError, NumericError

#: Batches smaller than this run on one thread by default (a thread hand-off costs about the
#: time of a few hundred small-network samples): half of FAST_ROWS, the most rows that a call
#: leaving threads to the library (None) runs straight on its thread in the binding's fast path.
MIN_ROWS_PER_THREAD = FAST_ROWS // 2
#: A split batch goes in up to this many chunks per thread, of at least MIN_ROWS_PER_CHUNK rows:
#: enough for a faster core to take over a slower one's share, few enough that the hand-offs
#: (microseconds each) stay small beside the chunks.
CHUNKS_PER_THREAD = 4
MIN_ROWS_PER_CHUNK = 256

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _shared_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="kimi-fann")
        return _pool


def resolve(threads: int | None, rows: int) -> int:
    """The number of threads for a batch: all cores when the batch is large enough (None)."""
    if threads is None:
        chunks = rows // MIN_ROWS_PER_THREAD
        return 1 if chunks < 2 else min(os.cpu_count() or 1, chunks)  # os.cpu_count takes microseconds
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1:
        raise ConfigError(f"threads must be a positive integer or None, got {threads!r}")
    return int(min(threads, max(rows, 1)))


def run_split(run: Callable[[Any, Any], None], x: np.ndarray, y: np.ndarray, threads: int) -> None:
    """run(x[a:b], y[a:b]) over consecutive chunks, shared by the calling thread and threads - 1
    pool workers: each takes the next chunk when it has finished one, so a core that runs slower
    (busy with other work, or an efficiency core) takes fewer. The caller works beside the pool
    rather than sleeping until it is done, which also keeps the scheduler from stacking the pool's
    threads on its core. Every chunk runs; then the first failing chunk's exception is raised."""
    if threads <= 1:
        run(x, y)
        return
    pieces = max(threads, min(threads * CHUNKS_PER_THREAD, len(x) // MIN_ROWS_PER_CHUNK))
    bounds = np.linspace(0, len(x), pieces + 1).astype(int).tolist()
    taken = iter([(a, b) for a, b in zip(bounds[:-1], bounds[1:]) if b > a])  # none empty
    lock = threading.Lock()
    failures: list[tuple[int, BaseException]] = []

    def work() -> None:
        while True:
            with lock:
                chunk = next(taken, None)
            if chunk is None:
                return
            a, b = chunk
            try:
                run(x[a:b], y[a:b])
            except BaseException as error:  # re-raised below, once every chunk has finished
                failures.append((a, error))

    futures = [_shared_pool().submit(work) for _ in range(threads - 1)]
    try:
        work()
    finally:
        for future in futures:  # every chunk has finished writing before this returns or raises
            future.exception()
    if failures:
        start, error = min(failures, key=lambda f: f[0])
        if isinstance(error, NumericError) and error.row is not None and start:  # a row of its chunk
            raise error.with_row_offset(start) from None
        raise error


class Pair:
    """Two arrays sliced together (the outputs of one routing call), for run_split."""

    def __init__(self, a: np.ndarray, b: np.ndarray) -> None:
        self.a, self.b = a, b

    def __getitem__(self, key: slice) -> Pair:
        return Pair(self.a[key], self.b[key])
