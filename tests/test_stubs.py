"""The hand-written stubs of the compiled core match it (mypy's stubtest)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def test_core_stubs_match_the_extension() -> None:
    pytest.importorskip("mypy.stubtest")
    allowlist = Path(__file__).parent / "stubtest-allowlist.txt"
    result = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "kimi_fann._core", "--allowlist", str(allowlist)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
