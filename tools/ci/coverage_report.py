"""Coverage tables and the floor CI holds (issue 20), from coverage.py's JSON report and gcovr's
JSON reports (tools/ci/coverage.sh writes them).

    python tools/ci/coverage_report.py --python build/coverage/python.json \
        --c build/coverage/c.json --c-lines build/coverage/c-lines.json

Prints, per language, one row per file: lines (covered/total, %), branches (covered/total, %)
and the lines not covered; a file below the per-file floor is marked "<", a file outside the
floor "-". Exits 1 when a floor is not held: at least TOTAL_FLOOR% of the lines of the files
that count, and no file that counts below FILE_FLOOR%. What does not count:

- Python: the optional integrations (their libraries are optional extras, SPEC section 2);
- C: the SIMD files of the paths this CPU cannot run (known from kimi_fann.simd_info(); the
  paths of other architectures are not even built here), and in a header that several SIMD
  files include (fann_dispatch.h) the lines of those paths' instances (their functions end in
  the path's name, as kf_fann_activate_avx512 does).

Nothing else is left out: the C core has no exclusion markers, and the package one ``# pragma:
no cover`` (analyzer/convert.py: the raise after the ONNX exporter has matched every one of
the twenty activations, unreachable while the list is complete).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

TOTAL_FLOOR = 95.0
FILE_FLOOR = 90.0

#: Python files outside the floor: the integrations with optional libraries.
PY_OPTIONAL = {"src/kimi_fann/sklearn.py": "scikit-learn integration (optional extra)",
               "src/kimi_fann/dask.py": "Dask integration (optional extra)"}

#: The SIMD path a C file's kernels belong to, from its name's last part when that names a path
#: of kimi_fann.simd.PATHS (q_avx2.c, fann_avx512.c, q_amx.c; not exp_glibc.c).
SIMD_FILE = re.compile(r"csrc/simd/\w+_([a-z0-9]+)\.c$")


def pct(covered: int, total: int) -> float:
    return 100.0 * covered / total if total else 100.0


def ranges(lines: list[int]) -> str:
    """[1, 2, 3, 7, 9, 10] -> '1-3, 7, 9-10'."""
    spans: list[list[int]] = []
    for n in sorted(lines):
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


class Row:
    def __init__(self, name: str, lines: tuple[int, int], branches: tuple[int, int], missing: str = "",
                 outside: str = "") -> None:
        self.name, self.lines, self.branches, self.missing, self.outside = name, lines, branches, missing, outside

    @property
    def line_pct(self) -> float:
        return pct(*self.lines)


def python_rows(report: dict) -> list[Row]:
    rows = []
    for name, data in sorted(report["files"].items()):
        s = data["summary"]
        rows.append(Row(name, (s["covered_lines"], s["num_statements"]),
                        (s.get("covered_branches", 0), s.get("num_branches", 0)),
                        ranges(data["missing_lines"]), PY_OPTIONAL.get(name, "")))
    return rows


#: The SIMD path of a function, from its name's last part (kf_fann_activate_avx512).
SIMD_FUNCTION = re.compile(r"_([a-z0-9]+)$")


class CLines:
    """Per file, from gcovr's full JSON report: the lines gcov saw no run of, and (covered,
    total) counted once per line, a line of a header run when any instance that counts ran it;
    the instances of a path this CPU cannot run do not count."""

    def __init__(self, lines_report: dict, paths: tuple[set[str], set[str]]):
        known, supported = paths
        self.missing: dict[str, str] = {}
        self.lines: dict[str, tuple[int, int]] = {}
        for f in lines_report["files"]:
            runs: dict[int, int] = {}
            for line in f["lines"]:
                m = SIMD_FUNCTION.search(line.get("function_name") or "")
                if line.get("gcovr/excluded") or (m and m.group(1) in known and m.group(1) not in supported):
                    continue
                runs[line["line_number"]] = max(runs.get(line["line_number"], 0), line["count"])
            self.missing[f["file"]] = ranges([n for n, count in runs.items() if count == 0])
            self.lines[f["file"]] = (sum(1 for count in runs.values() if count > 0), len(runs))


def c_rows(summary: dict, paths: tuple[set[str], set[str]], lines: CLines | None) -> list[Row]:
    """A row per file: lines from the full report where there is one (see CLines), branches from
    gcovr's summary."""
    known, supported = paths
    rows = []
    for f in sorted(summary["files"], key=lambda f: f["filename"]):
        name = f["filename"]
        m = SIMD_FILE.search(name)
        path = m.group(1) if m and m.group(1) in known else None
        outside = f"the {path} path: this CPU cannot run it" if path and path not in supported else ""
        counted = lines.lines.get(name) if lines and not outside else None
        rows.append(Row(name, counted or (f["line_covered"], f["line_total"]), (f["branch_covered"], f["branch_total"]),
                        lines.missing.get(name, "") if lines else "", outside))
    return rows


