"""Exceptions raised by kimi-fann.

Every error the package raises on bad input derives from :class:`KimiFannError`, and also from
the builtin exception a Python user would expect (``ValueError`` for bad values, ``OSError``
for files that cannot be read or written), so both ``except kf.errors.ShapeError`` and
``except ValueError`` work.

One rule per condition, whichever layer (Python, the binding or the C core) detects it:

- the data given to a model does not fit it (a shape, a size or a dtype that does not match,
  integer inputs outside its input range): :class:`ShapeError` (C: ``KF_E_SHAPE``);
- a parameter or argument is out of its range or of the wrong kind, or the model cannot serve
  the request: :class:`ConfigError` (``KF_E_ARG``, ``KF_E_UNSUPPORTED``);
- NaN or infinity where a finite number is required: :class:`NumericError` (``KF_E_NUMERIC``);
- a size beyond the library's limits: :class:`LimitError` (``KF_E_LIMIT``);
- a malformed file or text: :class:`FormatError` (``KF_E_FORMAT``);
- a file that cannot be read or written: :class:`FileError`;
- memory exhausted: ``MemoryError`` (``KF_E_NOMEM``).

The classes and the table from the C core's status codes to them live in the compiled core
(the binding raises them); this module is where users import them from.

Example
-------
>>> import kimi_fann as kf
>>> try:
...     kf.Network([2, 0, 1])
... except kf.errors.ConfigError as exc:
...     print(type(exc).__name__)
ConfigError
"""

from __future__ import annotations

from ._core import (
    ConfigError,
    FileError,
    FormatError,
    KimiFannError,
    LimitError,
    NumericError,
    ShapeError,
    error_for_status,
)

__all__ = [
    "KimiFannError",
    "FormatError",
    "ShapeError",
    "ConfigError",
    "NumericError",
    "LimitError",
    "FileError",
    "error_for_status",
]
