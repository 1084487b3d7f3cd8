"""Benchmark fixtures: the same networks for kimi-fann, numpy, onnxruntime and libfann."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))


@pytest.fixture(scope="session", autouse=True)
def one_blas_thread():
    """numpy's BLAS on one thread, as every other engine's one-thread measurement is. It also
    keeps idle OpenBLAS workers from spinning on the second core during a two-thread case."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with threadpoolctl.threadpool_limits(1):
        yield
