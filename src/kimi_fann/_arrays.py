"""Checking user arguments: arrays into the float32, C-contiguous, finite matrices the core
expects, and seeds."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._core import first_nonfinite_row
from .errors import ConfigError, NumericError, ShapeError


def as_matrix(values: Any, columns: int | None, name: str, *, core_checks: bool = False) -> tuple[np.ndarray, bool]:
    """Return (float32 C-contiguous, aligned 2-D array, was_1d) for a real-valued array-like.

    A 1-D input is one row. ``columns`` (when given) is the required row length. Raises
    ShapeError for other shapes, ConfigError-like TypeErrors for non-numeric dtypes, and
    NumericError for NaN or infinity (naming the first bad position). ``core_checks``: the
    caller runs the matrix through a C entry point that refuses NaN and infinity itself (with
    the row, in every chunk of a split batch), so a float32 array used as it is is not checked
    here too; a converted one still is, as only the original values tell a value beyond
    float32's range from an infinity.
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
    if not (core_checks and matrix is array):
        check_finite(matrix, name, array)
    return matrix, was_1d


def aligned(array: Any, dtype: Any) -> np.ndarray:
    """array as a C-contiguous array of dtype whose values are aligned for C to read (a copy only
    when needed: numpy arrays rebuilt from a byte stream, such as pickle's or Dask's out-of-band
    buffers, can start at any byte)."""
    return np.require(array, dtype=dtype, requirements=["C", "A"])


def check_finite(matrix: np.ndarray, name: str, original: np.ndarray | None = None) -> None:
    """Raise NumericError naming the row and column of the first NaN or infinity of a 2-D
    matrix (after float32 rounding); original, the values before rounding, tells a finite
    value beyond float32's range from an infinity.

    Examples
    --------
    >>> import numpy as np
    >>> check_finite(np.array([[0.0, np.inf]], np.float32), "inputs", np.array([[0.0, 1e300]]))
    Traceback (most recent call last):
    ...
    kimi_fann.errors.NumericError: inputs: row 0, column 1 holds 1e+300, beyond float32's range (+-3.4e+38)
    """
    bad = first_nonfinite(matrix)
    if bad is not None:
        where = f"row {bad[0]}, column {bad[1]}" if len(bad) == 2 else f"index {bad}"
        if original is not None and original.shape == matrix.shape and np.isfinite(original[bad]):
            raise NumericError(f"{name}: {where} holds {float(original[bad]):.3g}, beyond float32's range "
                               f"(+-{float(np.finfo(np.float32).max):.2g})")
        raise NumericError(f"{name}: {where} holds {matrix[bad]}, not a finite number")


def first_nonfinite(matrix: np.ndarray) -> tuple[int, ...] | None:
    """The index of the first NaN or infinity of an array, or None. A C-contiguous float32
    matrix (every array a model runs) is checked by one integer pass in the binding, without
    numpy's full-size mask."""
    if matrix.ndim == 2 and matrix.dtype == np.float32 and matrix.flags.c_contiguous:
        row = first_nonfinite_row(matrix)
        return None if row < 0 else (row, int(np.argmax(~np.isfinite(matrix[row]))))
    finite = np.isfinite(matrix)
    return None if finite.all() else tuple(int(i) for i in np.argwhere(~finite)[0])


def as_seed(seed: Any) -> int:
    """A seed for the core's random streams: an integer in [0, 2**64)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**64:
        raise ConfigError(f"seed must be an integer in [0, 2**64), got {seed!r}")
    return int(seed)
