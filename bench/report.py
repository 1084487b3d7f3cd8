"""Summarise pytest-benchmark JSON files as speed ratios against kimi-fann.

usage: python bench/report.py bench.json [more.json ...]

For each group (one operation, shape and batch), prints every engine's median time and how
many times slower than kimi-fann it is (above 1: kimi-fann is faster). The reference is
kimi-fann's Q8 engine in int8 groups and its float network elsewhere.

With several files (repeated runs of the suite), each ratio is taken within one run and the
median over the runs is printed, with its range: on a shared or virtual machine a run can
fall into a slow spell, and a ratio from a single run then says little.
"""

from __future__ import annotations

import json
import statistics
import sys
from collections import defaultdict


def read(path: str) -> dict[str, dict[str, float]]:
    """{group: {engine: median seconds}} of one result file."""
    with open(path) as f:
        benchmarks = json.load(f)["benchmarks"]
    groups: dict[str, dict[str, float]] = defaultdict(dict)
    for bench in benchmarks:
        groups[bench["group"]][bench["extra_info"]["engine"]] = bench["stats"]["median"]
    return groups


def reference(times: dict[str, float]) -> float | None:
    return times.get("kimi_fann_q8", times.get("kimi_fann_int8", times.get("kimi_fann")))


def main(paths: list[str]) -> int:
    runs = [read(path) for path in paths]
    for group in sorted({g for run in runs for g in run}):
        print(group + (f"  (median of {len(runs)} runs, range of the ratio)" if len(runs) > 1 else ""))
        times: dict[str, list[float]] = defaultdict(list)
        ratios: dict[str, list[float]] = defaultdict(list)
        for run in runs:
            ours = reference(run.get(group, {}))
            for engine, median in run.get(group, {}).items():
                times[engine].append(median)
                if ours:
                    ratios[engine].append(median / ours)
        for engine in sorted(times, key=lambda e: statistics.median(times[e])):
            line = f"  {engine:21s} {statistics.median(times[engine]) * 1e6:12.1f} us"
            if ratios[engine]:
                line += f"  {statistics.median(ratios[engine]):6.2f}x kimi-fann"
                if len(ratios[engine]) > 1:
                    line += f"  ({min(ratios[engine]):.2f}-{max(ratios[engine]):.2f})"
            print(line)
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: python bench/report.py bench.json [more.json ...]")
    sys.exit(main(sys.argv[1:]))
