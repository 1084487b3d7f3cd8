"""The scripts in examples/ run as a user would run them and print what the guides promise."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
if not EXAMPLES.is_dir():  # an sdist or wheel test run without the examples
    pytest.skip("examples/ is not next to tests/", allow_module_level=True)


def run(script: str, *args: str) -> str:
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    done = subprocess.run([sys.executable, str(EXAMPLES / script), *args], capture_output=True, text=True,
                          timeout=300, env=env, cwd=EXAMPLES.parent)
    assert done.returncode == 0, f"{script} failed:\n{done.stdout}\n{done.stderr}"
    assert done.stderr == "", done.stderr
    return done.stdout


def number(pattern: str, text: str) -> float:
    match = re.search(pattern, text)
    assert match is not None, f"{pattern!r} not in:\n{text}"
    return float(match.group(1))


def test_quickstart(tmp_path: Path) -> None:
    out = run("quickstart.py", "--epochs", "60", "--out", str(tmp_path))
    assert "384 training and 384 test pairs" in out
    assert number(r"test accuracy (\d+\.\d)%", out) > 65  # the diabetes set's majority class is 65%
    assert "reloaded outputs identical: True" in out
    assert number(r"max \|Q8 - float\| on test (\d\.\d+)", out) < 0.1
    assert (tmp_path / "diabetes.net").read_text().startswith("FANN_FLO_2.1\n")
    assert (tmp_path / "diabetes.kfn").read_bytes()[:4] == b"KFN\x00"


def test_fann_migration() -> None:
    out = run("fann_migration.py")
    assert "loaded xor_float.net: layers [2, 3, 1], 13 connections" in out
    assert "failed bits 0" in out
    # libfann's own outputs for this file (fann_run), to the printed precision
    assert "run([-1.0, 1.0]) = [0.97415602207" in out
    assert "header FANN_FLO_2.1" in out
    assert "xor_fixed.net (written by libfann): decimal point 13" in out
    signs = re.search(r"run_raw \(integers, as libfixedfann's fann_run\): \[(.*?)\]", out)
    assert signs is not None and [int(v) > 0 for v in signs.group(1).split(",")] == [False, True, True, False]


def test_fann_migration_own_files(tmp_path: Path) -> None:
    import kimi_fann as kf

    data = kf.TrainingData([[0, 0], [0, 1], [1, 0], [1, 1]], [[0], [1], [1], [0]])
    data.save(tmp_path / "mine.data")
    kf.Network([2, 4, 1], seed=3).save(tmp_path / "mine.net")
    out = run("fann_migration.py", str(tmp_path / "mine.net"), str(tmp_path / "mine.data"))
    assert "loaded mine.net: layers [2, 4, 1]" in out and "loaded mine.data: 4 pairs" in out


def test_fixed_point() -> None:
    out = run("fixed_point.py", "--epochs", "40")
    rows = dict(re.findall(r"^(FANN fixed point|Q8 \(uint8 x int8\)|Q16, int8 weights|Q16, int16 weights)\s+\S+\s+"
                           r"([\d.]+)%", out, re.M))
    assert len(rows) == 4 and all(float(v) > 90 for v in rows.values()), out
    assert number(r"Q16, int16 weights\s+q16\s+[\d.]+%\s+(\S+)", out) < 1e-2
    assert "identical integers on scalar" in out and out.split("identical integers on ")[1].split(": ")[1].startswith("True")
    assert number(r"accumulator headroom ([\d.]+)x", out) >= 1


def test_mixture() -> None:
    out = run("mixture.py", "--epochs", "60")
    moe = number(r"mixture of 4 experts \(top-1\) (\d\.\d+)", out)
    single = number(r"one network as large as one expert (\d\.\d+)", out)
    assert moe < single
    before = number(r"max/mean load (\d+\.\d+) before", out)
    after = number(r"(\d+\.\d+) after 200 update_bias steps", out)
    assert after < before
    raw = number(r"\.kfn raw\s+(\d+) bytes", out)
    q4 = number(r"\.kfn q4, groups of 16\s+(\d+) bytes", out)
    assert q4 < raw / 3
