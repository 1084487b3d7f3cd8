"""Summarise pytest-benchmark JSON files as speed ratios against kimi-fann, with the G MAC/s
each case reached and its fraction of the SIMD path's peak.

usage: python bench/report.py bench.json [more.json ...]

For each group (one operation, shape and batch), prints every engine's median time, how many
times slower than kimi-fann it is (above 1: kimi-fann is faster), and, where the benchmark
recorded its work (``extra_info["macs"]``), the multiply-accumulates per second it reached and
the fraction of the peak of the active SIMD path: the rate of a register-only loop of the
instruction that path's kernels use for that kind of product (int8 for Q8 and the peers'
int8 models, int16 for Q16, float for float networks; ``bench/conftest.py`` measures them at
the start and the end of the run, on one thread and on two at once: a two-thread case is
measured against the second). The
reference is kimi-fann's Q8 engine in int8 groups and its float network elsewhere.

With several files (repeated runs of the suite), each ratio is taken within one run and the
median over the runs is printed, with its range: on a shared or virtual machine a run can
fall into a slow spell, and a ratio from a single run then says little.
"""

from __future__ import annotations

import statistics
import sys
from collections import defaultdict

from results import Run, read_run


def median_text(values: list[float], fmt: str) -> str:
    return format(statistics.median(values), fmt) if values else "-"


def main(paths: list[str]) -> int:
    runs: list[Run] = [read_run(path) for path in paths]
    for name, run in zip(paths, runs):
        if run.peak_gmacs:
            kinds = ", ".join(f"{kind} {value:.1f}" for kind, value in run.peak_gmacs.items())
            print(f"{name}: path {run.simd_path}, peak G MAC/s on one thread: {kinds}")
        if run.peak_gmacs_2_threads:
            both = ", ".join(f"{kind} {value:.1f}" for kind, value in run.peak_gmacs_2_threads.items())
            print(f"{name}: peak G MAC/s on two threads at once: {both}")
    print("columns: median time, ratio to kimi-fann, G MAC/s reached, fraction of the path's peak")
    for group in sorted({g for run in runs for g in run.groups}):
        print(group + (f"  (median of {len(runs)} runs, range of the ratio)" if len(runs) > 1 else ""))
        times: dict[str, list[float]] = defaultdict(list)
        ratios: dict[str, list[float]] = defaultdict(list)
        rates: dict[str, list[float]] = defaultdict(list)
        fractions: dict[str, list[float]] = defaultdict(list)
        for run in runs:
            for engine, case in run.groups.get(group, {}).items():
                times[engine].append(case.median)
                if (ratio := run.ratio(group, engine)) is not None:
                    ratios[engine].append(ratio)
                if (rate := run.rate(case)) is not None:
                    rates[engine].append(rate.gmacs)
                    if rate.fraction is not None:
                        fractions[engine].append(rate.fraction)
        for engine in sorted(times, key=lambda e: statistics.median(times[e])):
            line = f"  {engine:21s} {statistics.median(times[engine]) * 1e6:12.1f} us"
            if ratios[engine]:
                line += f"  {statistics.median(ratios[engine]):6.2f}x kimi-fann"
                if len(ratios[engine]) > 1:
                    line += f"  ({min(ratios[engine]):.2f}-{max(ratios[engine]):.2f})"
            if rates[engine]:
                line += f"  {median_text(rates[engine], '8.1f')} G MAC/s"
                line += f"  {median_text([100 * f for f in fractions[engine]], '5.1f')}% of peak"
            print(line)
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: python bench/report.py bench.json [more.json ...]")
    sys.exit(main(sys.argv[1:]))
