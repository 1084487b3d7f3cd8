"""Atomic writes when the file system refuses: a FileError naming the target, the old file in
place, no temporary file left behind. (Interrupted writes are in test_concurrency.py.)"""

from __future__ import annotations

import os

import pytest

import kimi_fann as kf
from kimi_fann import _io
from kimi_fann.errors import FileError


def test_a_missing_folder_is_named(tmp_path) -> None:
    target = tmp_path / "no" / "such" / "net.net"
    with pytest.raises(FileError, match=f"{target}: cannot write: No such file or directory"):
        kf.Network([2, 1]).save(target)


def test_no_free_temporary_name(tmp_path, monkeypatch) -> None:
    """Every temporary name is taken (here: the generator always draws the same one)."""
    taken = tmp_path / f".kimi-fann-{os.getpid()}-0000.tmp"
    taken.write_bytes(b"someone else's")
    monkeypatch.setattr(_io.secrets, "token_hex", lambda n: "0000")
    monkeypatch.setattr(_io, "_open_unnamed", lambda directory, mode: None)  # a system without O_TMPFILE
    target = tmp_path / "net.net"
    with pytest.raises(FileError, match=f"{target}: cannot write: no free temporary name in {tmp_path}"):
        kf.Network([2, 1]).save(target)
    assert not target.exists() and taken.read_bytes() == b"someone else's"


def test_the_first_error_is_reported_when_cleaning_up_fails_too(tmp_path, monkeypatch) -> None:
    target = tmp_path / "net.net"
    target.write_bytes(b"the old file")

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    def cannot_unlink(path, *args, **kwargs):
        raise OSError(16, "Device or resource busy")

    monkeypatch.setattr(_io.os, "replace", refuse)
    monkeypatch.setattr(_io.os, "unlink", cannot_unlink)
    with pytest.raises(FileError, match=f"{target}: cannot write: Permission denied"):
        kf.Network([2, 1]).save(target)
    monkeypatch.undo()
    assert target.read_bytes() == b"the old file"
    leftovers = [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
    assert len(leftovers) == 1  # the temporary file could not be removed, and the error says why the write failed
