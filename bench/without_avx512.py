"""Run a command as on an AVX2 machine (no AVX-512, AVX-VNNI or AMX): Linux x86-64 with CPUID
faulting only (the ``cpuid_fault`` flag of /proc/cpuinfo), and a C compiler.

usage: python bench/without_avx512.py python -m pytest bench --benchmark-json=bench.json

Every engine chooses its kernels from what the ``cpuid`` instruction reports. This builds
``bench/hide_avx512.c`` once (into the user's cache directory), preloads it into the command
and every program that command runs: there, each ``cpuid`` traps and returns the CPU's answer
without the AVX-512, AVX-VNNI and AMX feature bits. kimi-fann then runs its AVX2 path, and
LiteRT's XNNPACK, onnxruntime's MLAS, OpenBLAS and numpy their AVX2 kernels: one run compares
every engine as on an AVX2 machine (Intel Haswell to Comet Lake, AMD Zen 1 to 3), with the AVX2
peak beside them. The C library chose its own string routines before the command starts and
keeps them; nothing else here changes speed.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SOURCE = Path(__file__).resolve().parent / "hide_avx512.c"


def _check_machine() -> None:
    if sys.platform != "linux" or platform.machine() != "x86_64":
        raise SystemExit("without_avx512: Linux x86-64 only")
    with open("/proc/cpuinfo", encoding="utf-8") as info:
        flags = next((line.split(":", 1)[1].split() for line in info if line.startswith("flags")), [])
    if "cpuid_fault" not in flags:
        raise SystemExit("without_avx512: this CPU (or its hypervisor) has no CPUID faulting")


def preload_library() -> Path:
    """The built library, compiled on first use (again whenever its source changes)."""
    code = SOURCE.read_bytes()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "kimi-fann"
    target = cache / f"hide_avx512-{hashlib.sha256(code).hexdigest()[:16]}.so"
    if target.exists():
        return target
    compiler = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if compiler is None:
        raise SystemExit("without_avx512: needs a C compiler (cc, gcc or clang) to build hide_avx512.c")
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as work:
        built = Path(work) / target.name
        done = subprocess.run([compiler, "-O2", "-shared", "-fPIC", "-o", str(built), str(SOURCE), "-ldl"],
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"without_avx512: building {SOURCE.name} failed:\n{done.stderr}")
        os.replace(built, target)
    return target


def main(argv: list[str]) -> None:
    if not argv:
        raise SystemExit(__doc__)
    _check_machine()
    library = str(preload_library())
    preload = os.environ.get("LD_PRELOAD")
    os.environ["LD_PRELOAD"] = f"{library} {preload}" if preload else library
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    main(sys.argv[1:])
