"""Reading files whole and replacing them atomically."""

from __future__ import annotations

import os
import secrets
import stat
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


def _create_temporary(directory: str, mode: int) -> tuple[int, str]:
    """A new file beside the target, opened for writing with ``mode`` (less the umask)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        name = os.path.join(directory, f".kimi-fann-{secrets.token_hex(8)}.tmp")
        try:
            return os.open(name, flags, mode), name
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name in {directory}")


def write_atomic(path: PathLike, data: bytes) -> None:
    """Write data to path so that a crash never leaves a partial file in its place.

    The bytes go to a temporary file in the same directory, which is flushed to disk and then
    renamed over the target (an atomic replacement on POSIX and Windows). The file gets the
    permissions ``open(path, "wb")`` would give it: an existing file's, else 0o666 less the umask.
    """
    target = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(target))
    try:
        existing: int | None = stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        existing = None
    try:
        fd, tmp = _create_temporary(directory, 0o666 if existing is None else existing)
    except OSError as exc:
        raise FileError(f"{target}: cannot write: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if existing is not None:
            os.chmod(tmp, existing)  # os.open applied the umask to it
        os.replace(tmp, target)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise FileError(f"{target}: cannot write: {exc.strerror or exc}") from exc
        raise
