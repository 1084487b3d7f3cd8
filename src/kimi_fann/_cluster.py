"""Work that the models' own methods hand to a Dask cluster (``client=`` of
:meth:`MixtureOfExperts.fit` and :func:`kimi_fann.analyzer.distill`): independent tasks such as
training one expert each, and dask arrays routed and grouped by expert on the workers.

Nothing here changes a result: a task runs the function a local run calls, on the same
arguments, and its result comes back pickled whole (a network with its training state). Dask
is imported only when one of these functions runs with a client or a dask array.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._arrays import aligned
from .data import TrainingData
from .errors import ConfigError, ShapeError


def check_client(client: Any) -> Any:
    """client itself, after checking that it is a ``distributed.Client`` (None passes)."""
    if client is None:
        return None
    try:
        from distributed import Client
    except ImportError:
        raise ConfigError("client= needs dask's distributed scheduler: pip install 'kimi-fann[dask]'") from None
    if not isinstance(client, Client):
        raise ConfigError(f"client must be a distributed.Client, got {type(client).__name__}")
    return client


def is_dask_collection(value: Any) -> bool:
    """Whether value is a dask array, dataframe or other collection (without importing dask)."""
    dask = sys.modules.get("dask")
    return dask is not None and bool(dask.is_dask_collection(value))


def _scattered(client: Any, value: Any) -> Any:
    # data travels to the cluster once, beside the graph, not inside every task's arguments
    return client.scatter(value, hash=False) if isinstance(value, (np.ndarray, TrainingData)) else value


def run_tasks(function: Callable[..., Any], jobs: Sequence[tuple[Any, ...]], client: Any,
              on_done: Callable[[int, Any], None] | None = None) -> list[Any]:
    """``function(*job)`` for every job: tasks of client, or one after the other here without
    one. Arrays and TrainingData among the arguments are scattered to the cluster first. Returns
    the results in the jobs' order; ``on_done(index, result)`` runs as each one arrives."""
    if client is None:
        results = []
        for index, job in enumerate(jobs):
            results.append(function(*job))
            if on_done is not None:
                on_done(index, results[-1])
        return results
    from distributed import as_completed

    futures = [client.submit(function, *(_scattered(client, a) for a in job), pure=False) for job in jobs]
    index = {future.key: i for i, future in enumerate(futures)}
    results: list[Any] = [None] * len(futures)
    for future in as_completed(futures):
        i = index[future.key]
        results[i] = future.result()
        if on_done is not None:
            on_done(i, results[i])
    return results


def compute(values: Sequence[Any], client: Any) -> list[Any]:
    """Compute dask collections or delayed values: on client's cluster, else with dask's default
    scheduler."""
    if client is not None:
        return list(client.gather(client.compute(list(values))))
    import dask

    return list(dask.compute(*values))


# ---- dask arrays of training data ----


def rows_of(x: Any, columns: int | None, name: str) -> Any:
    """A 2-D dask array of real numbers with known row chunks, in one column chunk."""
    import dask.array as da

    if not isinstance(x, da.Array):
        raise ConfigError(f"{name} must be a dask array, got {type(x).__name__}")
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or np.dtype(x.dtype).kind not in "fiub":
        raise ShapeError(f"{name} must be a 2-D dask array of real numbers, got shape {x.shape} and dtype {x.dtype}")
    if any(np.isnan(c) for c in x.chunks[0]):
        raise ShapeError(f"{name} has chunks of unknown size: call {name}.compute_chunk_sizes() first")
    if columns is not None and x.shape[1] != columns:
        raise ShapeError(f"{name} must have {columns} columns, got {x.shape[1]}")
    return x.rechunk({1: -1}) if len(x.chunks[1]) > 1 else x


def sample_rows(x: Any, rows: np.ndarray | None) -> np.ndarray:
    """The given rows of a dask array (all of them when rows is None), here, as numpy."""
    return np.asarray((x if rows is None else x[rows]).compute())


def _group_chunk(x: np.ndarray, y: np.ndarray, router: Any, n_experts: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The rows of one chunk that the router sends to each expert (among their top_k)."""
    x, y = aligned(x, np.float32), aligned(y, np.float32)
    chosen, _ = router.route(x, threads=1)
    picked = [np.nonzero((chosen == e).any(axis=1))[0] for e in range(n_experts)]
    return [(x[rows], y[rows]) for rows in picked]


def _joined(pieces: list[tuple[np.ndarray, np.ndarray]]) -> TrainingData | None:
    """One expert's pieces from every chunk, in row order; None when no row was routed to it."""
    x = np.concatenate([p[0] for p in pieces])
    if len(x) == 0:
        return None
    return TrainingData(x, np.concatenate([p[1] for p in pieces]))


def grouped_by_expert(router: Any, x: Any, y: Any, n_experts: int, client: Any) -> list[Any]:
    """For each expert, a delayed TrainingData (or None) of the rows of the dask arrays x and y
    that the router sends to it: routed and split chunk by chunk on the workers, each expert's
    pieces joined on the worker that trains it. Row order and values are those of
    ``TrainingData(x, y).subset_rows(rows)`` on the whole arrays."""
    import dask

    y = y.rechunk({0: x.chunks[0]}) if y.chunks[0] != x.chunks[0] else y
    on_cluster = client.scatter(router, hash=False, broadcast=True) if client is not None else router
    groups = [dask.delayed(_group_chunk, nout=n_experts, pure=True)(xb, yb, on_cluster, n_experts)
              for xb, yb in zip(x.to_delayed().ravel(), y.to_delayed().ravel())]
    return [dask.delayed(_joined, pure=True)([g[e] for g in groups]) for e in range(n_experts)]
