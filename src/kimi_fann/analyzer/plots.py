"""Figures of analyzer reports, drawn with matplotlib (the ``analyzer`` extra) on the Agg
canvas, without pyplot and its global state."""

from __future__ import annotations

import math
import os
import pathlib
from collections.abc import Callable
from typing import Any

from ..errors import ConfigError
from .report import AnalysisReport, DistillationReport, LayerReport, ProfileReport, RouterReport

__all__ = ["plot", "FIGURES"]

#: Figure names, in the order :func:`plot` writes them.
FIGURES = ("weights", "sqnr", "load", "latency", "distillation")
_SUFFIXES = (".png", ".svg")


def _matplotlib() -> tuple[Any, Any]:
    try:
        import matplotlib
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError(
            "kimi_fann.analyzer.plot needs matplotlib: pip install 'kimi-fann[analyzer]'"
        ) from exc
    del matplotlib
    return Figure, FigureCanvasAgg


# ---- what each report can show ----


def _histograms(report: AnalysisReport) -> list[tuple[str, list[int], list[float], str]]:
    """(title, counts, edges, units) of every weight histogram in an analysis report."""
    out = []

    def layers(prefix: str, items: list[LayerReport]) -> None:
        for layer in items:
            units = "integer code" if layer.weight_units == "integer" else "weight"
            out.append((f"{prefix}layer {layer.layer} ({layer.inputs}->{layer.outputs})", layer.histogram_counts,
                        layer.histogram_edges, units))

    layers("", report.layers)
    for expert in report.experts:
        layers(f"{expert.domain}: ", expert.layers)
    if report.shared_expert is not None:
        layers("shared: ", report.shared_expert.layers)
    if report.router is not None:
        out.append(("router gates", report.router.histogram_counts, report.router.histogram_edges, "gate weight"))
    return out


def _sqnr_rows(report: AnalysisReport) -> list[tuple[str, float | None, float | None]]:
    rows = [(f"layer {l.layer}", l.sqnr_db, l.weight_sqnr_db) for l in report.layers]
    for expert in [*report.experts, *([report.shared_expert] if report.shared_expert else [])]:
        rows += [(f"{expert.domain}\nlayer {l.layer}", l.sqnr_db, l.weight_sqnr_db) for l in expert.layers]
    return [r for r in rows if r[1] is not None or r[2] is not None]


def _router_load(report: Any) -> tuple[list[int], list[str]] | None:
    if isinstance(report, DistillationReport):
        if report.router_load is None:
            return None
        names = report.domains if len(report.domains) == len(report.router_load) else \
            [str(i) for i in range(len(report.router_load))]
        return report.router_load, list(names)
    router: RouterReport | None = report.router
    if router is None or router.load is None:
        return None
    names = [e.domain for e in report.experts] if len(report.experts) == router.n_experts else \
        [str(i) for i in range(router.n_experts)]
    return router.load, names


# ---- drawing ----


def _draw_weights(fig: Any, report: AnalysisReport) -> None:
    hists = _histograms(report)
    cols = min(3, len(hists))
    rows = math.ceil(len(hists) / cols)
    fig.set_size_inches(4.0 * cols, 3.0 * rows)
    for i, (title, counts, edges, units) in enumerate(hists):
        ax = fig.add_subplot(rows, cols, i + 1)
        widths = [b - a for a, b in zip(edges[:-1], edges[1:])]
        ax.bar(edges[:-1], counts, width=widths, align="edge", color="tab:blue", edgecolor="white", linewidth=0.3)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel(units, fontsize=8)
        ax.set_ylabel("count", fontsize=8)
        ax.tick_params(labelsize=7)
    fig.suptitle(f"Weight histograms ({report.model})")