def table(title: str, rows: list[Row]) -> list[str]:
    """Print the table; return the floor's failures. A file below the per-file floor is marked
    "<", a file outside the floor "-" (the reason under the table)."""
    width = max([len(r.name) for r in rows] + [19])
    head = f"  {'file':<{width}}  {'lines':>11} {'%':>6}  {'branches':>11} {'%':>6}  not covered"
    print(f"\n{title}\n{head}\n  {'-' * (len(head) - 2)}")
    counted = [r for r in rows if not r.outside]
    for r in rows:
        mark = "-" if r.outside else "<" if r.line_pct < FILE_FLOOR else " "
        print(f"{mark} {r.name:<{width}}  {r.lines[0]:>5}/{r.lines[1]:<5} {r.line_pct:>6.1f}"
              f"  {r.branches[0]:>5}/{r.branches[1]:<5} {pct(*r.branches):>6.1f}  {r.missing}".rstrip())
    lines = (sum(r.lines[0] for r in counted), sum(r.lines[1] for r in counted))
    branches = (sum(r.branches[0] for r in counted), sum(r.branches[1] for r in counted))
    print(f"  {'-' * (len(head) - 2)}")
    print(f"  {'total (floor files)':<{width}}  {lines[0]:>5}/{lines[1]:<5} {pct(*lines):>6.1f}"
          f"  {branches[0]:>5}/{branches[1]:<5} {pct(*branches):>6.1f}")
    for r in rows:
        if r.outside:
            print(f"  - {r.name}: not in the floor ({r.outside})")
    failures = []
    if pct(*lines) < TOTAL_FLOOR:
        failures.append(f"{title}: {pct(*lines):.1f}% of lines covered, the floor is {TOTAL_FLOOR:.0f}%")
    failures += [f"{title}: {r.name} has {r.line_pct:.1f}% of its lines covered, the per-file floor is "
                 f"{FILE_FLOOR:.0f}%" for r in counted if r.line_pct < FILE_FLOOR]
    return failures


def simd_paths() -> tuple[set[str], set[str]]:
    """The SIMD paths kimi_fann knows, and those this CPU supports."""
    import kimi_fann
    from kimi_fann.simd import PATHS

    return set(PATHS), set(kimi_fann.simd_info()["supported"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", type=Path, help="coverage.py's JSON report")
    parser.add_argument("--c", type=Path, help="gcovr's JSON summary")
    parser.add_argument("--c-lines", type=Path, help="gcovr's full JSON report (for the lines not covered)")
    args = parser.parse_args(argv)
    failures: list[str] = []
    if args.python:
        failures += table("Python package (coverage.py: statements, branches; < below the per-file floor)",
                          python_rows(json.loads(args.python.read_text())))
    if args.c:
        paths = simd_paths()
        lines = CLines(json.loads(args.c_lines.read_text()), paths) if args.c_lines else None
        failures += table("C core (gcov: lines, branches; < below the per-file floor)",
                          c_rows(json.loads(args.c.read_text()), paths, lines))
    print()
    if failures:
        print("coverage: below the floor:\n  " + "\n  ".join(failures))
        return 1
    print(f"coverage: the floor holds ({TOTAL_FLOOR:.0f}% of lines in all, {FILE_FLOOR:.0f}% in every file)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
