"""bench/without_avx512.py: a command run through it sees no AVX-512, AVX-VNNI or AMX in what
``cpuid`` reports (kimi-fann and numpy then choose their AVX2 kernels), and faults that are not
``cpuid`` end the process as they would have."""

from __future__ import annotations

import json
import platform
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import kimi_fann as kf


def _cpuid_faulting() -> bool:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            return any(line.startswith("flags") and "cpuid_fault" in line.split() for line in info)
    except OSError:
        return False


TOOL = Path(__file__).resolve().parent / "without_avx512.py"
pytestmark = pytest.mark.skipif(
    sys.platform != "linux" or platform.machine() != "x86_64" or not _cpuid_faulting()
    or not (shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")),
    reason="CPUID faulting of Linux x86-64 and a C compiler")


def _child(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(TOOL), sys.executable, *args], capture_output=True, text=True,
                          timeout=120)


def test_kimi_fann_sees_an_avx2_machine() -> None:
    done = _child("-c", "import json, kimi_fann as kf; print(json.dumps(kf.simd_info()))")
    assert done.returncode == 0, done.stderr
    info, here = json.loads(done.stdout), kf.simd_info()
    assert info["built"] == here["built"]
    assert info["supported"] == [p for p in here["supported"] if p in ("scalar", "avx2")]
    assert info["active"] == ("avx2" if "avx2" in here["supported"] else "scalar")


def test_numpy_and_every_child_process_see_it_too() -> None:
    # a child of the child is exec'd: the library is preloaded into it again
    inner = ("from numpy._core._multiarray_umath import __cpu_features__ as f; "
             "print(f['AVX512F'], f['AVX512_SKX'], f['AVX2'], f['FMA3'])")
    script = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {inner!r}], check=True)"
    from numpy._core._multiarray_umath import __cpu_features__ as here
    done = _child("-c", script)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False", str(here["AVX2"]), str(here["FMA3"])]


def test_a_program_handler_for_faults_does_not_displace_it() -> None:
    # faulthandler installs its SIGSEGV handler at start-up; numpy and kimi-fann read cpuid after
    done = _child("-X", "faulthandler", "-c", "import json, numpy, kimi_fann as kf; print(kf.simd_info()['active'])")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ("avx2" if "avx2" in kf.simd_info()["supported"] else "scalar")


def test_other_faults_still_end_the_process() -> None:
    crash = "import ctypes; ctypes.string_at(0)"
    plain = _child("-c", crash)
    assert plain.returncode == -signal.SIGSEGV
    with_handler = _child("-X", "faulthandler", "-c", crash)  # the program's own handler runs first
    assert with_handler.returncode == -signal.SIGSEGV
    assert "Segmentation fault" in with_handler.stderr


def test_without_a_command_it_prints_its_usage() -> None:
    done = subprocess.run([sys.executable, str(TOOL)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "usage: python bench/without_avx512.py" in done.stderr
