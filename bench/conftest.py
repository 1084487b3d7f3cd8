"""Benchmark fixtures: the same networks for kimi-fann, numpy, onnxruntime and libfann, and the
active SIMD path's peak multiply-accumulate rates, measured once per session.

Each benchmark that knows its work records ``extra_info["macs"]`` (multiply-accumulates per
call) and ``extra_info["kind"]`` ("int8", "int16" or "float": the peak it is measured against);
the peaks (on one thread, and on two threads at once for the two-thread cases) go into the
JSON's ``machine_info["kimi_fann"]``, and ``bench/report.py`` prints the G MAC/s each case
reached and its fraction of the peak.
"""

from __future__ import annotations

import os
import sys
import threading
import time
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


PEAK_KINDS = {"int8": 0, "int16": 1, "float": 2}  # kf_peak_kind


def peak_gmacs(path: str, kind: str, threads: int = 1, seconds: float = 0.02, repeats: int = 7) -> float:
    """G MAC/s of the path's register-only multiply-accumulate loop (kf_simd_peak), on `threads`
    threads at once (their rates added): rounds grown until one call takes about `seconds`, then
    the best of `repeats` calls. On two threads it shows whether the machine's two CPUs are two
    cores (twice one thread's rate) or share one (a virtual machine's vCPUs can)."""
    from kimi_fann import _core

    number = _core.simd_names().index(path)
    rounds = 1000
    while True:
        start = time.perf_counter()
        _core.simd_peak(number, PEAK_KINDS[kind], rounds)
        if time.perf_counter() - start >= seconds:
            break
        rounds *= 2
    def loop(rates: list[float], i: int, barrier: threading.Barrier) -> None:
        barrier.wait()
        start = time.perf_counter()
        macs = _core.simd_peak(number, PEAK_KINDS[kind], rounds)
        rates[i] = macs / (time.perf_counter() - start) / 1e9

    best = 0.0
    for _ in range(repeats):
        rates, barrier = [0.0] * threads, threading.Barrier(threads)
        workers = [threading.Thread(target=loop, args=(rates, i, barrier)) for i in range(1, threads)]
        for worker in workers:
            worker.start()
        loop(rates, 0, barrier)
        for worker in workers:
            worker.join()
        best = max(best, sum(rates))
    return best


@pytest.fixture(scope="session", autouse=True)
def simd_peaks(request) -> dict:
    """The active path's peaks, on one thread and on two at once, measured at the start of the
    session and again when the results are saved; the higher of the two is kept, since another
    process on the core can only lower a measurement."""
    import kimi_fann as kf

    path = kf.simd_path()
    peaks = {"simd_path": path, "peak_gmacs": {kind: peak_gmacs(path, kind) for kind in PEAK_KINDS},
             "peak_gmacs_2_threads": {kind: peak_gmacs(path, kind, threads=2) for kind in PEAK_KINDS}}
    request.config._kimi_fann_peaks = peaks
    return peaks


def pytest_benchmark_update_machine_info(config, machine_info) -> None:
    peaks = getattr(config, "_kimi_fann_peaks", None)
    if peaks is not None:
        for threads, key in ((1, "peak_gmacs"), (2, "peak_gmacs_2_threads")):
            for kind, start in peaks[key].items():
                peaks[key][kind] = max(start, peak_gmacs(peaks["simd_path"], kind, threads=threads))
        machine_info["kimi_fann"] = peaks
