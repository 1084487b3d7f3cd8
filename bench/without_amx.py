"""Run a command as on an AVX-512 VNNI machine without AMX: Linux x86-64 only.

usage: python bench/without_amx.py python -m pytest bench --benchmark-json=bench.json

On Linux a process may use AMX's tile data only after it asks for it
(``arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA)``). This installs a seccomp filter that
refuses that request (EPERM), as a kernel or CPU without AMX would, then runs the command: the
filter is inherited by every thread and child, and cannot be lifted. kimi-fann then runs its
AVX-512 VNNI path, and so do the peers that would otherwise use AMX on this machine (LiteRT's
XNNPACK kernels, onnxruntime's MLAS): one run compares every engine as on a VNNI machine such
as AMD's Zen 4, with the VNNI peak beside them. AVX-512 itself stays visible.
"""

from __future__ import annotations

import ctypes
import os
import platform
import struct
import sys

PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
SYS_ARCH_PRCTL, ARCH_REQ_XCOMP_PERM, AUDIT_ARCH_X86_64 = 158, 0x1023, 0xC000003E
RET_ALLOW, RET_EPERM = 0x7FFF0000, 0x00050000 | 1  # SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO | EPERM
LD_ABS, JEQ, RET = 0x20, 0x15, 0x06  # BPF_LD|BPF_W|BPF_ABS, BPF_JMP|BPF_JEQ|BPF_K, BPF_RET|BPF_K
# struct seccomp_data: nr at byte 0, arch at 4, args[0] (its low half, little-endian) at 16
FILTER = [
    (LD_ABS, 0, 0, 4),
    (JEQ, 0, 5, AUDIT_ARCH_X86_64),  # another ABI's call: allowed
    (LD_ABS, 0, 0, 0),
    (JEQ, 0, 3, SYS_ARCH_PRCTL),
    (LD_ABS, 0, 0, 16),
    (JEQ, 0, 1, ARCH_REQ_XCOMP_PERM),
    (RET, 0, 0, RET_EPERM),
    (RET, 0, 0, RET_ALLOW),
]


class _Program(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]


def deny_amx() -> None:
    """Refuse this process's (and its children's) requests for AMX tile data from now on."""
    if sys.platform != "linux" or platform.machine() != "x86_64":
        raise SystemExit("without_amx: Linux x86-64 only")
    code = b"".join(struct.pack("<HBBI", *instruction) for instruction in FILTER)
    program = _Program(len(FILTER), code)
    libc = ctypes.CDLL(None, use_errno=True)
    for args in ((PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), (PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(program), 0, 0)):
        if libc.prctl(*args) != 0:
            raise SystemExit(f"without_amx: prctl failed: {os.strerror(ctypes.get_errno())}")


def main(argv: list[str]) -> None:
    if not argv:
        raise SystemExit(__doc__)
    deny_amx()
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    main(sys.argv[1:])
