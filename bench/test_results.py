"""bench/results.py and the docs' tables read result files as the benchmarks write them: ratios
against kimi-fann's engine, G MAC/s and the fraction of the path's peak, the newest baseline of
each path."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from results import Case, newest_baselines, read_run

ROOT = Path(__file__).resolve().parent.parent


def write_run(path: Path, peak: float | None = 100.0, peak_2_threads: float | None = None) -> Path:
    def bench(group: str, engine: str, median: float, **info: object) -> dict:
        return {"group": group, "stats": {"median": median, "rounds": 5},
                "extra_info": {"engine": engine, **info}}

    machine = {"system": "Linux", "machine": "x86_64", "cpu": {"brand_raw": "Test CPU", "count": 2}}
    if peak is not None:
        machine["kimi_fann"] = {"simd_path": "avx512", "peak_gmacs": {"int8": peak, "float": peak / 4}}
        if peak_2_threads is not None:
            machine["kimi_fann"]["peak_gmacs_2_threads"] = {"int8": peak_2_threads}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "machine_info": machine, "datetime": "2026-12-05T01:00:00", "commit_info": {"id": "abcdef0123"},
        "benchmarks": [
            bench("int8 B b4096", "kimi_fann_q8", 0.002, macs=100_000_000, kind="int8"),
            bench("int8 B b4096", "litert_int8", 0.003, macs=100_000_000, kind="int8"),
            bench("int8 B b4096 2 threads", "kimi_fann_q8", 0.001, macs=100_000_000, kind="int8", threads=2),
            bench("float B b4096", "kimi_fann", 0.010, macs=100_000_000, kind="float"),
            bench("float B b4096", "numpy", 0.005),
            bench("rprop epoch thyroid", "kimi_fann", 0.0003),
        ]}))
    return path


def test_ratios_rates_and_fractions_of_the_peak(tmp_path: Path) -> None:
    run = read_run(write_run(tmp_path / "run.json"))
    assert run.simd_path == "avx512" and run.peak_gmacs == {"int8": 100.0, "float": 25.0}
    assert run.reference("int8 B b4096") == "kimi_fann_q8"
    assert run.ratio("int8 B b4096", "litert_int8") == pytest.approx(1.5)
    assert run.ratio("float B b4096", "numpy") == pytest.approx(0.5)
    q8 = run.groups["int8 B b4096"]["kimi_fann_q8"]
    assert q8 == Case(median=0.002, macs=100_000_000, kind="int8", threads=1)
    rate = run.rate(q8)
    assert rate is not None and rate.gmacs == pytest.approx(50.0) and rate.fraction == pytest.approx(0.5)
    two = run.rate(run.groups["int8 B b4096 2 threads"]["kimi_fann_q8"])
    assert two is not None and two.gmacs == pytest.approx(100.0) and two.fraction == pytest.approx(0.5)
    float_rate = run.rate(run.groups["float B b4096"]["kimi_fann"])
    assert float_rate is not None and float_rate.fraction == pytest.approx(0.4)
    assert run.rate(run.groups["float B b4096"]["numpy"]) is None  # no work recorded
    no_peaks = read_run(write_run(tmp_path / "old.json", peak=None))
    assert no_peaks.rate(no_peaks.groups["int8 B b4096"]["kimi_fann_q8"]).fraction is None


def test_a_two_thread_case_against_the_two_threads_measured_peak(tmp_path: Path) -> None:
    """Two vCPUs that share a physical core reach about one core's peak together: the two-thread
    case is measured against that, not against twice one thread's."""
    run = read_run(write_run(tmp_path / "run.json", peak_2_threads=125.0))
    assert run.peak_gmacs_2_threads == {"int8": 125.0}
    rate = run.rate(run.groups["int8 B b4096 2 threads"]["kimi_fann_q8"])
    assert rate is not None and rate.fraction == pytest.approx(100.0 / 125.0)
    one = run.rate(run.groups["int8 B b4096"]["kimi_fann_q8"])
    assert one is not None and one.fraction == pytest.approx(0.5)  # one thread: one thread's peak


def test_the_newest_baseline_of_each_path(tmp_path: Path) -> None:
    for name in ("0001_linux-x86_64-avx2", "0002_linux-x86_64-avx2", "0003_linux-x86_64-amx"):
        write_run(tmp_path / "Linux-CPython-3.11-64bit" / f"{name}.json")
    write_run(tmp_path / "Darwin-CPython-3.11-64bit" / "0001_macos-arm64-neon.json")
    assert [f"{p.parent.name}/{p.name}" for p in newest_baselines(tmp_path)] == [
        "Darwin-CPython-3.11-64bit/0001_macos-arm64-neon.json",
        "Linux-CPython-3.11-64bit/0003_linux-x86_64-amx.json",
        "Linux-CPython-3.11-64bit/0002_linux-x86_64-avx2.json",
    ]


def test_the_docs_tables_carry_ratios_and_the_share_of_the_peak(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "docs" / "_ext"))
    try:
        import benchfigures
    finally:
        sys.path.remove(str(ROOT / "docs" / "_ext"))
    run = read_run(write_run(tmp_path / "run.json"))
    lines = benchfigures.table(run, ("int8",)).splitlines()
    assert lines[0] == "| benchmark | kimi-fann Q8 | LiteRT int8 | kimi-fann G MAC/s (of peak) |"
    assert lines[2] == "| int8 B b4096 | **2.00 ms** | 3.00 ms (1.50×) | 50.0 (50%) |"
    assert lines[3] == "| int8 B b4096 2 threads | **1.00 ms** |  | 100.0 (50%) |"
    assert benchfigures.table(run, ("rprop",)).splitlines()[0] == "| benchmark | kimi-fann float |"
