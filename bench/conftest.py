"""Benchmark fixtures: the same networks for kimi-fann, numpy, onnxruntime and libfann."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

# torch's OpenMP workers (the routing peer, on one thread) otherwise spin for a while after each
# call, on the core that a later two-thread case needs; read when OpenMP loads, so set here,
# before any benchmark module imports torch.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("KMP_BLOCKTIME", "0")


@pytest.fixture(scope="session", autouse=True)
def one_blas_thread():
    """numpy's BLAS on one thread, as every other engine's one-thread measurement is. It also
    keeps idle OpenBLAS workers from spinning on the second core during a two-thread case."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with threadpoolctl.threadpool_limits(1):
        yield
