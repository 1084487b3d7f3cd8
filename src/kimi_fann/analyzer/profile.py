"""Latency, throughput and memory of a model's ``run`` on batches of random inputs."""

from __future__ import annotations

import os
import platform
import time
import tracemalloc
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import kfn
from .._arrays import as_seed
from .._core import resolve_threads
from ..errors import ConfigError
from ..fixed import FixedNetwork, QuantizedNetwork
from ..mixture import MixtureOfExperts
from ..network import Network
from ..router import Router
from ..simd import path_number, simd_path
from .report import BatchTiming, ProfileReport

__all__ = ["profile"]

Model = Network | FixedNetwork | Router | MixtureOfExperts


def _input_range(model: Model) -> tuple[np.ndarray, np.ndarray]:
    """Per-input (low, high) of the random inputs: a Q8/Q16 network's calibrated range, else
    [-1, 1] (FANN's customary scaling)."""
    n = model.dim if isinstance(model, Router) else model.num_input
    if isinstance(model, QuantizedNetwork):
        scale, zero = model.input_quantization
        lo_raw, hi_raw = model.spec.input_range
        return scale * (lo_raw - zero.astype(np.float64)), scale * (hi_raw - zero.astype(np.float64))
    return np.full(n, -1.0), np.full(n, 1.0)


def _runner(model: Model, threads: int | None, simd: str | None) -> Callable[[np.ndarray], Any]:
    if isinstance(model, Network):
        return lambda x: model.run(x, threads=threads)
    if isinstance(model, FixedNetwork):
        return lambda x: model.run(x, threads=threads, simd=simd)
    if isinstance(model, Router):
        return lambda x: model.route(x, threads=threads, simd=simd)
    return lambda x: model.run(x, threads=threads, simd=simd)


def _model_name(model: Model) -> str:
    if isinstance(model, Network):
        return "network"
    if isinstance(model, FixedNetwork):
        return "fann_fixed" if model.format == "fann" else model.format
    return "router" if isinstance(model, Router) else "mixture"


def _peak_python_bytes(run: Callable[[np.ndarray], Any], x: np.ndarray) -> int:
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        result = run(x)
        peak = tracemalloc.get_traced_memory()[1]
        del result
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return max(0, int(peak - base))


def profile(
    model: Model,
    batch_sizes: Sequence[int] = (1, 16, 256, 4096),
    *,
    repeats: int = 30,
    warmup: int = 3,
    threads: int | None = None,
    simd: str | None = None,
    seed: int = 0,
) -> ProfileReport:
    """Time ``model.run`` (``route`` for a Router) on random batches of each size.

    For each batch size: ``warmup`` untimed calls, then ``repeats`` calls each timed with
    :func:`time.perf_counter_ns`; the report has the mean, min, max and the 50th, 90th and
    99th percentiles (linear interpolation) per call, and the throughput ``batch_size /
    median``. Inputs are drawn uniformly from the model's input range (a Q8/Q16 network's
    calibrated range, else [-1, 1]) by a generator seeded with ``seed``, float32 and
    C-contiguous (the zero-copy path), and created before timing.

    Memory, precisely:

    - ``model_bytes``: the parameter arrays as :func:`~kimi_fann.analyzer.analyze` counts them
      stored (float32 weights; int8/int16 weights, int32 biases, requantization parameters and
      activation tables of Q8/Q16; int32 FANN fixed-point weights; router gates), not the C
      structs' headers or per-neuron descriptors.
    - ``kfn_bytes``: the size of the uncompressed ``.kfn`` file of the model.
    - ``peak_python_bytes``: the peak of allocations traced by :mod:`tracemalloc` (Python
      objects and numpy buffers: input conversion, output and routing arrays) during one call
      on the largest batch, above what was allocated before the call.
    - ``scratch_bytes``: the C core's own per-call scratch is allocated outside tracemalloc's
      view and the binding does not expose its size yet, so it is None.

    Parameters
    ----------
    model : Network, FixedNetwork, Router or MixtureOfExperts
    batch_sizes : sequence of int
        Rows per call, each at least 1.
    repeats, warmup : int
        Timed and untimed calls per batch size.
    threads : int, optional
        Passed to ``run`` (None: the library's default split across cores for large batches).
    simd : str, optional
        Force a SIMD path for the integer kernels (``"scalar"``, ``"avx2"``, ...); None uses
        the active one. Float networks ignore it.
    seed : int
        Seed of the random inputs.

    Returns
    -------
    ProfileReport

    Examples
    --------
    >>> import kimi_fann as kf
    >>> from kimi_fann.analyzer import profile
    >>> report = profile(kf.Network([8, 16, 4], seed=0), batch_sizes=(1, 64), repeats=5)
    >>> [t.batch_size for t in report.timings]
    [1, 64]
    >>> all(0 < t.p50_us <= t.p90_us <= t.p99_us for t in report.timings)
    True
    """
    from .analyze import analyze

    if not isinstance(model, (Network, FixedNetwork, Router, MixtureOfExperts)):
        raise ConfigError(f"profile takes a Network, FixedNetwork, Router or MixtureOfExperts, got {type(model).__name__}")
    sizes = list(batch_sizes)
    if not sizes or any(isinstance(b, bool) or not isinstance(b, (int, np.integer)) or b < 1 for b in sizes):
        raise ConfigError(f"batch_sizes must be positive integers, got {batch_sizes!r}")
    for value, name in ((repeats, "repeats"), (warmup, "warmup")):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < (1 if name == "repeats" else 0):
            raise ConfigError(f"{name} must be an integer >= {1 if name == 'repeats' else 0}, got {value!r}")
    resolve_threads(threads, 1)  # the models' own check of the argument
    path_number(simd)  # unknown names raise ConfigError here
    rng = np.random.default_rng(as_seed(seed))
    lo, hi = _input_range(model)
    run = _runner(model, threads, simd)

    timings = []
    for size in sizes:
        x = np.ascontiguousarray(rng.uniform(lo, hi, (int(size), len(lo))), dtype=np.float32)
        for _ in range(warmup):
            run(x)
        ns = np.empty(int(repeats), dtype=np.int64)
        for i in range(int(repeats)):
            start = time.perf_counter_ns()
            run(x)
            ns[i] = time.perf_counter_ns() - start
        us = np.maximum(ns, 1) / 1000.0  # a clock tick of 0 ns would claim infinite throughput
        p50, p90, p99 = (float(v) for v in np.percentile(us, [50, 90, 99]))
        timings.append(BatchTiming(
            batch_size=int(size), repeats=int(repeats), mean_us=float(us.mean()), min_us=float(us.min()),
            p50_us=p50, p90_us=p90, p99_us=p99, max_us=float(us.max()), samples_per_second=int(size) / (p50 * 1e-6),
        ))

    largest = np.ascontiguousarray(rng.uniform(lo, hi, (int(max(sizes)), len(lo))), dtype=np.float32)
    return ProfileReport(
        model=_model_name(model),
        inputs=int(len(lo)),
        outputs=int(model.n_experts if isinstance(model, Router) else model.num_output),
        simd=simd if simd is not None else simd_path(),
        threads=None if threads is None else int(threads),
        warmup=int(warmup),
        model_bytes=analyze(model, quantize=None).stored_bytes,
        kfn_bytes=len(kfn.dumps(model)),
        peak_python_bytes=_peak_python_bytes(run, largest),
        scratch_bytes=None,
        timings=timings,
        machine=platform.machine(),
        python=platform.python_version(),
        numpy=np.__version__,
        cpu_count=os.cpu_count(),
    )
