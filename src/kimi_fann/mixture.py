"""Mixtures of micro-experts: a router picks each input's experts, one C call runs them all."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _core
from ._arrays import as_matrix, as_seed
from ._cluster import check_client, compute, grouped_by_expert, is_dask_collection, rows_of, run_tasks, sample_rows
from ._core import resolve_threads as resolve
from .data import TrainingData
from .errors import ConfigError, ShapeError
from .fixed import QuantizedNetwork
from .network import Network
from .router import Router
from .simd import path_number

__all__ = ["MixtureOfExperts", "DEFAULT_DOMAINS", "ROUTER_ROWS"]

#: Names of six experts when none are given (Kimi-K2-style domains).
DEFAULT_DOMAINS = ("reasoning", "coding", "language", "mathematics", "tool_use", "context")

Expert = Network | QuantizedNetwork


def _core_of(expert: Any, what: str) -> Any:
    if isinstance(expert, (Network, QuantizedNetwork)):
        return expert.core
    raise ConfigError(f"{what} must be a Network or a Q8/Q16 QuantizedNetwork, got {expert!r}")


class MixtureOfExperts:
    """``y = shared(x) + sum_k weight_k * expert_k(x)`` over the router's top-k experts.

    Threads: running from many threads at once is safe; a run holds its router and float
    experts, so that a change to one of them (a new bias, training an expert) waits for it.

    Parameters
    ----------
    router : Router
        Chooses top_k of ``len(experts)`` experts per input.
    experts : sequence of Network or QuantizedNetwork
        One per router expert, each taking the router's input size; all with one output size.
    shared_expert : Network or QuantizedNetwork, optional
        Runs on every input and is added with weight one (as Kimi-K2's shared expert).
    domains : sequence of str, optional
        A name per expert (defaults for six experts: reasoning, coding, language, mathematics,
        tool_use, context; else expert_0, expert_1, ...).

    Raises
    ------
    ConfigError
        If router is not a Router, an expert is neither a Network nor a QuantizedNetwork, or
        the domains are not distinct names, one per expert.
    ShapeError
        If the number of experts differs from the router's, or their sizes do not fit it.

    Examples
    --------
    >>> import numpy as np, kimi_fann as kf
    >>> experts = [kf.Network([3, 4, 2], seed=i) for i in range(6)]
    >>> moe = kf.MixtureOfExperts(kf.Router(np.eye(6, 3), top_k=2), experts)
    >>> moe.domains[:2], moe.run(np.zeros((5, 3))).shape
    (('reasoning', 'coding'), (5, 2))
    """

    def __init__(
        self,
        router: Router,
        experts: Sequence[Expert],
        shared_expert: Expert | None = None,
        domains: Sequence[str] | None = None,
    ) -> None:
        if not isinstance(router, Router):
            raise ConfigError(f"router must be a Router, got {type(router).__name__}")
        experts = list(experts)
        if len(experts) != router.n_experts:
            raise ShapeError(f"the router chooses among {router.n_experts} experts; {len(experts)} were given")
        if domains is None:
            domains = DEFAULT_DOMAINS if len(experts) == 6 else tuple(f"expert_{i}" for i in range(len(experts)))
        domains = tuple(str(d) for d in domains)
        if len(domains) != len(experts) or len(set(domains)) != len(domains):
            raise ConfigError(f"domains must be {len(experts)} distinct names, got {domains!r}")
        models = [_core_of(e, f"expert {i}") for i, e in enumerate(experts)]
        shared = None if shared_expert is None else _core_of(shared_expert, "shared_expert")
        self._moe = _core.MoE(router.core, models, shared)
        self._router, self._experts, self._shared, self._domains = router, tuple(experts), shared_expert, domains

    def __reduce__(self) -> tuple[Any, ...]:
        # Made again from its parts, each pickled (or copied) as itself: float experts keep
        # their training state, and parts shared with other objects stay shared.
        return MixtureOfExperts, (self._router, list(self._experts), self._shared, self._domains)

    @property
    def router(self) -> Router:
        """The router."""
        return self._router

    @property
    def experts(self) -> tuple[Expert, ...]:
        """The routed experts, in the router's order."""
        return self._experts

    @property
    def shared_expert(self) -> Expert | None:
        """The expert that runs on every input, or None."""
        return self._shared

    @property
    def domains(self) -> tuple[str, ...]:
        """A name per expert."""
        return self._domains

    @property
    def num_input(self) -> int:
        """Input size (the router's dim)."""
        return self._router.dim

    @property
    def num_output(self) -> int:
        """Output size of every expert."""
        return int(self._moe.num_output)

    def __repr__(self) -> str:
        return (f"MixtureOfExperts(experts={len(self._experts)}, top_k={self._router.top_k}, "
                f"shared={self._shared is not None}, domains={list(self._domains)})")

    def run(self, inputs: Any, *, return_routes: bool = False, threads: int | None = None,
            simd: str | None = None) -> np.ndarray | tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Outputs for one input or a batch: routing, grouping by expert, each expert once on its
        group and the weighted sum, in C with the GIL released.

        Parameters
        ----------
        inputs : array_like, shape (dim,) or (n, dim)
        return_routes : bool
            Also return the chosen experts and their weights, as :meth:`Router.route` does.
        threads : int, optional
            Threads for a batch (None: all cores for large batches).
        simd : str, optional
            A SIMD path for the router and Q8/Q16 experts (None: the active one).

        Returns
        -------
        outputs : numpy.ndarray of float32, shape (num_output,) or (n, num_output)
        experts, weights : numpy.ndarray
            Only with ``return_routes=True``.

        Raises
        ------
        ShapeError
            If the inputs do not have ``dim`` columns.
        NumericError
            If an input is NaN or infinite, or an output is (a sum overflowing float32);
            the message and the ``row`` attribute name the row.

        Examples
        --------
        >>> import numpy as np, kimi_fann as kf
        >>> experts = [kf.Network([2, 1], output="linear", seed=i) for i in range(2)]
        >>> moe = kf.MixtureOfExperts(kf.Router(np.eye(2), top_k=1), experts)
        >>> y, chosen, weights = moe.run([[1.0, 0.0], [0.0, 1.0]], return_routes=True)
        >>> chosen.ravel().tolist(), weights.ravel().tolist()
        ([0, 1], [1.0, 1.0])
        """
        if not return_routes:
            fast = self._moe.run_fast(inputs, threads, simd)  # a float32 buffer straight into C
            if fast is not None:
                return fast
        x, single = as_matrix(inputs, self.num_input, "inputs", core_checks=True)
        n, k = x.shape[0], self._router.top_k
        y = np.empty((n, self.num_output), dtype=np.float32)
        experts = np.empty((n, k), dtype=np.uint32) if return_routes else None
        weights = np.empty((n, k), dtype=np.float32) if return_routes else None
        self._moe.run(x, y, experts, weights, path_number(simd), resolve(threads, n))
        if experts is None:
            return y[0] if single else y
        if single:
            return y[0], experts[0], weights[0]
        return y, experts, weights

    # ---- building one from data ----

    @classmethod
    def fit(
        cls,
        data: TrainingData | tuple[Any, Any],
        *,
        n_experts: int,
        hidden: int | Sequence[int] = 16,
        top_k: int = 2,
        labels: Any = None,
        domains: Sequence[str] | None = None,
        max_epochs: int = 200,
        hidden_activation: str = "sigmoid_symmetric",
        output_activation: str = "sigmoid",
        seed: int = 0,
        client: Any = None,
    ) -> MixtureOfExperts:
        """A working mixture from data: domains, gates, then experts.

        1. Each pair gets a domain: ``labels`` (integers in [0, n_experts)) if given, else a
           k-means cluster of its inputs.
        2. The gates are a softmax classifier of the domains; its intercept becomes the
           router's selection bias.
        3. Each expert (``[num_input, *hidden, num_output]``) is trained with RPROP on the pairs
           the router sends to it among its top_k.

        Steps 1 and 2 use every pair up to :data:`ROUTER_ROWS` of them, and beyond that as many
        pairs drawn at random (by the seed); step 3 uses every pair.

        With a Dask ``client`` the experts train as tasks on its cluster, in parallel; data given
        as dask arrays is routed and grouped by expert on the workers (only the pairs of steps 1
        and 2 come to this process). The mixture is the same, bit for bit, whether data is a
        TrainingData or dask arrays of the same values, with a client or without.

        Parameters
        ----------
        data : TrainingData, or a pair (inputs, outputs) of dask arrays
            Dask arrays chunked by rows, of known chunk sizes.
        n_experts : int
        hidden : int or sequence of int
            Hidden layer size(s) of each expert.
        top_k : int
            Experts per input.
        labels : array_like of int, optional
            A domain per pair (a numpy or dask array); None clusters the inputs.
        domains : sequence of str, optional
            Names of the experts.
        max_epochs : int
            RPROP epochs per expert.
        hidden_activation, output_activation : str
            Activation functions of the experts.
        seed : int
            Seed of the clustering, the sample and the experts' weights.
        client : distributed.Client, optional
            Trains the experts as tasks of this Dask cluster.

        Returns
        -------
        MixtureOfExperts

        Raises
        ------
        ConfigError
            If data is neither a TrainingData nor two dask arrays, n_experts is not a positive
            integer, top_k is not in [1, n_experts], or client is not a ``distributed.Client``.
        ShapeError
            If the data is empty, labels are not one integer in [0, n_experts) per pair, or dask
            arrays disagree in rows.

        Examples
        --------
        >>> import numpy as np, kimi_fann as kf
        >>> rng = np.random.default_rng(0)
        >>> x = rng.uniform(-1, 1, (400, 2))
        >>> y = (x[:, :1] > 0) == (x[:, 1:] > 0)  # XOR of signs
        >>> moe = kf.MixtureOfExperts.fit(kf.TrainingData(x, y), n_experts=4, hidden=4, max_epochs=100)
        >>> float(np.mean((moe.run(x) > 0.5) == y)) > 0.9
        True
        """
        client = check_client(client)
        if isinstance(n_experts, bool) or not isinstance(n_experts, (int, np.integer)) or n_experts < 1:
            raise ConfigError(f"n_experts must be a positive integer, got {n_experts!r}")
        n_experts = int(n_experts)
        if isinstance(data, TrainingData):
            n, n_in, n_out = len(data), data.num_input, data.num_output
        elif isinstance(data, tuple) and len(data) == 2 and all(is_dask_collection(d) for d in data):
            inputs, outputs = rows_of(data[0], None, "inputs"), rows_of(data[1], None, "outputs")
            if inputs.shape[0] != outputs.shape[0]:
                raise ShapeError(f"inputs have {inputs.shape[0]} rows but outputs have {outputs.shape[0]}")
            n, n_in, n_out = inputs.shape[0], inputs.shape[1], outputs.shape[1]
        else:
            raise ConfigError(f"expected TrainingData or a pair of dask arrays, got {type(data).__name__}")
        if n == 0:
            raise ShapeError("the data holds no pairs: fitting a mixture needs at least one")
        if isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or not 1 <= top_k <= n_experts:
            raise ConfigError(f"top_k must be an integer in [1, n_experts={n_experts}], got {top_k!r}")
        rng = np.random.default_rng(as_seed(seed))
        sample = None if n <= ROUTER_ROWS else np.sort(rng.choice(n, ROUTER_ROWS, replace=False))
        if isinstance(data, TrainingData):
            x = data.inputs if sample is None else data.inputs[sample]
        else:
            x = np.ascontiguousarray(sample_rows(inputs, sample), dtype=np.float32)
        x = x.astype(np.float64)
        if labels is None:
            domain = kmeans(x, n_experts, rng)
        else:
            domain = _domains(labels, n, n_experts, sample)
        router = fit_router(x, domain, n_experts, top_k=int(top_k))
        layers = [n_in, *([hidden] if isinstance(hidden, (int, np.integer)) else hidden), n_out]
        seeds = [int(rng.integers(2**31)) for _ in range(n_experts)]
        settings = (layers, hidden_activation, output_activation, max_epochs)
        if isinstance(data, TrainingData):
            chosen, _ = router.route(data.inputs)
            routed = [np.nonzero((chosen == e).any(axis=1))[0] for e in range(n_experts)]
            jobs = [(*settings, seeds[e], data.subset_rows(rows) if len(rows) else None) for e, rows in enumerate(routed)]
            experts = run_tasks(train_expert, jobs, client)
        else:
            import dask

            pieces = grouped_by_expert(router, inputs, outputs, n_experts, client)
            experts = compute([dask.delayed(train_expert)(*settings, seeds[e], pieces[e]) for e in range(n_experts)],
                              client)
        return cls(router, experts, domains=domains)


#: The most pairs MixtureOfExperts.fit clusters and fits the gates on; beyond it, a sample.
ROUTER_ROWS = 50_000


def _domains(labels: Any, n: int, n_experts: int, sample: np.ndarray | None) -> np.ndarray:
    """The domain labels of the sampled rows (all when sample is None), checked."""
    if is_dask_collection(labels):
        if labels.shape != (n,) or np.dtype(labels.dtype).kind not in "iu":
            raise ShapeError(f"labels must be {n} integers in [0, {n_experts})")
        domain = sample_rows(labels, sample)
    else:
        domain = np.asarray(labels)
        if domain.shape != (n,) or domain.dtype.kind not in "iu":
            raise ShapeError(f"labels must be {n} integers in [0, {n_experts})")
        domain = domain if sample is None else domain[sample]
    if len(domain) and (domain.min() < 0 or domain.max() >= n_experts):
        raise ShapeError(f"labels must be {n} integers in [0, {n_experts})")
    return domain


def train_expert(layers: list[int], hidden_activation: str, output_activation: str, max_epochs: int, seed: int,
                 data: TrainingData | None) -> Network:
    """One expert of MixtureOfExperts.fit, trained with RPROP on its pairs (untrained without
    any): here, or as a task on a Dask worker."""
    net = Network(layers, hidden=hidden_activation, output=output_activation, seed=seed)
    if data is not None:
        net.train(data, max_epochs=max_epochs, target_error=0)
    return net


def kmeans(x: np.ndarray, k: int, rng: np.random.Generator, iterations: int = 50) -> np.ndarray:
    """Cluster labels of the rows of x (k-means++ starts, Lloyd's iterations)."""
    centres = [x[rng.integers(len(x))]]
    for _ in range(1, k):
        d = np.min([((x - c) ** 2).sum(axis=1) for c in centres], axis=0)
        centres.append(x[rng.choice(len(x), p=d / d.sum())] if d.sum() > 0 else x[rng.integers(len(x))])
    c = np.array(centres)
    for _ in range(iterations):
        label = ((x[:, None, :] - c[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
        moved = np.array([x[label == j].mean(axis=0) if np.any(label == j) else c[j] for j in range(k)])
        if np.allclose(moved, c):
            break
        c = moved
    return label


def fit_router(x: np.ndarray, domain: np.ndarray, n_experts: int, *, top_k: int,
               scale: np.ndarray | None = None, shift: np.ndarray | None = None) -> Router:
    """A softmax router that picks each row's domain: a multinomial logistic regression with an
    intercept, fitted on ``scale * x + shift`` (standardised inputs learn best) and folded back
    so that the router reads raw x; the intercept becomes the selection bias."""
    a = np.ones(x.shape[1]) if scale is None else scale
    b = np.zeros(x.shape[1]) if shift is None else shift
    z = np.hstack([x * a + b, np.ones((len(x), 1))])
    g = _softmax_gates(z, domain, n_experts)
    gates, intercept = g[:, :-1], g[:, -1]
    return Router(gates * a, gates @ b + intercept, top_k=top_k, scoring="softmax")


def _softmax_gates(x: np.ndarray, label: np.ndarray, k: int, steps: int = 500, rate: float = 1.0) -> np.ndarray:
    """Gates (k, dim) of a multinomial logistic regression of label on x (gradient descent)."""
    gates = np.zeros((k, x.shape[1]))
    onehot = np.eye(k)[label]
    scale = 1.0 / max(np.mean(np.sum(x * x, axis=1)), 1e-12)
    for _ in range(steps):
        logits = x @ gates.T
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        gates -= rate * scale * ((p - onehot).T @ x) / len(x)
    return gates
