"""Summarise a pytest-benchmark JSON file as speed ratios against kimi-fann.

usage: python bench/report.py bench.json

For each group (one operation, shape and batch), prints every engine's median time and how
many times slower than kimi-fann it is (above 1: kimi-fann is faster). The reference is
kimi-fann's Q8 engine in int8 groups and its float network elsewhere.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict


def main(path: str) -> int:
    with open(path) as f:
        runs = json.load(f)["benchmarks"]
    groups: dict[str, dict[str, float]] = defaultdict(dict)
    for run in runs:
        groups[run["group"]][run["extra_info"]["engine"]] = run["stats"]["median"]
    for group in sorted(groups):
        times = groups[group]
        ours = times.get("kimi_fann_q8", times.get("kimi_fann_int8", times.get("kimi_fann")))
        print(group)
        for engine, median in sorted(times.items(), key=lambda kv: kv[1]):
            ratio = f"{median / ours:6.2f}x kimi-fann" if ours else ""
            print(f"  {engine:17s} {median * 1e6:12.1f} us  {ratio}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
