"""The router: picks each input's top-k experts, as a Mixture-of-Experts layer does."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _core
from ._arrays import as_matrix
from ._core import resolve_threads as resolve
from .errors import ConfigError, ShapeError
from .simd import path_number

__all__ = ["Router"]

_SCORING = ("softmax", "sigmoid")
_MAX_TOP_K = _core.CONSTANTS["KF_MAX_TOP_K"]


class Router:
    """Top-k gating over ``n_experts`` experts, in C.

    Scores are ``gates @ x``. With ``scoring="sigmoid"`` (Kimi-K2, DeepSeek-V3) each score goes
    through a sigmoid, the experts are chosen by sigmoid score plus ``bias`` (which only steers
    the choice), and the chosen sigmoid scores, normalised to sum to one and multiplied by
    ``scaling``, are the weights. With ``scoring="softmax"`` the experts are chosen by score plus
    ``bias`` and the weights are the softmax of the chosen scores (without the bias). Ties go to
    the lower expert index.

    Threads: routing from many threads at once is safe; assigning ``bias`` or ``update_bias``
    waits for the routes in progress, and routes started meanwhile wait for it.

    Parameters
    ----------
    gates : array_like, shape (n_experts, dim)
        The gate matrix (float; up to 65536 experts).
    bias : array_like, shape (n_experts,), optional
        Selection bias: steers which experts are chosen, not their weights (load balancing with
        :meth:`update_bias`, or an intercept of the gates).
    top_k : int, optional
        Experts per input (at most 64 and n_experts; default min(8, n_experts)).
    scaling : float
        Factor on the sigmoid weights (DeepSeek-V3's routed scaling factor).
    gate_bits : {32, 16, 8}
        32 keeps float gates; 16 and 8 quantize each gate row with its own scale, and each input
        with its own, so that scoring runs in exact integer arithmetic. Float gates of 96 or more
        experts (and at least 8 * top_k) also keep an int8 copy (a quarter of their memory) that
        screens the experts: only those that can be chosen are scored in float, with the same
        choices and weights as scoring all (see the routing guide).
    scoring : {"sigmoid", "softmax"}
        How scores become choices and weights (see above).

    Raises
    ------
    ShapeError
        If gates is empty or not 2-D, or bias has the wrong length.
    ConfigError
        For an unknown scoring, gate_bits, or a top_k out of range.

    Examples
    --------
    >>> import numpy as np, kimi_fann as kf
    >>> gates = np.eye(4, 3)
    >>> router = kf.Router(gates, top_k=2, scoring="softmax")
    >>> idx, w = router.route([0.0, 2.0, 1.0])
    >>> idx.tolist(), [round(float(v), 3) for v in w]
    ([1, 2], [0.731, 0.269])
    """

    def __init__(
        self,
        gates: Any,
        bias: Any = None,
        *,
        top_k: int | None = None,
        scoring: str = "sigmoid",
        scaling: float = 1.0,
        gate_bits: int = 32,
    ) -> None:
        g, _ = as_matrix(gates, None, "gates")
        if g.shape[0] == 0 or g.shape[1] == 0:
            raise ShapeError(f"gates must be (n_experts, dim) with both at least 1, got {g.shape}")
        if scoring not in _SCORING:
            raise ConfigError(f"scoring must be 'softmax' or 'sigmoid', got {scoring!r}")
        if gate_bits not in (32, 16, 8):
            raise ConfigError(f"gate_bits must be 32, 16 or 8, got {gate_bits!r}")
        n_experts = g.shape[0]
        k = min(8, n_experts) if top_k is None else top_k
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= min(_MAX_TOP_K, n_experts):
            raise ConfigError(f"top_k must be between 1 and min({_MAX_TOP_K}, n_experts={n_experts}), got {top_k!r}")
        b = None if bias is None else self._check_bias(bias, n_experts)
        self._gates = g
        self._scoring = scoring
        self._scaling = float(scaling)
        self._gate_bits = gate_bits
        gates_q = scale = None
        if gate_bits != 32:
            gates_q, scale = _quantize_gates(g, gate_bits)
        code = _core.CONSTANTS[f"KF_SCORING_{scoring.upper()}"]
        self._router = _core.Router(int(k), code, gate_bits, g if gate_bits == 32 else None, gates_q, scale, b,
                                    self._scaling)
        self._bias = b
        self._quantized = (gates_q, scale)

    @staticmethod
    def _check_bias(bias: Any, n_experts: int) -> np.ndarray:
        b, _ = as_matrix(np.asarray(bias).reshape(1, -1), n_experts, "bias")
        return b[0].copy()

    # ---- properties ----

    @property
    def core(self) -> _core.Router:
        """The compiled router (:mod:`kimi_fann._core`) this object owns: what a mixture of
        experts links to. Read only; not needed to use the router."""
        return self._router

    @property
    def quantized_gates(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The integer gate rows (int16 holding 8- or 16-bit values) and their scales, as the
        core holds them, or None for float gates."""
        gates_q, scale = self._quantized
        return None if gates_q is None else (gates_q.copy(), scale.copy())

    @property
    def n_experts(self) -> int:
        """Number of experts (rows of the gate matrix)."""
        return int(self._router.n_experts)

    @property
    def dim(self) -> int:
        """Input size (columns of the gate matrix)."""
        return int(self._router.dim)

    @property
    def top_k(self) -> int:
        """Experts chosen per input."""
        return int(self._router.top_k)

    @property
    def scoring(self) -> str:
        """``"sigmoid"`` or ``"softmax"``."""
        return self._scoring

    @property
    def scaling(self) -> float:
        """Factor on the sigmoid weights."""
        return self._scaling

    @property
    def gate_bits(self) -> int:
        """32 (float gates), 16 or 8 (integer gates)."""
        return self._gate_bits

    @property
    def gates(self) -> np.ndarray:
        """A copy of the float gate matrix (before any quantization)."""
        return self._gates.copy()

    @property
    def bias(self) -> np.ndarray | None:
        """A copy of the selection bias, or None; assign an array of n_experts values (or None).

        Examples
        --------
        >>> import numpy as np, kimi_fann as kf
        >>> router = kf.Router(np.eye(3), top_k=1)
        >>> router.bias = [0.0, 0.0, 2.0]
        >>> int(router.route([1.0, 0.0, 0.0])[0][0])  # the bias steers the choice
        2
        """
        return None if self._bias is None else self._bias.copy()

    @bias.setter
    def bias(self, value: Any) -> None:
        b = None if value is None else self._check_bias(value, self.n_experts)
        with self._router.writing():  # routes in progress finish first; later ones see the new bias
            self._router.set_bias(b)
            self._bias = b

    # ---- copies and pickles ----

    def __getstate__(self) -> dict[str, Any]:
        # What a .kfn file stores of a router; the integer gates follow from the float ones.
        with self._router.reading():  # the bias of one moment
            return {"gates": self._gates, "bias": self._bias, "top_k": self.top_k, "scoring": self._scoring,
                    "scaling": self._scaling, "gate_bits": self._gate_bits}

    def __setstate__(self, state: dict[str, Any]) -> None:
        Router.__init__(self, state["gates"], state["bias"], top_k=state["top_k"], scoring=state["scoring"],
                        scaling=state["scaling"], gate_bits=state["gate_bits"])

    def __repr__(self) -> str:
        return (f"Router(n_experts={self.n_experts}, dim={self.dim}, top_k={self.top_k}, "
                f"scoring={self.scoring!r}, gate_bits={self.gate_bits})")

    # ---- routing ----

    def route(self, inputs: Any, *, return_load: bool = False, threads: int | None = None,
              simd: str | None = None) -> tuple[np.ndarray, ...]:
        """The chosen experts and their weights for one input or a batch.

        Parameters
        ----------
        inputs : array_like, shape (dim,) or (n, dim)
        return_load : bool
            Also return each expert's count of selections.
        threads : int, optional
            Threads for a batch (None: all cores for large batches); results do not depend on it.
        simd : str, optional
            A SIMD path (None: the active one).

        Returns
        -------
        experts : numpy.ndarray of uint32, shape (top_k,) or (n, top_k)
            Best first.
        weights : numpy.ndarray of float32, the same shape
        load : numpy.ndarray of int64, shape (n_experts,)
            Only with ``return_load=True``.

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
        >>> router = kf.Router(np.eye(4), top_k=2)
        >>> experts, weights, load = router.route(np.eye(4), return_load=True)
        >>> experts[:, 0].tolist(), load.tolist()
        ([0, 1, 2, 3], [4, 2, 1, 1])
        """
        if not return_load:
            fast = self._router.route_fast(inputs, threads, simd)  # a float32 buffer straight into C
            if fast is not None:
                return fast
        x, single = as_matrix(inputs, self.dim, "inputs", core_checks=True)
        n, k = x.shape[0], self.top_k
        experts, weights = np.empty((n, k), dtype=np.uint32), np.empty((n, k), dtype=np.float32)
        total = np.zeros(self.n_experts, dtype=np.uint64) if return_load else None
        self._router.route(x, experts, weights, total, path_number(simd), resolve(threads, n))
        result: tuple[np.ndarray, ...] = (experts[0], weights[0]) if single else (experts, weights)
        if total is not None:
            result += (total.astype(np.int64),)
        return result

    def update_bias(self, load: Any, rate: float = 1e-3) -> None:
        """Auxiliary-loss-free load balancing (DeepSeek-V3): raise the bias of experts chosen
        less than average, lower it for those chosen more, by ``rate`` each.

        Parameters
        ----------
        load : array_like, shape (n_experts,)
            The per-expert count of selections, e.g. from ``route(..., return_load=True)``.
        rate : float
            Step added to or taken from each bias.

        Returns
        -------
        None

        Raises
        ------
        ShapeError
            If load does not have n_experts counts.
        ConfigError
            If rate is negative or not finite.

        Examples
        --------
        >>> import numpy as np, kimi_fann as kf
        >>> router = kf.Router(np.eye(3), top_k=1)
        >>> router.update_bias([6, 0, 3], rate=0.1)
        >>> [round(float(b), 2) for b in router.bias]
        [-0.1, 0.1, 0.0]
        """
        counts = np.asarray(load, dtype=np.float64)
        if counts.shape != (self.n_experts,):
            raise ShapeError(f"load needs {self.n_experts} counts, got shape {counts.shape}")
        if not np.isfinite(rate) or rate < 0:
            raise ConfigError(f"rate must be a finite non-negative number, got {rate!r}")
        step = np.float32(rate) * np.sign(counts.mean() - counts).astype(np.float32)
        with self._router.writing():  # read and write as one change: concurrent updates all count
            current = np.zeros(self.n_experts, dtype=np.float32) if self._bias is None else self._bias
            self.bias = current + step


def _quantize_gates(gates: np.ndarray, bits: int) -> tuple[np.ndarray, np.ndarray]:
    """int8/int16 gate rows with a scale each, small enough that a row's dot product with an
    input quantized to the same width cannot overflow int32."""
    qmax, amax = (127, 255) if bits == 8 else (32767, 32767)
    g = gates.astype(np.float64)
    top = np.abs(g).max(axis=1)
    ratio = np.abs(g).sum(axis=1) / np.where(top > 0, top, 1.0)  # sum |w| in units of max |w|
    levels = np.minimum(qmax, np.floor((2**31 - 1) / amax / np.maximum(ratio, 1.0)))
    while True:  # rounding can push a row just past the bound: take a level off until it fits
        scale = np.where(top > 0, top / levels, 1.0).astype(np.float32)
        q = np.clip(np.rint(g / scale[:, None]), -qmax, qmax).astype(np.int64)
        over = np.abs(q).sum(axis=1) * amax > 2**31 - 1
        if not over.any():
            return q.astype(np.int16), scale
        levels[over] -= np.maximum(1, levels[over] // 1000)
