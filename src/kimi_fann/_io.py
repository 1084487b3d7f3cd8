"""Reading files whole and replacing them atomically.

Every save of kimi-fann (``.kfn``, ``.net``, ``.data``, the converters' outputs) goes through
:func:`write_atomic`:

- the bytes go to an unnamed file in the target's directory (Linux ``O_TMPFILE``), flushed to
  disk, given a name and renamed over the target: a writer killed at any point leaves the old
  file in place and, but for the instant between naming and renaming, nothing else;
- where the system has no unnamed files, the temporary file is named
  ``.kimi-fann-<pid>-<random>.tmp``; each save first removes such files whose process is gone
  (those of a killed writer; on systems without POSIX signals, those an hour old), so nothing
  accumulates;
- a symbolic link is written through: its target file is replaced, the link stays a link;
- the file is replaced by a new one: other hard links to the old file keep the old contents;
- the new file gets the old one's permission bits (else ``0o666`` less the umask, as
  ``open(path, "wb")``), and its owner and group when the writer may set them (root, or a group
  the writer belongs to); otherwise the writer's.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
import time
from collections.abc import Callable
from typing import Any, Union

from .errors import FileError

PathLike = Union[str, "os.PathLike[str]"]

_TEMPORARY = re.compile(r"\.kimi-fann-(?:(\d+)-)?[0-9a-f]{16}\.tmp")
#: Temporary files of earlier versions, without a process id, are removed once this old.
_ORPHAN_AGE = 3600.0


def read_bytes(path: PathLike) -> bytes:
    """The file's contents; :class:`FileError` (an ``OSError``) naming it if it cannot be read."""
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        raise FileError(f"{os.fspath(path)}: cannot read: {exc.strerror or exc}") from exc


def _alive(pid: int) -> bool:
    """Whether process pid may still be writing (POSIX; elsewhere os.kill would stop it)."""
    if pid == os.getpid() or os.name != "posix":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # another user's process (or a pid this system cannot hold): leave it
    return True


def remove_stale_temporaries(directory: str) -> int:
    """Remove the temporary files that killed writers left in ``directory``; their count.

    >>> import tempfile
    >>> remove_stale_temporaries(tempfile.mkdtemp())
    0
    """
    removed = 0
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return 0
    for entry in entries:
        match = _TEMPORARY.fullmatch(entry.name)
        if match is None:
            continue
        try:
            if match.group(1) is not None and os.name == "posix":
                stale = not _alive(int(match.group(1)))
            else:  # no pid to ask about (earlier versions, Windows): an hour old is abandoned
                stale = time.time() - entry.stat(follow_symlinks=False).st_mtime > _ORPHAN_AGE
            if stale:
                os.unlink(entry.path)
                removed += 1
        except OSError:
            continue  # another writer removed it first, or it is not ours to remove
    return removed


def _temporary_name(directory: str) -> str:
    return os.path.join(directory, f".kimi-fann-{os.getpid()}-{secrets.token_hex(8)}.tmp")


#: Devices (st_dev) where an unnamed file could not be given a name (some sandboxes and
#: overlay file systems refuse linkat from /proc): named temporary files there.
_NO_UNNAMED: set[int] = set()


def _open_unnamed(directory: str, mode: int) -> int | None:
    """An unnamed file in directory (O_TMPFILE), or None where the system has none."""
    flag = getattr(os, "O_TMPFILE", 0)
    if not flag or not os.path.isdir("/proc/self/fd"):
        return None
    try:
        if os.stat(directory).st_dev in _NO_UNNAMED:
            return None
    except OSError:
        return None
    try:
        return os.open(directory, flag | os.O_WRONLY, mode)
    except OSError:
        return None  # a file system without O_TMPFILE: a named temporary file then


def _open_named(directory: str, mode: int) -> tuple[int, str]:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        name = _temporary_name(directory)
        try:
            return os.open(name, flags, mode), name
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name in {directory}")


def _keep_owner(fd: int, old: os.stat_result | None) -> None:
    if old is None or not hasattr(os, "fchown"):
        return
    try:
        os.fchown(fd, old.st_uid, old.st_gid)
    except OSError:
        try:
            os.fchown(fd, -1, old.st_gid)  # the group alone, if the writer belongs to it
        except OSError:
            pass  # the writer's owner and group then (documented)


def write_atomic(path: PathLike, data: bytes) -> None:
    """Write data to path so that a crash never leaves a partial file in its place, nor a
    temporary file behind (see the module's documentation for links and ownership).

    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> write_atomic(folder / "a.bin", b"one")
    >>> (folder / "link").symlink_to(folder / "a.bin")
    >>> write_atomic(folder / "link", b"two")
    >>> (folder / "link").is_symlink(), (folder / "a.bin").read_bytes()
    (True, b'two')
    """
    target = os.fspath(path)
    if os.path.islink(target):
        target = os.path.realpath(target)  # write through the link
    directory = os.path.dirname(os.path.abspath(target))
    try:
        old: os.stat_result | None = os.stat(target)
    except OSError:
        old = None
    mode = 0o666 if old is None else stat.S_IMODE(old.st_mode)
    remove_stale_temporaries(directory)
    fd = _open_unnamed(directory, mode)
    if fd is not None and not _write(fd, None, target, directory, data, old, mode):
        _NO_UNNAMED.add(os.stat(directory).st_dev)
        fd = None
    if fd is None:
        try:
            fd, tmp = _open_named(directory, mode)
        except OSError as exc:
            raise FileError(f"{target}: cannot write: {exc.strerror or exc}") from exc
        _write(fd, tmp, target, directory, data, old, mode)


def _write(fd: int, tmp: str | None, target: str, directory: str, data: bytes, old: os.stat_result | None,
           mode: int) -> bool:
    """Fill fd, name it (an unnamed file) and rename it over target. False if an unnamed file
    could not be named (nothing written then); FileError for any other failure."""
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            if old is not None:
                if hasattr(os, "fchmod"):
                    os.fchmod(f.fileno(), mode)  # os.open applied the umask to it
                _keep_owner(f.fileno(), old)
            os.fsync(f.fileno())
            if tmp is None:  # name the unnamed file (the only moment a kill leaves one)
                tmp = _temporary_name(directory)
                try:
                    os.link(f"/proc/self/fd/{f.fileno()}", tmp)
                except OSError:
                    return False
        if old is not None and not hasattr(os, "fchmod"):
            os.chmod(tmp, mode)
        os.replace(tmp, target)
        return True
    except BaseException as exc:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        if isinstance(exc, OSError):
            raise FileError(f"{target}: cannot write: {exc.strerror or exc}") from exc
        raise


# ---- the .kfn container, for the models' save methods ----

_CONTAINER: list[Callable[[PathLike, Any], Any]] = []


def register_container(write: Callable[[PathLike, Any], Any]) -> None:
    """Called once by kimi_fann.kfn: the writer that a model's ``save`` uses for ``.kfn`` names
    (the models cannot import the container, which imports them)."""
    _CONTAINER[:] = [write]


def is_container(path: PathLike) -> bool:
    """Whether a save to this path writes the .kfn container (its name ends in ``.kfn``).

    >>> is_container("m.KFN"), is_container("m.net")
    (True, False)
    """
    return os.fspath(path).lower().endswith(".kfn")


def save_container(path: PathLike, model: Any) -> None:
    """Write model to a .kfn file through kimi_fann.kfn.save (raw sections)."""
    _CONTAINER[0](path, model)
