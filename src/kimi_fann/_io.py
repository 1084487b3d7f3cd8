"""Reading files whole and replacing them atomically."""

from __future__ import annotations

import os
import tempfile
from typing import Union

from .errors import FileError

PathLike = Union[str, "os.PathLike[str]"]


def read_bytes(path: PathLike) -> bytes:
    """The file's contents; :class:`FileError` (an ``OSError``) naming it if it cannot be read."""
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        raise FileError(f"{os.fspath(path)}: cannot read: {exc.strerror or exc}") from exc


def write_atomic(path: PathLike, data: bytes) -> None:
    """Write data to path so that a crash never leaves a partial file in its place.

    The bytes go to a temporary file in the same directory, which is flushed to disk and then
    renamed over the target (an atomic replacement on POSIX and Windows).
    """
    target = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(target))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".kimi-fann-", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise FileError(f"{target}: cannot write: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise FileError(f"{target}: cannot write: {exc.strerror or exc}") from exc
        raise
