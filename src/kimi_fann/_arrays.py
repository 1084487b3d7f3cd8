"""Checking user arguments: arrays into the float32, C-contiguous, finite matrices the core
expects, and seeds."""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import ConfigError, NumericError, ShapeError


def as_matrix(values: Any, columns: int | None, name: str) -> tuple[np.ndarray, bool]:
    """Return (float32 C-contiguous, aligned 2-D array, was_1d) for a real-valued array-like.

    A 1-D input is one row. ``columns`` (when given) is the required row length. Raises
    ShapeError for other shapes, ConfigError-like TypeErrors for non-numeric dtypes, and
    NumericError for NaN or infinity (naming the first bad position).
    """
    array = np.asarray(values)
    if array.dtype.kind not in "fiub":
        raise ShapeError(f"{name} must hold real numbers, got dtype {array.dtype}")
    was_1d = array.ndim == 1
    if was_1d:
        array = array.reshape(1, -1)
    if array.ndim != 2:
        raise ShapeError(f"{name} must be 1-D (one sample) or 2-D (samples x values), got shape {array.shape}")
    if columns is not None and array.shape[1] != columns:
        raise ShapeError(f"{name} must have {columns} values per row, got shape {np.shape(values)}")
    with np.errstate(over="ignore", invalid="ignore"):  # reported below as NumericError
        matrix = aligned(array, np.float32)
    check_finite(matrix, name)
    return matrix, was_1d


def aligned(array: Any, dtype: Any) -> np.ndarray:
    """array as a C-contiguous array of dtype whose values are aligned for C to read (a copy only
    when needed: numpy arrays rebuilt from a byte stream, such as pickle's or Dask's out-of-band
    buffers, can start at any byte)."""
    return np.require(array, dtype=dtype, requirements=["C", "A"])


def check_finite(matrix: np.ndarray, name: str) -> None:
    """Raise NumericError naming the first NaN or infinity of matrix (after float32 rounding)."""
    finite = np.isfinite(matrix)
    if not finite.all():
        bad = tuple(int(i) for i in np.argwhere(~finite)[0])
        raise NumericError(f"{name} holds a non-finite value ({matrix[bad]}) at index {bad}")


def as_seed(seed: Any) -> int:
    """A seed for the core's random streams: an integer in [0, 2**64)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**64:
        raise ConfigError(f"seed must be an integer in [0, 2**64), got {seed!r}")
    return int(seed)
