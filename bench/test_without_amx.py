"""bench/without_amx.py: a command run through it is refused AMX's tile data, as on a machine
without AMX, and kimi-fann there runs every path but AMX."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from pathlib import Path

import pytest

import kimi_fann as kf

TOOL = Path(__file__).resolve().parent / "without_amx.py"
pytestmark = pytest.mark.skipif(sys.platform != "linux" or platform.machine() != "x86_64",
                                reason="a seccomp filter of Linux x86-64")


def _child(script: str) -> str:
    return subprocess.run([sys.executable, str(TOOL), sys.executable, "-c", script], check=True,
                          capture_output=True, text=True, timeout=60).stdout


def test_the_request_for_amx_tile_data_is_refused() -> None:
    script = ("import ctypes; libc = ctypes.CDLL(None, use_errno=True); "
              "print(libc.syscall(158, 0x1023, 18), ctypes.get_errno())")  # arch_prctl(REQ_XCOMP_PERM, XTILEDATA)
    assert _child(script).split() == ["-1", "1"]  # EPERM, whatever the CPU has


def test_kimi_fann_runs_every_path_but_amx() -> None:
    info = json.loads(_child("import json, kimi_fann as kf; print(json.dumps(kf.simd_info()))"))
    here = kf.simd_info()
    assert info["supported"] == [p for p in here["supported"] if p != "amx"]
    assert info["active"] == (here["active"] if here["active"] != "amx" else "avx512")


def test_without_a_command_it_prints_its_usage() -> None:
    done = subprocess.run([sys.executable, str(TOOL)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "usage: python bench/without_amx.py" in done.stderr
