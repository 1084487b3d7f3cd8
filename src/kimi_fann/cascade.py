"""Cascade-correlation training (FANN's Cascade2): the random stream libfann draws from, and the
record of a run. :meth:`kimi_fann.Network.cascade_train` does the training."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _core
from .descriptions import ACTIVATIONS
from .errors import ConfigError

__all__ = ["FannRandom", "CascadeStep", "CascadeHistory"]


class FannRandom:
    """The random numbers libfann draws: glibc's ``rand()`` after ``srand(seed)``.

    libfann takes the weights of its cascade candidates (and SARPROP's noise) from the C
    library's ``rand()``. A ``FannRandom`` reproduces that stream exactly (glibc's TYPE_3
    additive feedback generator, implemented in the C core), so that
    ``net.cascade_train(data, ..., random=kf.FannRandom(seed))`` gives, to the bit, the network
    that a C program gets from ``srand(seed); fann_cascadetrain_on_data(ann, data, ...)`` on
    glibc. Training draws from the stream and moves it on, as libfann moves ``rand()`` on: a
    second run continues where the first stopped. Copies (and pickles) continue from the same
    point.

    Parameters
    ----------
    seed : int
        The ``srand`` seed, 0 .. 4294967295 (glibc treats 0 as 1).

    Raises
    ------
    ConfigError
        If the seed is not an integer in that range.

    Examples
    --------
    >>> import kimi_fann as kf
    >>> r = kf.FannRandom(1)
    >>> [r.rand() for _ in range(3)]  # glibc: srand(1); rand(); rand(); rand()
    [1804289383, 846930886, 1681692777]
    >>> 0.0 <= r.uniform(0.0, 1.0) < 1.0
    True
    """

    #: The largest draw (glibc's ``RAND_MAX``).
    RAND_MAX: int = _core.CONSTANTS["KF_RAND_MAX"]

    def __init__(self, seed: int) -> None:
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed <= 0xFFFFFFFF:
            raise ConfigError(f"seed must be an integer in 0 .. 4294967295 (srand's unsigned int), got {seed!r}")
        self._seed = int(seed)
        self._random = _core.Random(self._seed, True)

    @property
    def seed(self) -> int:
        """The seed the stream started from."""
        return self._seed

    @property
    def core(self) -> _core.Random:
        """The compiled stream (:mod:`kimi_fann._core`) that training draws from. Read only."""
        return self._random

    def rand(self) -> int:
        """The next draw, as ``rand()`` gives it.

        Returns
        -------
        int
            In 0 .. :attr:`RAND_MAX`.

        Examples
        --------
        >>> import kimi_fann as kf
        >>> kf.FannRandom(42).rand()  # glibc: srand(42); rand()
        71876166
        """
        return int(self._random.next())

    def rand_array(self, n: int) -> np.ndarray:
        """The next n draws.

        Parameters
        ----------
        n : int

        Returns
        -------
        numpy.ndarray of int64, shape (n,)

        Examples
        --------
        >>> import kimi_fann as kf
        >>> kf.FannRandom(1).rand_array(2).tolist()
        [1804289383, 846930886]
        """
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ConfigError(f"n must be a non-negative integer, got {n!r}")
        out = np.empty(int(n), dtype=np.uint32)
        self._random.fill(out)
        return out.astype(np.int64)

    def uniform(self, low: float, high: float) -> float:
        """One draw through FANN's ``fann_rand(low, high)``, in float32 arithmetic.

        Parameters
        ----------
        low, high : float

        Returns
        -------
        float
            ``low + (high - low) * draw / 2**31``, as libfann computes it.

        Examples
        --------
        >>> import kimi_fann as kf
        >>> round(kf.FannRandom(1).uniform(0.0, 2.0), 6)  # 2 * 1804289383 / 2**31
        1.680375
        """
        return float(self._random.uniform(float(low), float(high)))

    def __repr__(self) -> str:
        return f"FannRandom(seed={self._seed})"

    def copy(self) -> FannRandom:
        """An independent stream at the same point.

        Returns
        -------
        FannRandom

        Examples
        --------
        >>> import kimi_fann as kf
        >>> a = kf.FannRandom(5)
        >>> b = a.copy()
        >>> a.rand() == b.rand()
        True
        """
        clone = FannRandom(self._seed)
        clone._random.set_state(self._random.get_state())
        return clone

    def __copy__(self) -> FannRandom:
        return self.copy()

    def __deepcopy__(self, memo: dict) -> FannRandom:
        return self.copy()

    def __getstate__(self) -> dict:
        return {"seed": self._seed, "state": self._random.get_state()}

    def __setstate__(self, state: dict) -> None:
        self._seed = int(state["seed"])
        self._random = _core.Random(self._seed, True)
        self._random.set_state(state["state"])


@dataclass(frozen=True)
class CascadeStep:
    """The network after one round's output training, where libfann reports.

    Attributes
    ----------
    neurons : int
        Hidden neurons added so far.
    epochs : int
        Epochs trained so far, output and candidate phases together (libfann's count).
    mse : float
        MSE of the last output-training epoch (measured before its weight update, as FANN does).
    bit_fail : int
        Failed bits of that epoch.
    activation : str or None
        Activation function of the last neuron added (None before the first).
    steepness : float or None
        Its steepness.

    Examples
    --------
    >>> import numpy as np, kimi_fann as kf
    >>> x = np.linspace(-1, 1, 32, dtype=np.float32).reshape(-1, 1)
    >>> net = kf.Network([1, 1], output="linear", shortcut=True, seed=0)
    >>> step = net.cascade_train(kf.TrainingData(x, x**2), max_neurons=2, desired_error=0.0).steps[1]
    >>> step.neurons, step.activation in kf.ACTIVATIONS
    (1, True)
    """

    neurons: int
    epochs: int
    mse: float
    bit_fail: int
    activation: str | None
    steepness: float | None

    @classmethod
    def from_report(cls, report: tuple[int, int, float, int, int, float]) -> CascadeStep:
        """A step from the compiled core's report tuple (neurons, epochs, mse, bit_fail,
        activation number, steepness).

        Parameters
        ----------
        report : tuple of (int, int, float, int, int, float)

        Returns
        -------
        CascadeStep

        Examples
        --------
        >>> from kimi_fann.cascade import CascadeStep
        >>> CascadeStep.from_report((1, 80, 0.25, 3, 5, 0.5)).activation
        'sigmoid_symmetric'
        """
        neurons, epochs, mse, bit_fail, activation, steepness = report
        added = neurons > 0
        return cls(int(neurons), int(epochs), float(mse), int(bit_fail), ACTIVATIONS[activation] if added else None,
                   float(steepness) if added else None)

    def to_dict(self) -> dict[str, Any]:
        """The fields by name (JSON-ready).

        Returns
        -------
        dict

        Examples
        --------
        >>> from kimi_fann.cascade import CascadeStep
        >>> CascadeStep(0, 51, 0.5, 2, None, None).to_dict()["epochs"]
        51
        """
        return {"neurons": self.neurons, "epochs": self.epochs, "mse": self.mse, "bit_fail": self.bit_fail,
                "activation": self.activation, "steepness": self.steepness}


@dataclass(frozen=True)
class CascadeHistory:
    """What :meth:`~kimi_fann.Network.cascade_train` did.

    Attributes
    ----------
    steps : tuple of CascadeStep
        One per report (every neuron, or libfann's report points with neurons_between_reports).
    neurons : int
        Hidden neurons added in all.
    epochs : int
        Epochs trained in all, the final output training included.
    mse : float
        MSE of the final output training's last epoch.
    bit_fail : int
        Its failed bits.
    stopped : bool
        True when the callback stopped the growth.

    Examples
    --------
    >>> import numpy as np, kimi_fann as kf
    >>> x = np.linspace(-1, 1, 32, dtype=np.float32).reshape(-1, 1)
    >>> net = kf.Network([1, 1], output="linear", shortcut=True, seed=0)
    >>> history = net.cascade_train(kf.TrainingData(x, x**2), max_neurons=3, desired_error=0.0)
    >>> history.neurons, len(history.steps), bool(history.mse < history.steps[0].mse)
    (3, 3, True)
    """

    steps: tuple[CascadeStep, ...]
    neurons: int
    epochs: int
    mse: float
    bit_fail: int
    stopped: bool = False

    @property
    def mse_per_neuron(self) -> np.ndarray:
        """The MSE of every step (float64), in order."""
        return np.array([s.mse for s in self.steps], dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        """The record by name (JSON-ready).

        Returns
        -------
        dict
            The attributes, each step as :meth:`CascadeStep.to_dict` gives it.

        Examples
        --------
        >>> from kimi_fann.cascade import CascadeHistory
        >>> CascadeHistory((), 0, 3, 0.5, 1).to_dict()["epochs"]
        3
        """
        return {"neurons": self.neurons, "epochs": self.epochs, "mse": self.mse, "bit_fail": self.bit_fail,
                "stopped": self.stopped, "steps": [s.to_dict() for s in self.steps]}
