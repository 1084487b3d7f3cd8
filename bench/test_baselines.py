"""The stored baselines (bench/baselines) are pytest-benchmark's storage format: summary
statistics per benchmark. A --benchmark-json file also keeps every round's time and weighs tens
of megabytes; save baselines with --benchmark-storage=bench/baselines --benchmark-autosave."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

BASELINES = sorted((Path(__file__).resolve().parent / "baselines").glob("*/*.json"))


def test_there_are_baselines() -> None:
    assert BASELINES


@pytest.mark.parametrize("path", BASELINES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_baseline_holds_statistics_only(path: Path) -> None:
    assert path.stat().st_size < 1_000_000
    for bench in json.loads(path.read_text())["benchmarks"]:
        assert "data" not in bench["stats"] and bench["stats"]["rounds"] > 0, bench["name"]
