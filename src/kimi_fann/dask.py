"""Dask for data beyond one machine's memory: :func:`predict` runs any kimi-fann model over a
dask array or dataframe, chunk by chunk, on a cluster's workers.

Training scales out through the models' own methods: ``client=`` of
:meth:`kimi_fann.MixtureOfExperts.fit` and of :func:`kimi_fann.analyzer.distill` trains the
experts as tasks of a Dask cluster.

Requires ``dask[array,dataframe]`` and ``distributed`` (``pip install 'kimi-fann[dask]'``).

Examples
--------
>>> import dask.array as da, numpy as np, kimi_fann as kf
>>> from kimi_fann.dask import predict
>>> net = kf.Network([3, 4, 2], hidden="sigmoid_symmetric", output="sigmoid", seed=0)
>>> X = da.random.default_rng(0).uniform(-1, 1, size=(10_000, 3), chunks=(2_500, 3))
>>> Y = predict(net, X)  # lazy: nothing has run yet
>>> Y.shape, Y.dtype, Y.chunks[0]
((10000, 2), dtype('float32'), (2500, 2500, 2500, 2500))
>>> np.array_equal(Y.compute(), net.run(X.compute()))
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

try:
    import dask.array as da
    import dask.dataframe as dd
    import pandas as pd
except ImportError as exc:  # pragma: no cover - exercised only without dask
    raise ImportError("kimi_fann.dask needs dask[array,dataframe] and distributed: pip install 'kimi-fann[dask]'") \
        from exc

from ._cluster import check_client
from .errors import ConfigError, ShapeError
from .fixed import FixedNetwork
from .mixture import MixtureOfExperts
from .network import Network
from .router import Router

__all__ = ["predict"]


def _shape_of(model: Any) -> tuple[int, int]:
    """(inputs, outputs per row) of a model; a router's outputs are its top_k experts."""
    if isinstance(model, Router):
        return model.dim, model.top_k
    if isinstance(model, (Network, FixedNetwork, MixtureOfExperts)):
        return model.num_input, model.num_output
    raise ConfigError(f"predict runs a Network, FixedNetwork, Router or MixtureOfExperts, got {type(model).__name__}")


def _run_block(block: np.ndarray, model: Any, threads: int) -> np.ndarray:
    """One chunk through the C core (the GIL released inside): outputs, or for a router its
    experts and the weights' bits side by side as uint32, so that one task routes a chunk once."""
    if isinstance(model, Router):
        experts, weights = model.route(block, threads=threads)
        return np.concatenate([experts, weights.view(np.uint32)], axis=1)
    return model.run(block, threads=threads)


def _weights(block: np.ndarray) -> np.ndarray:
    return block.view(np.float32)


def _run_frame(frame: Any, model: Any, threads: int, columns: list[str]) -> Any:
    rows = frame.to_numpy()
    if rows.dtype.kind not in "fiub":
        raise ShapeError(f"the dataframe's columns must hold real numbers, got {frame.dtypes.to_dict()}")
    out = _run_block(rows, model, threads)
    if isinstance(model, Router):
        k = out.shape[1] // 2
        parts = {c: out[:, i] for i, c in enumerate(columns[:k])}
        parts.update({c: out[:, k + i].view(np.float32) for i, c in enumerate(columns[k:])})
        return pd.DataFrame(parts, index=frame.index)
    return pd.DataFrame(out, index=frame.index, columns=columns)


def _default_client() -> Any:
    """The distributed client dask computes with now (its default scheduler), or None."""
    from dask.base import get_scheduler

    try:
        from distributed import Client
    except ImportError:
        return None
    client = getattr(get_scheduler(), "__self__", None)
    return client if isinstance(client, Client) else None


