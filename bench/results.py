"""One benchmark result file read into typed values: the median time of each engine in each
group, the work it recorded, and the peaks of the run's SIMD path. Shared by ``bench/report.py``
(ratios over repeated runs) and ``docs/_ext/benchfigures.py`` (the tables of the docs).

>>> run = read_run("bench.json")                                       # doctest: +SKIP
>>> case = run.groups["int8 B 256-256-256-32 b4096"]["kimi_fann_q8"]   # doctest: +SKIP
>>> run.rate(case)                                                     # doctest: +SKIP
Rate(gmacs=245.1, fraction=0.62)
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The kimi-fann engine a group's ratios are taken against: Q8 in int8 groups (its int8 router
#: in routing groups), the float network elsewhere.
REFERENCE_ENGINES = ("kimi_fann_q8", "kimi_fann_int8", "kimi_fann")

_SAVED_NAME = re.compile(r"^\d+_(?P<name>.+)\.json$")


@dataclass(frozen=True)
class Case:
    """One engine in one group: its median seconds per call and the work it recorded."""

    median: float
    macs: int | None = None  # multiply-accumulates per call
    kind: str | None = None  # the peak it is measured against: "int8", "int16" or "float"
    threads: int = 1


@dataclass(frozen=True)
class Rate:
    """G MAC/s a case reached, and its fraction of its path's peak (None without a peak)."""

    gmacs: float
    fraction: float | None


@dataclass(frozen=True)
class Run:
    """One result file: {group: {engine: Case}}, the SIMD path and its peaks on one thread and
    on two threads at once (files of older runs have only the first)."""

    groups: dict[str, dict[str, Case]]
    simd_path: str | None = None
    peak_gmacs: dict[str, float] = field(default_factory=dict)
    peak_gmacs_2_threads: dict[str, float] = field(default_factory=dict)
    machine: dict[str, Any] = field(default_factory=dict)

    def reference(self, group: str) -> str | None:
        """The engine of ``group`` that the others are compared with (see REFERENCE_ENGINES)."""
        return next((e for e in REFERENCE_ENGINES if e in self.groups.get(group, {})), None)

    def ratio(self, group: str, engine: str) -> float | None:
        """How many times longer ``engine`` takes than the reference (above 1: kimi-fann is faster)."""
        ref = self.reference(group)
        return None if ref is None else self.groups[group][engine].median / self.groups[group][ref].median

    def rate(self, case: Case) -> Rate | None:
        """G MAC/s of a case and its fraction of the peak: a two-thread case against the two
        threads' measured peak, or twice one thread's where the run did not measure it."""
        if not case.macs:
            return None
        gmacs = case.macs / case.median / 1e9
        kind = case.kind or ""
        peak = self.peak_gmacs_2_threads.get(kind) if case.threads == 2 else None
        if peak is None and kind in self.peak_gmacs:
            peak = self.peak_gmacs[kind] * case.threads
        return Rate(gmacs, gmacs / peak if peak else None)


def read_run(path: str | Path) -> Run:
    """Read a ``--benchmark-json`` file or a stored baseline (pytest-benchmark's formats)."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    groups: dict[str, dict[str, Case]] = {}
    for bench in data["benchmarks"]:
        info = bench["extra_info"]
        groups.setdefault(bench["group"], {})[info["engine"]] = Case(
            median=bench["stats"]["median"], macs=info.get("macs"), kind=info.get("kind"),
            threads=info.get("threads", 1))
    machine = data.get("machine_info", {})
    peaks = machine.get("kimi_fann", {})
    return Run(groups, peaks.get("simd_path"), dict(peaks.get("peak_gmacs", {})),
               dict(peaks.get("peak_gmacs_2_threads", {})),
               {**machine, "datetime": data.get("datetime"), "commit": data.get("commit_info", {}).get("id")})


def newest_baselines(folder: Path) -> list[Path]:
    """The newest saved baseline of each machine and path: pytest-benchmark numbers the files of
    a machine folder (``0005_linux-x86_64-amx.json``); files saved under the same name after
    the number are runs of the same path, and the highest number is the newest."""
    newest: dict[tuple[str, str], Path] = {}
    for path in sorted(folder.glob("*/*.json")):
        match = _SAVED_NAME.match(path.name)
        newest[(path.parent.name, match["name"] if match else path.stem)] = path
    return [newest[key] for key in sorted(newest)]
