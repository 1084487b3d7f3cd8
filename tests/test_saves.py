"""Saves: a killed writer leaves nothing behind, links and ownership behave as documented
(kimi_fann._io)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
import pytest

import kimi_fann as kf
from kimi_fann import _io
from kimi_fann.errors import FileError

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals and links")

_KILLER = r"""
import os, random, signal, sys, time
import numpy as np
import kimi_fann as kf
target, kills = sys.argv[1], int(sys.argv[2])
model = kf.MixtureOfExperts(kf.Router(np.eye(8, 64), top_k=2), [kf.Network([64, 128, 64], seed=i) for i in range(8)])
kf.save(target, model)
rng = random.Random(7)
for _ in range(kills):
    pid = os.fork()
    if pid == 0:
        while True:
            kf.save(target, model)
    time.sleep(rng.uniform(0.0, 0.03))
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
print(len([n for n in os.listdir(os.path.dirname(target)) if n.startswith(".kimi-fann-")]))
"""


def test_killed_saves_leave_no_files_and_an_intact_target(tmp_path) -> None:
    target = tmp_path / "model.kfn"
    out = subprocess.run([sys.executable, "-c", _KILLER, str(target), "100"], capture_output=True, text=True,
                         timeout=300, check=True)
    left_before_next_save = int(out.stdout)
    assert left_before_next_save <= 2  # only a kill between naming and renaming leaves one
    model = kf.load(target)  # intact
    assert isinstance(model, kf.MixtureOfExperts) and len(model.experts) == 8
    kf.save(target, kf.Network([2, 1]))  # the next save removes what dead writers left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.kfn"]


def test_named_temporaries_of_dead_writers_are_removed(tmp_path, monkeypatch) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / f".kimi-fann-{dead.pid}-{'a' * 16}.tmp").write_bytes(b"half")
    (tmp_path / f".kimi-fann-{os.getpid()}-{'b' * 16}.tmp").write_bytes(b"ours, in progress")
    old = tmp_path / f".kimi-fann-{'c' * 16}.tmp"  # earlier versions: no pid, removed once an hour old
    old.write_bytes(b"old")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    (tmp_path / f".kimi-fann-{'d' * 16}.tmp").write_bytes(b"recent")
    (tmp_path / ".kimi-fann-notes.txt").write_bytes(b"not ours")
    monkeypatch.setattr(_io, "_open_unnamed", lambda directory, mode: None)  # systems without O_TMPFILE
    kf.save(tmp_path / "m.kfn", kf.Network([2, 1]))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f".kimi-fann-{os.getpid()}-{'b' * 16}.tmp", f".kimi-fann-{'d' * 16}.tmp", ".kimi-fann-notes.txt", "m.kfn"])
    assert kf.load(tmp_path / "m.kfn").layers == (2, 1)
    assert _io.remove_stale_temporaries(str(tmp_path / "missing")) == 0


def test_named_temporary_is_removed_when_the_rename_fails(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(_io, "_open_unnamed", lambda directory, mode: None)
    monkeypatch.setattr(os, "replace", lambda *a: (_ for _ in ()).throw(OSError(28, "No space left on device")))
    with pytest.raises(FileError, match=r"m\.kfn: cannot write: No space left on device"):
        kf.save(tmp_path / "m.kfn", kf.Network([2, 1]))
    assert list(tmp_path.iterdir()) == []


def test_symlink_is_written_through(tmp_path) -> None:
    real = tmp_path / "models" / "net.kfn"
    real.parent.mkdir()
    kf.save(real, kf.Network([2, 1], seed=1))
    link = tmp_path / "current.kfn"
    link.symlink_to(real)
    kf.save(link, kf.Network([3, 1], seed=2))
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert kf.load(real).layers == (3, 1)
    assert [p.name for p in real.parent.iterdir()] == ["net.kfn"]


def test_hard_link_keeps_the_old_contents(tmp_path) -> None:
    first = tmp_path / "a.kfn"
    kf.save(first, kf.Network([2, 1], seed=1))
    other = tmp_path / "b.kfn"
    os.link(first, other)
    kf.save(first, kf.Network([4, 1], seed=1))
    assert kf.load(first).layers == (4, 1) and kf.load(other).layers == (2, 1)
    assert first.stat().st_nlink == 1


def test_owner_and_group_kept_when_allowed(tmp_path, monkeypatch) -> None:
    path = tmp_path / "m.net"
    kf.Network([2, 1]).save(path)
    calls = []

    def fchown(fd: int, uid: int, gid: int) -> None:
        calls.append((uid, gid))
        if uid != -1:
            raise PermissionError(1, "Operation not permitted")
    monkeypatch.setattr(os, "fchown", fchown)
    kf.Network([2, 1]).save(path)
    st = path.stat()
    assert calls == [(st.st_uid, st.st_gid), (-1, st.st_gid)]

    def refuse(fd: int, uid: int, gid: int) -> None:
        raise PermissionError(1, "Operation not permitted")
    monkeypatch.setattr(os, "fchown", refuse)
    kf.Network([2, 1]).save(path)  # the writer's owner then: still saved
    assert kf.load(path).layers == (2, 1)


def test_unnamed_file_unavailable_falls_back(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(os, "open", _refuse_tmpfile(os.open))
    kf.save(tmp_path / "m.kfn", kf.Router(np.eye(2), top_k=1))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.kfn"]


def _refuse_tmpfile(real_open):  # type: ignore[no-untyped-def]
    def fake(path, flags, mode=0o777):  # type: ignore[no-untyped-def]
        if flags & getattr(os, "O_TMPFILE", 0) == getattr(os, "O_TMPFILE", -1):
            raise OSError(95, "Operation not supported")
        return real_open(path, flags, mode)
    return fake


def test_alive_checks(monkeypatch) -> None:
    assert _io._alive(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not _io._alive(child.pid)

    def not_ours(pid: int, sig: int) -> None:
        raise PermissionError(1, "Operation not permitted")
    monkeypatch.setattr(os, "kill", not_ours)
    assert _io._alive(child.pid)  # another user's process: its files are left alone


def test_stale_files_that_cannot_be_removed_are_skipped(tmp_path, monkeypatch) -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    stale = tmp_path / f".kimi-fann-{child.pid}-{'e' * 16}.tmp"
    stale.write_bytes(b"x")
    monkeypatch.setattr(os, "unlink", lambda path: (_ for _ in ()).throw(PermissionError(13, "Permission denied")))
    assert _io.remove_stale_temporaries(str(tmp_path)) == 0 and stale.exists()
    monkeypatch.undo()
    assert _io.remove_stale_temporaries(str(tmp_path)) == 1 and not stale.exists()


def test_without_o_tmpfile_or_proc(tmp_path, monkeypatch) -> None:
    monkeypatch.delattr(os, "O_TMPFILE", raising=False)
    assert _io._open_unnamed(str(tmp_path), 0o644) is None
    monkeypatch.undo()
    assert _io._open_unnamed(str(tmp_path / "missing"), 0o644) is None


def test_without_posix_signals_only_old_files_are_removed(tmp_path, monkeypatch) -> None:
    """On Windows os.kill(pid, 0) would stop the process: age decides there instead."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    recent = tmp_path / f".kimi-fann-{child.pid}-{'f' * 16}.tmp"
    old = tmp_path / f".kimi-fann-{child.pid}-{'0' * 16}.tmp"
    for path in (recent, old):
        path.write_bytes(b"x")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    monkeypatch.setattr(os, "name", "nt")
    assert _io._alive(child.pid)
    assert _io.remove_stale_temporaries(str(tmp_path)) == 1
    assert recent.exists() and not old.exists()
