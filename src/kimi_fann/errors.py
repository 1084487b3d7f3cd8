"""Exceptions raised by kimi-fann.

Every error the package raises on bad input derives from :class:`KimiFannError`, and also from
the builtin exception a Python user would expect (``ValueError`` for bad values, ``OSError``
for files that cannot be read or written), so both ``except kf.errors.ShapeError`` and
``except ValueError`` work.

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


class KimiFannError(Exception):
    """Base class of every kimi-fann error.

    Attributes
    ----------
    status : int
        The C core's status code (0 when the error was detected in Python).
    """

    status: int = 0

    def __init__(self, message: str, *, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class FormatError(KimiFannError, ValueError):
    """A file or text is malformed; the message names the file and line."""


class ShapeError(KimiFannError, ValueError):
    """Array shapes or sizes do not match the network or each other."""


class ConfigError(KimiFannError, ValueError):
    """A parameter is out of its range, or a request does not fit this network."""


class NumericError(KimiFannError, ValueError):
    """NaN or infinity where a finite number is required, or a range that is empty."""


class LimitError(KimiFannError, ValueError):
    """A size beyond the library's limits (too many neurons, connections or values)."""


class FileError(KimiFannError, OSError):
    """A file cannot be read or written."""


# C status code -> exception class. The codes are kf_status in csrc/include/kfann.h; a test
# walks all of them.
_BY_STATUS: dict[int, type[KimiFannError]] = {
    -2: ConfigError,  # KF_E_ARG
    -3: ShapeError,  # KF_E_SHAPE
    -4: FormatError,  # KF_E_FORMAT
    -5: NumericError,  # KF_E_NUMERIC
    -6: ConfigError,  # KF_E_UNSUPPORTED
    -7: LimitError,  # KF_E_LIMIT
}


def error_for_status(status: int, message: str) -> Exception:
    """Return the exception for a C status code (``MemoryError`` for KF_E_NOMEM).

    Parameters
    ----------
    status : int
        A negative ``kf_status`` of the C core.
    message : str

    Returns
    -------
    Exception
        Not raised: the caller raises it.

    Examples
    --------
    >>> from kimi_fann.errors import error_for_status
    >>> exc = error_for_status(-3, "3 columns, expected 4")
    >>> type(exc).__name__, exc.status
    ('ShapeError', -3)
    """
    if status == -1:
        return MemoryError(message)
    cls = _BY_STATUS.get(status, KimiFannError)
    return cls(message, status=status)