def predict(model: Any, X: Any, *, client: Any = None, threads: int = 1,
            columns: Sequence[str] | None = None) -> Any:
    """Run a model over a dask array or dataframe, chunk by chunk: a lazy collection of the
    outputs, equal bit for bit to what ``model.run`` (``model.route`` for a router) gives on
    the whole data in one process.

    With a distributed client (``client``, else the one in use, if any) the model is scattered
    to every worker once, not shipped with each chunk; each chunk then runs through the C core
    with the GIL released, on ``threads`` threads (one by default: Dask runs a task per worker
    thread). A worker holds the chunks it is working on, so its memory stays bounded by them
    whatever the data's size.

    Parameters
    ----------
    model : Network, FixedNetwork, MixtureOfExperts or Router
    X : dask.array.Array or dask.dataframe.DataFrame
        Samples by rows: an array of shape (n, num_input) chunked by rows (column chunks are
        joined), or a dataframe of num_input numeric columns (in the model's input order).
    client : distributed.Client, optional
        Where to scatter the model (when predict is called); by default the client dask
        computes with, if any (with dask's local schedulers the model goes into the graph).
    threads : int
        Threads of one chunk's run.
    columns : sequence of str, optional
        Names of the output columns for a dataframe (default ``output_0`` ... for a model;
        ``expert_0`` ... then ``weight_0`` ... for a router).

    Returns
    -------
    dask.array.Array or dask.dataframe.DataFrame, or a pair of dask arrays
        For an array: float32 outputs of shape (n, num_output), chunked as X's rows; for a
        router, ``(experts, weights)``, uint32 and float32 of shape (n, top_k). For a
        dataframe: a dataframe with X's index and partitions.

    Raises
    ------
    ConfigError
        For another kind of model or of X, or a client that is not a ``distributed.Client``.
    ShapeError
        If X does not have the model's number of columns, or holds something else than real
        numbers.

    Examples
    --------
    >>> import dask.array as da, dask.dataframe as dd, numpy as np, pandas as pd, kimi_fann as kf
    >>> from kimi_fann.dask import predict
    >>> router = kf.Router(np.eye(4, 3), top_k=2)
    >>> X = da.random.default_rng(1).normal(size=(1_000, 3), chunks=250)
    >>> experts, weights = predict(router, X)
    >>> want = router.route(X.compute())
    >>> np.array_equal(experts.compute(), want[0]), np.array_equal(weights.compute(), want[1])
    (True, True)
    >>> frame = dd.from_pandas(pd.DataFrame(X.compute(), columns=["a", "b", "c"]), npartitions=4)
    >>> net = kf.Network([3, 5, 1], hidden="sigmoid_symmetric", output="sigmoid", seed=2)
    >>> out = predict(net, frame, columns=["score"])
    >>> out.npartitions, list(out.columns)
    (4, ['score'])
    >>> np.array_equal(out.compute()["score"].to_numpy(), net.run(frame.compute().to_numpy())[:, 0])
    True
    """
    n_in, n_out = _shape_of(model)
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1:
        raise ConfigError(f"threads must be a positive integer, got {threads!r}")
    client = check_client(client) if client is not None else _default_client()
    routes = isinstance(model, Router)
    if isinstance(X, dd.DataFrame):
        if len(X.columns) != n_in:
            raise ShapeError(f"the model takes {n_in} columns, the dataframe has {len(X.columns)}")
        names = _column_names(columns, n_out, routes)
        on_cluster = client.scatter(model, broadcast=True, hash=False) if client is not None else model
        meta = _frame_meta(names, n_out, routes, pd.Index([], dtype=X.index.dtype, name=X.index.name))
        return X.map_partitions(_run_frame, on_cluster, int(threads), names, meta=meta, enforce_metadata=False)
    if not isinstance(X, da.Array):
        raise ConfigError(f"X must be a dask array or dataframe, got {type(X).__name__}; run numpy arrays with "
                          "model.run")
    if columns is not None:
        raise ConfigError("columns names the columns of a dataframe's outputs; X is an array")
    if X.ndim != 2 or X.shape[1] != n_in or np.dtype(X.dtype).kind not in "fiub":
        raise ShapeError(f"X must be a 2-D array of real numbers with {n_in} columns, got shape {X.shape} and "
                         f"dtype {X.dtype}")
    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})
    on_cluster = client.scatter(model, broadcast=True, hash=False) if client is not None else model
    width = 2 * n_out if routes else n_out
    out = da.map_blocks(_run_block, X, on_cluster, int(threads), dtype=np.uint32 if routes else np.float32,
                        chunks=(X.chunks[0], (width,)), meta=np.empty((0, width), np.uint32 if routes else np.float32))
    if routes:
        return out[:, :n_out], out[:, n_out:].map_blocks(_weights, dtype=np.float32,
                                                         meta=np.empty((0, n_out), np.float32))
    return out


def _column_names(columns: Sequence[str] | None, n_out: int, routes: bool) -> list[str]:
    if columns is None:
        if routes:
            return [f"expert_{i}" for i in range(n_out)] + [f"weight_{i}" for i in range(n_out)]
        return [f"output_{i}" for i in range(n_out)]
    names = [str(c) for c in columns]
    want = 2 * n_out if routes else n_out
    if len(names) != want or len(set(names)) != want:
        raise ConfigError(f"columns must be {want} distinct names, got {list(columns)!r}")
    return names


def _frame_meta(names: list[str], n_out: int, routes: bool, index: Any) -> Any:
    if routes:
        return pd.DataFrame({c: np.empty(0, np.uint32 if i < n_out else np.float32) for i, c in enumerate(names)},
                            index=index)
    return pd.DataFrame(np.empty((0, n_out), np.float32), columns=names, index=index)
