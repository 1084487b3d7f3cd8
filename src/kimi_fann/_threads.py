"""Running large batches on several threads: the C core is single-threaded and releases the GIL,
so chunks of one batch run in parallel on a shared pool."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from .errors import ConfigError

#: Batches smaller than this run on one thread by default (a thread hand-off costs about the
#: time of a few hundred small-network samples).
MIN_ROWS_PER_THREAD = 512

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


def one_thread(threads: int | None) -> bool:
    """True when threads asks for one thread or leaves it to the library (None); a value that
    :func:`resolve` rejects (True, 1.0, "1") is never taken for one thread."""
    if threads is None or (type(threads) is int and threads == 1):  # the common cases, first and cheap
        return True
    return isinstance(threads, (int, np.integer)) and not isinstance(threads, bool) and threads == 1


def run_split(run: Callable[[Any, Any], None], x: np.ndarray, y: np.ndarray, threads: int) -> None:
    """run(x[a:b], y[a:b]) for consecutive chunks: the first on the calling thread, the others
    on the pool. The caller working beside the pool, rather than sleeping until it is done, also
    keeps the scheduler from stacking the pool's threads on the caller's core."""
    if threads <= 1:
        run(x, y)
        return
    bounds = np.linspace(0, len(x), threads + 1).astype(int)
    chunks = [(a, b) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
    futures = [_shared_pool().submit(run, x[a:b], y[a:b]) for a, b in chunks[1:]]
    try:
        a, b = chunks[0]
        run(x[a:b], y[a:b])
    finally:
        for future in futures:  # every chunk has finished writing before this returns or raises
            future.exception()
    for future in futures:
        future.result()
