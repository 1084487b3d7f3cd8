"""Fixed-point networks: FANN's FANN_FIX_2.0 format, run exactly as libfixedfann 2.2 runs it."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from . import _core
from ._arrays import as_matrix
from ._io import PathLike, read_bytes, write_atomic
from .errors import ConfigError, ShapeError

__all__ = ["FixedNetwork", "FIXED_ACTIVATIONS"]

#: Activations libfixedfann 2.2 computes in fixed point (it reports an error for the others).
FIXED_ACTIVATIONS: tuple[str, ...] = (
    "linear", "threshold", "threshold_symmetric", "sigmoid", "sigmoid_stepwise", "sigmoid_symmetric",
    "sigmoid_symmetric_stepwise", "linear_piece", "linear_piece_symmetric",
)
_NAMES = tuple(_core.activation_names())


class FixedNetwork:
    """A network whose values are integers with ``decimal_point`` fractional bits.

    This is FANN's fixed point: what ``fann_save_to_fixed`` writes and libfixedfann runs.
    :meth:`run_raw` returns exactly the integers libfixedfann 2.2's ``fann_run`` returns,
    including its truncating products and its stepwise sigmoids (sigmoid activations become
    six-segment piecewise-linear ones, as in libfixedfann).

    Examples
    --------
    >>> import numpy as np, kimi_fann as kf
    >>> net = kf.Network([2, 3, 1], hidden="sigmoid_symmetric", output="sigmoid_symmetric", seed=0)
    >>> fixed = net.to_fixed()
    >>> fixed.decimal_point, fixed.multiplier
    (15, 32768)
    >>> fixed.run_raw([8192, -4096]).dtype
    dtype('int32')
    >>> bool(np.abs(fixed.run([1.0, -0.5]) - net.run([1.0, -0.5])).max() < 0.02)
    True
    """

    __slots__ = ("_net",)

    def __init__(self) -> None:
        raise TypeError("create a FixedNetwork with Network.to_fixed() or FixedNetwork.load(path)")

    @classmethod
    def _wrap(cls, net: _core.FixNet) -> FixedNetwork:
        self = object.__new__(cls)
        self._net = net
        return self

    # ---- files ----

    @classmethod
    def load(cls, path: PathLike) -> FixedNetwork:
        """Read a FANN_FIX_2.0 ``.net`` file (as libfixedfann's ``fann_create_from_file``)."""
        return cls.from_fann_text(read_bytes(path), source=os.fspath(path))

    @classmethod
    def from_fann_text(cls, text: bytes | str, *, source: str = "<text>") -> FixedNetwork:
        """A fixed-point network from FANN_FIX_2.0 text."""
        raw = text.encode() if isinstance(text, str) else bytes(text)
        return cls._wrap(_core.FixNet.parse_fann(raw, source))

    def to_fann_text(self) -> bytes:
        """FANN_FIX_2.0 text, as ``fann_save_to_fixed`` writes it."""
        return self._net.format_fann()

    def save(self, path: PathLike) -> None:
        """Write a FANN_FIX_2.0 file (atomically)."""
        write_atomic(path, self.to_fann_text())

    # ---- structure ----

    @property
    def layers(self) -> tuple[int, ...]:
        return tuple(self._net.layer_sizes())

    @property
    def num_input(self) -> int:
        return int(self._net.num_input)

    @property
    def num_output(self) -> int:
        return int(self._net.num_output)

    @property
    def total_connections(self) -> int:
        return int(self._net.total_connections)

    @property
    def decimal_point(self) -> int:
        """Fractional bits of every value."""
        return int(self._net.decimal_point)

    @property
    def multiplier(self) -> int:
        """The integer that stands for 1.0 (``1 << decimal_point``)."""
        return int(self._net.multiplier)

    def __repr__(self) -> str:
        return f"FixedNetwork(layers={list(self.layers)}, format='fann', decimal_point={self.decimal_point})"

    # ---- running ----

    def run_raw(self, inputs: Any) -> np.ndarray:
        """Run integer inputs (value x stands for x / multiplier); returns int32 outputs, the
        exact integers of libfixedfann's ``fann_run``. One sample (1-D) or a batch (2-D)."""
        array = np.asarray(inputs)
        if array.dtype.kind not in "iu":
            raise ShapeError(f"run_raw takes integers (value * multiplier), got dtype {array.dtype}; use run() for floats")
        single = array.ndim == 1
        matrix = array.reshape(1, -1) if single else array
        if matrix.ndim != 2 or matrix.shape[1] != self.num_input:
            raise ShapeError(f"inputs must have {self.num_input} values per row, got shape {array.shape}")
        if matrix.size and (matrix.min() < -(2**31) or matrix.max() >= 2**31):
            raise ShapeError("inputs must fit in 32-bit integers")
        x = np.ascontiguousarray(matrix, dtype=np.int32)
        y = np.empty((x.shape[0], self.num_output), dtype=np.int32)
        try:
            self._net.run(x, y)
        except ConfigError as exc:
            raise ConfigError(self._unsupported_reason()) from exc
        return y[0] if single else y

    def run(self, inputs: Any) -> np.ndarray:
        """Run float inputs: each is rounded to the nearest fixed-point value, and the outputs
        are divided by the multiplier. Inputs beyond the int32 range saturate."""
        x, single = as_matrix(inputs, self.num_input, "inputs")
        scaled = np.clip(np.rint(x.astype(np.float64) * self.multiplier), -(2**31), 2**31 - 1).astype(np.int32)
        y = self.run_raw(scaled).astype(np.float32) / np.float32(self.multiplier)
        return y[0] if single else y

    def _unsupported_reason(self) -> str:
        activations = self._net.activations()
        for neuron, code in enumerate(activations):
            if _NAMES[code] not in FIXED_ACTIVATIONS and neuron >= self.num_input + 1:
                return (f"neuron {neuron} uses {_NAMES[code]}, which libfixedfann cannot run in fixed point "
                        f"(supported: {', '.join(FIXED_ACTIVATIONS)})")
        return "a stepwise sigmoid neuron has steepness 0 (libfixedfann would divide by zero)"