def _draw_sqnr(fig: Any, report: AnalysisReport) -> None:
    rows = _sqnr_rows(report)
    fig.set_size_inches(max(5.0, 0.9 * len(rows) + 2), 4.0)
    ax = fig.add_subplot(1, 1, 1)
    xs = list(range(len(rows)))
    width = 0.4
    act = [r[1] if r[1] is not None else 0.0 for r in rows]
    wts = [r[2] if r[2] is not None else 0.0 for r in rows]
    ax.bar([x - width / 2 for x in xs], act, width, label="layer outputs", color="tab:orange")
    ax.bar([x + width / 2 for x in xs], wts, width, label="weights", color="tab:blue")
    ax.set_xticks(xs, [r[0] for r in rows], fontsize=7)
    ax.set_ylabel("SQNR (dB)")
    what = f" vs {report.reference}" if report.reference else ""
    ax.set_title(f"Quantization SQNR per layer ({report.model}{what})")
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)


def _draw_load(fig: Any, report: Any) -> None:
    load, names = _router_load(report)  # type: ignore[misc]
    fig.set_size_inches(max(5.0, 0.5 * len(load) + 2), 4.0)
    ax = fig.add_subplot(1, 1, 1)
    ax.bar(range(len(load)), load, color="tab:green")
    mean = sum(load) / len(load) if load else 0.0
    ax.axhline(mean, color="black", linestyle="--", linewidth=1, label=f"mean {mean:,.0f}")
    ax.set_xticks(range(len(load)), names, rotation=45 if len(load) > 6 else 0, ha="right" if len(load) > 6 else "center",
                  fontsize=8)
    ax.set_ylabel("selections")
    title = "Router load per expert"
    router = getattr(report, "router", None)
    if router is not None and router.entropy is not None:  # a second line: the figure may be narrow
        title += f"\n(entropy {router.entropy:.2f}, max/mean {router.max_mean_ratio:.2f})"
    ax.set_title(title)
    ax.legend(fontsize=8)


