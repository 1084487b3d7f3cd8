"""The scripts in examples/ run as a user would run them and print what the guides promise."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from consolescript import kimi_fann_command

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
if not EXAMPLES.is_dir():  # an sdist or wheel test run without the examples
    pytest.skip("examples/ is not next to tests/", allow_module_level=True)


def run(script: str, *args: str) -> str:
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    done = subprocess.run([sys.executable, str(EXAMPLES / script), *args], capture_output=True, text=True,
                          timeout=300, env=env, cwd=EXAMPLES.parent)
    assert done.returncode == 0, f"{script} failed:\n{done.stdout}\n{done.stderr}"
    stderr = without_heartbeat_race(done.stderr)
    assert stderr == "", stderr
    return done.stdout


#: A log record's first line, as distributed formats it: "2026-12-06 22:11:11,616 - logger - LEVEL - ".
LOG_RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} - ", re.MULTILINE)


def without_heartbeat_race(stderr: str) -> str:
    """stderr without distributed's report of a worker heartbeat cut short by the worker's own
    shutdown (the worker closes its connections while a heartbeat waits for the scheduler's
    reply; seen when the machine is slow, as under the sanitizers). Every other line stays."""
    starts = [m.start() for m in LOG_RECORD.finditer(stderr)]
    kept = stderr[: starts[0]] if starts else stderr
    for start, end in zip(starts, starts[1:] + [len(stderr)]):
        record = stderr[start:end]
        head, _, rest = record.partition("\n")
        race = (head.endswith(" - distributed.worker - ERROR - Failed to communicate with scheduler during heartbeat.")
                and "CommClosedError: in <TCP (closed) ConnectionPool.heartbeat_worker " in rest
                and rest.rstrip().endswith("Stream is closed"))
        if not race:
            kept += record
    return kept


def test_only_the_heartbeat_race_is_dropped() -> None:
    race = ("2026-12-06 22:11:11,616 - distributed.worker - ERROR - Failed to communicate with scheduler during "
            "heartbeat.\nTraceback (most recent call last):\n  File \"tcp.py\", line 226, in read\n"
            "tornado.iostream.StreamClosedError: Stream is closed\n\ndistributed.comm.core.CommClosedError: in <TCP "
            "(closed) ConnectionPool.heartbeat_worker local=tcp://127.0.0.1:1 remote=tcp://127.0.0.1:2>: Stream is "
            "closed\n")
    other = "2026-12-06 22:11:12,001 - distributed.nanny - WARNING - Restarting worker\n"
    warning = "example.py:3: DeprecationWarning: old\n"
    assert without_heartbeat_race(race) == ""
    assert without_heartbeat_race(warning + race + other) == warning + other
    assert without_heartbeat_race(race.replace("heartbeat_worker", "gather")) == race.replace("heartbeat_worker", "gather")


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
    wide = number(r"one network as large as the mixture \(\d+ weights against \d+\) (\d\.\d+)", out)
    assert moe < single and moe < wide
    before = number(r"max/mean load (\d+\.\d+) before", out)
    after = number(r"(\d+\.\d+) after 200 update_bias steps", out)
    assert after < before
    raw = number(r"\.kfn raw\s+(\d+) bytes", out)
    q8 = number(r"\.kfn q8, groups of 64\s+(\d+) bytes", out)
    assert q8 < raw / 2
    assert re.search(r"\.kfn q4, groups of 8(\s+\d+ bytes|: refused \(compress='q4' would change)", out)


def test_distill_digits(tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    pytest.importorskip("matplotlib")
    out = run("distill_digits.py", "--out", str(tmp_path))
    ratios = [float(v) for v in re.findall(r"\(1/(\d+\.\d) of the teacher\)", out)]
    assert len(ratios) == 2 and min(ratios) >= 20, out
    agreements = [float(v) for v in re.findall(r"float \d\.\d+, q8 (\d\.\d+)", out)]
    assert len(agreements) == 2 and min(agreements) >= 0.9, out
    assert "one student (FixedNetwork)" in out and "six experts, top 3 (MixtureOfExperts)" in out
    assert "reloaded mixture gives the same outputs: True" in out
    from kimi_fann import analyzer

    report = analyzer.load_report(tmp_path / "digits-experts.json")
    assert report.n_experts == 6 and sum(report.router_load) == 3 * report.held_out
    for name in ("one-student.svg", "digits-experts-distillation.png", "digits-experts-load.png"):
        assert (tmp_path / name).stat().st_size > 1000, name


def test_analyze_and_plot(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    out = run("analyze_and_plot.py", "--epochs", "60", "--out", str(tmp_path))
    q8 = number(r"Q8: .* output SQNR (-?\d+\.\d) dB", out)
    q16 = number(r"Q16: .* output SQNR (-?\d+\.\d) dB", out)
    assert q16 > q8 > 10, out
    assert number(r"Q16: .* test accuracy (\d\.\d+)", out) > 0.9
    assert "reloaded the Q8 report: q8, 3 layers" in out
    svg = (tmp_path / "thyroid-q8-sqnr.svg").read_bytes()
    assert svg.startswith(b"<?xml") and b"<svg" in svg
    run("analyze_and_plot.py", "--epochs", "60", "--out", str(tmp_path / "again"))
    assert (tmp_path / "again" / "thyroid-q8-sqnr.svg").read_bytes() == svg  # same bytes at every run


def test_dask_scoring(tmp_path: Path) -> None:
    """Run while port 8787 (Dask's default for the scheduler's HTTP server) is taken, as it is
    when another cluster runs on the machine: the example must not depend on it being free."""
    for package in ("dask.dataframe", "distributed", "pyarrow"):
        pytest.importorskip(package)
    with socket.socket() as taken:
        try:
            taken.bind(("", 8787))
            taken.listen()
        except OSError:
            pass  # taken already
        out = run("dask_scoring.py", "--rows", "100000", "--part-rows", "25000", "--out", str(tmp_path), "--compare")
    assert "wrote 100,000 rows in 4 Parquet parts" in out
    assert "fitted 4 experts on 50,000 rows as cluster tasks" in out
    assert "scored 100,000 rows in" in out and "first part identical to a local run: True" in out
    assert number(r"mean squared error over all rows: (\d\.\d+)", out) < 0.25 * number(r"variance: (\d\.\d+)", out)
    peaks = [float(v) for v in re.findall(r"(\d+) MiB", out.split("peak RSS per worker: ")[1].split("(")[0])]
    assert len(peaks) == 2 and max(peaks) < 1024  # the workers' memory limit
    assert re.search(r"100,000 rows: one local thread [\d.]+ s, 2 workers [\d.]+ s: [\d.]+x; identical: True", out)
    assert len(list((tmp_path / "scores").glob("*.parquet"))) == 4


def test_command_line(tmp_path: Path) -> None:
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash")
    env = {**os.environ, "PYTHONWARNINGS": "error", "PYTHON": sys.executable,
           "KIMI_FANN": " ".join(kimi_fann_command())}  # word-split by the script
    done = subprocess.run([bash, str(EXAMPLES / "command_line.sh"), str(tmp_path), "60"], capture_output=True,
                          text=True, timeout=600, env=env)
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    out = done.stdout
    for command in ("info", "train", "run", "quantize", "convert", "analyze", "distill", "route", "bench"):
        assert f"$ kimi-fann {command} " in out or f"$ kimi-fann {command}\n" in out, command
    assert number(r"test MSE [\d.]+, accuracy (\d+\.\d)%", out) > 90
    assert "distilled kimi-fann Network 21-32-3" in out and "load per expert:" in out
    import kimi_fann as kf

    test = kf.TrainingData.load(tmp_path / "thyroid.test")
    float_outputs = np.load(tmp_path / "float.npy")
    assert np.array_equal(float_outputs, kf.Network.load(tmp_path / "thyroid.net").run(test.inputs))
    assert isinstance(kf.load(tmp_path / "experts.kfn"), kf.MixtureOfExperts)
    assert (tmp_path / "thyroid.onnx").stat().st_size > 0 and (tmp_path / "thyroid-q4.kfn").stat().st_size > 0


def test_wasm_node(tmp_path: Path) -> None:
    """The JS example gives the integers of the native engine (Q8 experts, int8 router gates)."""
    import json

    import kimi_fann as kf

    node = shutil.which("node")
    # KFANN_WASM, else what sh js/build.sh or .ci/run's wasm32 build of the core left
    candidates = [os.environ.get("KFANN_WASM", ""), EXAMPLES.parent / "js" / "kfann.wasm",
                  EXAMPLES.parent / "build" / "ci-core-wasm32" / "kfann.wasm"]
    wasm = next((Path(c) for c in candidates if c and Path(c).is_file()), None)
    if node is None or wasm is None:
        pytest.skip("needs Node.js and a wasm32 build of the core (sh js/build.sh)")
    rng = np.random.default_rng(7)
    x = rng.normal(size=(200, 12)).astype(np.float32)
    experts = [kf.Network([12, 16, 4], seed=i).quantize(calibration=x) for i in range(5)]
    router = kf.Router(rng.normal(size=(5, 12)), top_k=2, scoring="sigmoid", gate_bits=8)
    moe = kf.MixtureOfExperts(router, experts)
    kf.save(tmp_path / "moe.kfn", moe, compress="deflate")
    (tmp_path / "x.json").write_text(json.dumps(x[:20].tolist()))
    want, chosen, weights = moe.run(x[:20], return_routes=True, simd="scalar")
    for simd in ("scalar", "wasm"):
        done = subprocess.run([node, str(EXAMPLES / "wasm_node.mjs"), str(tmp_path / "moe.kfn"),
                               str(tmp_path / "x.json"), "--simd", simd], capture_output=True, text=True,
                              timeout=120, env={**os.environ, "KFANN_WASM": str(wasm)})
        assert done.returncode == 0, done.stderr
        got = json.loads(done.stdout)
        assert got["simd"] == simd and got["model"] == "Mixture"
        assert np.array_equal(np.array(got["output"], dtype=np.float32), want)
        assert np.array_equal(np.array(got["experts"]), chosen)
        assert np.array_equal(np.array(got["weights"], dtype=np.float32), weights)


def test_cascade() -> None:
    out = run("cascade.py", "--epochs", "300")
    assert "two-spiral: 193 training and 193 test pairs, 2 inputs, 1 output" in out
    grown = re.search(r"cascade, (\d+) neurons grown +(\d+) +(\d+) +(\d\.\d+)", out)
    assert grown is not None, out
    assert 1 <= int(grown.group(1)) <= 30 and float(grown.group(4)) < 0.01  # it fits the training spirals
    assert out.count("fixed 2-") == 3 and "neuron  1: " in out
