"""How many threads a batch runs on. The split itself is the binding's: chunks of rows on the
calling thread and on a pool of helper threads that run the C core without the GIL
(``kimi_fann._core.run_chunks``)."""

from __future__ import annotations

import os

import numpy as np

from ._core import FAST_ROWS
from .errors import ConfigError

#: Batches smaller than this run on one thread by default (waking a parked helper costs about
#: the time of a few hundred small-network samples): half of FAST_ROWS, the most rows that a call
#: leaving threads to the library (None) runs straight on its thread in the binding's fast path.
MIN_ROWS_PER_THREAD = FAST_ROWS // 2


def resolve(threads: int | None, rows: int) -> int:
    """The number of threads for a batch: all cores when the batch is large enough (None)."""
    if threads is None:
        chunks = rows // MIN_ROWS_PER_THREAD
        return 1 if chunks < 2 else min(os.cpu_count() or 1, chunks)  # os.cpu_count takes microseconds
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1:
        raise ConfigError(f"threads must be a positive integer or None, got {threads!r}")
    return int(min(threads, max(rows, 1), 2**32 - 1))