def _draw_latency(fig: Any, report: ProfileReport) -> None:
    fig.set_size_inches(9.0, 4.0)
    sizes = [t.batch_size for t in report.timings]
    order = sorted(range(len(sizes)), key=lambda i: sizes[i])
    xs = [sizes[i] for i in order]
    ax = fig.add_subplot(1, 2, 1)
    for name, color in (("p50_us", "tab:blue"), ("p90_us", "tab:orange"), ("p99_us", "tab:red")):
        ax.plot(xs, [getattr(report.timings[i], name) for i in order], marker="o", color=color, label=name[:3])
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("batch size")
    ax.set_ylabel("latency per call (us)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    ax2 = fig.add_subplot(1, 2, 2)
    ax2.plot(xs, [report.timings[i].samples_per_second for i in order], marker="o", color="tab:green")
    ax2.set_xscale("log")
    ax2.set_yscale("log")
    ax2.set_xlabel("batch size")
    ax2.set_ylabel("samples / s (median)")
    ax2.grid(alpha=0.3, which="both")
    threads = "default" if report.threads is None else str(report.threads)
    fig.suptitle(f"Latency and throughput ({report.model}, simd {report.simd}, threads {threads})")


def _draw_distillation(fig: Any, report: DistillationReport) -> None:
    fig.set_size_inches(10.0, 4.0)
    loss_ax, agree_ax = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    experts = sorted({e.expert for e in report.history}, key=lambda e: -1 if e is None else e)
    for expert in experts:
        points = sorted((p for p in report.history if p.expert == expert), key=lambda p: p.epoch)
        if expert is None:
            label = "student"
        elif expert < len(report.domains):
            label = report.domains[expert]
        else:
            label = f"expert {expert}"
        loss_ax.plot([p.epoch for p in points], [p.loss for p in points], label=label)
        measured = [p for p in points if p.agreement is not None]
        if measured:
            agree_ax.plot([p.epoch for p in measured], [p.agreement for p in measured], label=label)
    loss_ax.set_xlabel("epoch")
    loss_ax.set_ylabel("training MSE")
    if all(p.loss > 0 for p in report.history) and report.history:
        loss_ax.set_yscale("log")
    agree_ax.set_xlabel("epoch")
    agree_ax.set_ylabel("held-out agreement with the teacher")
    agree_ax.set_ylim(0.0, 1.02)
    for ax in (loss_ax, agree_ax):
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:  # no agreement measured: an empty panel, no legend
            ax.legend(fontsize=7)
    fig.suptitle(f"Distillation of {report.teacher[:60]} ({report.task}, {report.precision})")


def _figures(report: Any) -> list[tuple[str, Callable[[Any], None]]]:
    """(name, draw) of every figure the report can give, in FIGURES order."""
    if isinstance(report, DistillationReport):
        found = []
        if report.analysis is not None:
            found += _figures(report.analysis)
        if report.router_load is not None and not any(name == "load" for name, _ in found):
            found.append(("load", lambda fig: _draw_load(fig, report)))
        if report.history:
            found.append(("distillation", lambda fig: _draw_distillation(fig, report)))
        return sorted(found, key=lambda item: FIGURES.index(item[0]))
    if isinstance(report, ProfileReport):
        return [("latency", lambda fig: _draw_latency(fig, report))] if report.timings else []
    if isinstance(report, AnalysisReport):
        found = []
        if _histograms(report):
            found.append(("weights", lambda fig: _draw_weights(fig, report)))
        if _sqnr_rows(report):
            found.append(("sqnr", lambda fig: _draw_sqnr(fig, report)))
        if _router_load(report) is not None:
            found.append(("load", lambda fig: _draw_load(fig, report)))
        return found
    raise ConfigError(f"plot takes an AnalysisReport, ProfileReport or DistillationReport, got {type(report).__name__}")


def plot(report: AnalysisReport | ProfileReport | DistillationReport, path: str | os.PathLike[str], *,
         kind: str | None = None) -> list[pathlib.Path]:
    """Draw a report's figures into PNG or SVG files (chosen by the suffix of ``path``).

    Figures: ``"weights"`` (a weight histogram per layer, expert and router), ``"sqnr"``
    (quantization SQNR per layer, of the outputs and of the weights), ``"load"`` (router load
    per expert), ``"latency"`` (latency percentiles and throughput against batch size) and
    ``"distillation"`` (training loss and held-out agreement per epoch, per expert). A report
    draws those it has data for; ``kind`` picks one. One figure is written to ``path``; several
    to ``<stem>-<figure><suffix>`` beside it. Files are deterministic: SVGs carry no date and
    fixed element ids.

    Parameters
    ----------
    report : AnalysisReport, ProfileReport or DistillationReport
    path : str or path-like
        Ending in ``.png`` or ``.svg``.
    kind : str, optional
        One of :data:`FIGURES`.

    Returns
    -------
    list of pathlib.Path
        The files written.

    Raises
    ------
    ImportError
        Without matplotlib (install the ``analyzer`` extra).
    ConfigError
        An unknown suffix or figure, or a figure the report has no data for.

    Examples
    --------
    >>> import pathlib, tempfile, kimi_fann as kf
    >>> from kimi_fann.analyzer import analyze, plot
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> files = plot(analyze(kf.Network([3, 5, 2], seed=0)), folder / "net.svg")
    >>> [f.name for f in files]
    ['net-weights.svg', 'net-sqnr.svg']
    """
    target = pathlib.Path(path)
    suffix = target.suffix.lower()
    if suffix not in _SUFFIXES:
        raise ConfigError(f"plot writes .png or .svg files, got {os.fspath(path)!r}")
    figures = _figures(report)
    if kind is not None:
        if kind not in FIGURES:
            raise ConfigError(f"kind must be one of {', '.join(FIGURES)}, got {kind!r}")
        figures = [f for f in figures if f[0] == kind]
        if not figures:
            raise ConfigError(f"this {type(report).__name__} has no data for a {kind!r} figure")
    if not figures:
        raise ConfigError(f"this {type(report).__name__} has nothing to plot")
    Figure, FigureCanvasAgg = _matplotlib()
    import matplotlib

    written = []
    for name, draw in figures:
        out = target if len(figures) == 1 else target.with_name(f"{target.stem}-{name}{target.suffix}")
        with matplotlib.rc_context({"svg.hashsalt": "kimi-fann", "svg.fonttype": "path"}):
            fig = Figure(layout="constrained")
            FigureCanvasAgg(fig)
            draw(fig)
            metadata = {"Date": None} if suffix == ".svg" else {"Software": None}
            fig.savefig(out, format=suffix[1:], dpi=100, metadata=metadata)
        written.append(out)
    return written
