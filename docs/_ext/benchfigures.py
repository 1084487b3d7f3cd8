"""Benchmark tables and plots for the docs, made from pytest-benchmark JSON files.

At every docs build (a Sphinx ``builder-inited`` hook) this reads the newest result file of each
machine and SIMD path under ``bench/baselines/``, and writes into ``docs/_generated/``:

- ``bench-tables.md``: per machine and SIMD path, the median time of every engine in every
  benchmark group, its ratio to kimi-fann (the reference engine is the one ``bench/report.py``
  uses), and the G MAC/s kimi-fann reached with its fraction of the path's peak measured in the
  same run;
- ``bench-float.svg``, ``bench-int8.svg``, ``bench-route.svg``, ``bench-train.svg``: the same
  numbers as bar charts.

It also runs on its own, e.g. on a fresh ``--benchmark-json`` file::

    python docs/_ext/benchfigures.py bench.json out/      # or a folder of baselines
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

ENGINES = {
    "kimi_fann": "kimi-fann float",
    "kimi_fann_q8": "kimi-fann Q8",
    "kimi_fann_q16": "kimi-fann Q16",
    "kimi_fann_int8": "kimi-fann int8",
    "numpy": "numpy",
    "onnxruntime": "onnxruntime",
    "onnxruntime_int8": "onnxruntime int8",
    "litert_int8": "LiteRT int8",
    "libfann": "libfann 2.2",
    "torch": "torch",
    "experts_pregrouped": "experts only, float",
    "experts_pregrouped_q8": "experts only, Q8",
}
KINDS = {
    "float": "Inference, float32",
    "int8": "Inference, 8-bit integers",
    "route": "Routing (top-k of the experts)",
    "mixture": "Mixture of experts (route, group, run the experts, combine)",
    "rprop": "Training",
}
COLOURS = {
    "kimi_fann": "#1f77b4", "kimi_fann_q8": "#1f77b4", "kimi_fann_q16": "#6baed6", "kimi_fann_int8": "#1f77b4",
    "numpy": "#ff7f0e", "onnxruntime": "#2ca02c", "onnxruntime_int8": "#2ca02c", "litert_int8": "#d62728",
    "libfann": "#7f7f7f", "torch": "#9467bd", "experts_pregrouped": "#aec7e8", "experts_pregrouped_q8": "#aec7e8",
}
_ROUTE = re.compile(r"^route (?P<experts>\d+) experts b(?P<batch>\d+)$")
_GROUP = re.compile(r"^(?P<kind>float|int8) (?P<net>\S+ \S+) b(?P<batch>\d+)(?P<rest>.*)$")

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from results import Run, newest_baselines, read_run  # noqa: E402  (bench/ is not a package)

Times = dict[str, dict[str, float]]  # {group: {engine: median seconds}}


def latest_results(source: Path) -> list[Path]:
    """The result files to show: ``source`` itself, or the newest baseline of each machine and
    SIMD path under it."""
    return [source] if source.is_file() else newest_baselines(source)


def describe(run: Run, path: Path) -> dict[str, str]:
    """Where and when a run was made, for the line above its tables."""
    machine = run.machine
    cpu = machine.get("cpu", {})
    peaks = ", ".join(f"{kind} {value:.0f}" for kind, value in run.peak_gmacs.items())
    if run.peak_gmacs_2_threads:
        peaks += " (two threads at once: " + ", ".join(
            f"{kind} {value:.0f}" for kind, value in run.peak_gmacs_2_threads.items()) + ")"
    return {
        "file": f"{path.parent.name}/{path.name}",
        "cpu": f"{cpu.get('brand_raw', machine.get('processor', '?'))}, {cpu.get('count', '?')} cores",
        "python": f"{machine.get('python_implementation', '')} {machine.get('python_version', '')}".strip(),
        "system": f"{machine.get('system', '')} {machine.get('machine', '')}".strip(),
        "date": str(machine.get("datetime") or "?")[:10],
        "commit": str(machine.get("commit") or "?")[:7],
        "path": f"SIMD path {run.simd_path}, peak G MAC/s on one thread: {peaks}" if run.simd_path else "",
    }


def _time(seconds: float) -> str:
    us = seconds * 1e6
    return f"{us:,.1f} µs" if us < 1000 else f"{us / 1000:,.2f} ms"


def table(run: Run, kinds: tuple[str, ...]) -> str:
    """A Markdown table of the groups whose name starts with one of ``kinds``: every engine's
    time with its ratio to kimi-fann's, and the G MAC/s kimi-fann reached with its fraction of
    the path's peak where the group recorded its work."""
    groups = run.groups
    chosen = [g for g in sorted(groups, key=_group_key) if g.split(" ")[0] in kinds]
    seen = {e for g in chosen for e in groups[g]}
    engines = [e for e in ENGINES if e in seen] + sorted(seen - set(ENGINES))
    rates = {g: run.rate(groups[g][ref]) for g in chosen if (ref := run.reference(g))}
    with_rates = any(rate is not None for rate in rates.values())
    lines = ["| benchmark | " + " | ".join(ENGINES.get(e, e) for e in engines)
             + (" | kimi-fann G MAC/s (of peak) |" if with_rates else " |"),
             "|---|" + "---|" * (len(engines) + with_rates)]
    for group in chosen:
        ref = run.reference(group)
        cells = []
        for engine in engines:
            if engine not in groups[group]:
                cells.append("")
                continue
            cell = _time(groups[group][engine].median)
            if ref is not None and engine != ref:
                cell += f" ({run.ratio(group, engine):.2f}×)"
            cells.append(f"**{cell}**" if engine == ref else cell)
        if with_rates:
            rate = rates.get(group)
            cells.append("" if rate is None else f"{rate.gmacs:,.1f}"
                         + ("" if rate.fraction is None else f" ({100 * rate.fraction:.0f}%)"))
        lines.append(f"| {group} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _group_key(group: str) -> tuple[str, str, int, str]:
    m = _GROUP.match(group)
    if m is None:
        return (group, "", 0, "")
    return (m["kind"], m["net"], int(m["batch"]), m["rest"])


def plot_inference(groups: Times, kind: str, title: str, out: Path) -> None:
    """Two panels: latency of one sample (batch 1) and throughput at the largest batch."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    parsed = [(m, g) for g in groups if (m := _GROUP.match(g)) and m["kind"] == kind]
    nets = sorted({m["net"] for m, _ in parsed})
    batches = sorted({int(m["batch"]) for m, _ in parsed})
    panels = list(dict.fromkeys([batches[0], batches[-1]])) if batches else []
    fig, axes = plt.subplots(1, len(panels), figsize=(5.6 * len(panels), 1.4 + 0.9 * len(nets)), squeeze=False)
    for ax, batch in zip(axes[0], panels):  # one thread only: "2 threads" groups are in the table
        by_net = {m["net"]: groups[g] for m, g in parsed if int(m["batch"]) == batch and not m["rest"]}
        engines = [e for e in ENGINES if any(e in t for t in by_net.values())]
        height = 0.8 / max(len(engines), 1)
        for j, engine in enumerate(engines):
            ys, xs = [], []
            for i, net in enumerate(nets):
                if engine in by_net.get(net, {}):
                    seconds = by_net[net][engine]
                    ys.append(i + (j - (len(engines) - 1) / 2) * height)
                    xs.append(seconds * 1e6 if batch == 1 else batch / seconds)
            hatch = "//" if engine == "kimi_fann_q16" else None
            bars = ax.barh(ys, xs, height=height, color=COLOURS.get(engine, "#999999"), hatch=hatch,
                           edgecolor="white", label=ENGINES[engine])
            ax.bar_label(bars, labels=[f"{x:,.1f}" if batch == 1 else f"{x / 1e3:,.0f}k" for x in xs],
                         padding=2, fontsize="x-small")
        ax.set_yticks(range(len(nets)), [n.replace(" ", "\n") for n in nets])
        ax.invert_yaxis()
        ax.margins(x=0.15)
        if batch == 1:
            ax.set_xlabel("latency of one sample, µs (lower is better)")
            ax.set_title(f"{title}: batch 1")
        else:
            ax.set_xlabel("samples per second (higher is better)")
            ax.set_title(f"{title}: batch {batch}")
        ax.grid(axis="x", alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize="small", frameon=False)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    _save(fig, out)
    plt.close(fig)


def plot_routing(groups: Times, out: Path) -> None:
    """Routing latency per number of experts at each batch size, and the mixture groups."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    routes = [(int(m["batch"]), int(m["experts"]), g) for g in groups if (m := _ROUTE.match(g))]
    batches = sorted({b for b, _, _ in routes})
    mixtures = sorted(g for g in groups if g.split(" ")[0] == "mixture")
    panels: list[tuple[str, list[tuple[str, dict[str, float]]]]] = [
        (f"routing, batch {b}", [(f"{e} experts", groups[g]) for bb, e, g in sorted(routes) if bb == b]) for b in batches
    ] + [(g, [("", groups[g])]) for g in mixtures]
    if not panels:
        out.unlink(missing_ok=True)  # no stale figure from an earlier build
        return
    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 3.4), squeeze=False)
    legend: dict[str, Any] = {}
    for ax, (title, rows) in zip(axes[0], panels):
        engines = [e for e in ENGINES if any(e in t for _, t in rows)]
        height = 0.8 / max(len(engines), 1)
        routing = title.startswith("routing")
        unit, unit_name = (1e6, "µs") if routing else (1e3, "ms")
        for j, engine in enumerate(engines):
            ys = [i + (j - (len(engines) - 1) / 2) * height for i, (_, t) in enumerate(rows) if engine in t]
            xs = [t[engine] * unit for _, t in rows if engine in t]
            bars = ax.barh(ys, xs, height=height, color=COLOURS.get(engine, "#999999"), edgecolor="white",
                           hatch="//" if engine.endswith(("_int8", "_q8")) else None, label=ENGINES[engine])
            ax.bar_label(bars, labels=[_time(x / unit) for x in xs], padding=2, fontsize="x-small")
            legend.setdefault(ENGINES[engine], bars)
        ax.set_yticks(range(len(rows)), [label for label, _ in rows])
        ax.invert_yaxis()
        if routing:  # 8 to 384 experts: a log axis keeps every bar readable
            ax.set_xscale("log")
        ax.margins(x=0.3)
        ax.set_xlabel(f"time per call, {unit_name} (lower is better)")
        ax.set_title(title, fontsize="small")
        ax.grid(axis="x", alpha=0.3)
    fig.legend(list(legend.values()), list(legend), loc="lower center", ncol=len(legend), fontsize="small",
               frameon=False)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    _save(fig, out)
    plt.close(fig)


def plot_training(groups: Times, out: Path) -> None:
    """One bar per engine and training benchmark: time of one epoch."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    chosen = sorted(g for g in groups if g.split(" ")[0] == "rprop")
    fig, axes = plt.subplots(1, max(len(chosen), 1), figsize=(5.2 * max(len(chosen), 1), 2.6), squeeze=False)
    for ax, group in zip(axes[0], chosen):
        engines = [e for e in ENGINES if e in groups[group]] + sorted(set(groups[group]) - set(ENGINES))
        bars = ax.barh(range(len(engines)), [groups[group][e] * 1e3 for e in engines],
                       color=[COLOURS.get(e, "#999999") for e in engines])
        ax.bar_label(bars, fmt="%.2f", padding=2, fontsize="x-small")
        ax.margins(x=0.15)
        ax.set_yticks(range(len(engines)), [ENGINES.get(e, e) for e in engines])
        ax.invert_yaxis()
        ax.set_xlabel("ms per epoch (lower is better)")
        ax.set_title(group)
        ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    _save(fig, out)
    plt.close(fig)


def _save(fig: Any, out: Path) -> None:
    import matplotlib

    matplotlib.rcParams["svg.hashsalt"] = "kimi-fann"  # same bytes for the same numbers
    fig.savefig(out, metadata={"Date": None})


def generate(source: Path, out: Path) -> list[Path]:
    """Write the tables and plots of every result file under ``source`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    parts = []
    for i, path in enumerate(latest_results(source)):
        run = read_run(path)
        info = describe(run, path)
        groups: Times = {g: {e: case.median for e, case in cases.items()} for g, cases in run.groups.items()}
        suffix = "" if i == 0 else f"-{i}"
        parts.append(
            f"Results from `bench/baselines/{info['file']}` ({info['system']}, {info['cpu']}, "
            f"{info['python']}; commit {info['commit']}, {info['date']}"
            + (f"; {info['path']}" if info["path"] else "") + "). Median of each benchmark; in "
            "parentheses, the time relative to kimi-fann's engine in bold (above 1: kimi-fann is faster).\n"
        )
        kinds = {g.split(" ")[0] for g in groups}
        for kind in [k for k in KINDS if k in kinds] + sorted(kinds - set(KINDS)):
            parts.append(f"**{KINDS.get(kind, kind)}**\n\n" + table(run, (kind,)) + "\n")
        float_svg, int8_svg, route_svg, train_svg = (
            out / f"bench-{name}{suffix}.svg" for name in ("float", "int8", "route", "train"))
        plot_inference(groups, "float", "float32", float_svg)
        plot_inference(groups, "int8", "8-bit", int8_svg)
        plot_routing(groups, route_svg)
        plot_training(groups, train_svg)
        written += [svg for svg in (float_svg, int8_svg, route_svg, train_svg) if svg.exists()]
    if not parts:
        parts.append("No benchmark results under `bench/baselines/` yet.\n")
    tables = out / "bench-tables.md"
    tables.write_text("\n".join(parts), encoding="utf-8")
    written.append(tables)
    return written


def _on_builder_inited(app: Any) -> None:
    docs = Path(app.srcdir)
    generate(docs.parent / "bench" / "baselines", docs / "_generated")


def setup(app: Any) -> dict[str, Any]:
    app.connect("builder-inited", _on_builder_inited)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python docs/_ext/benchfigures.py RESULTS.json|BASELINES_DIR OUT_DIR")
    for written in generate(Path(sys.argv[1]), Path(sys.argv[2])):
        print(written)
