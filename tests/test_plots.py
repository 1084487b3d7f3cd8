"""analyzer.plot: valid PNG and SVG files, one per figure, deterministic."""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import kimi_fann as kf
from kimi_fann.analyzer import DistillationEpoch, DistillationReport, analyze, plot, profile

pytest.importorskip("matplotlib")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def _svg_ok(path: Path) -> None:
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")
    assert "<dc:date>" not in path.read_text()


def _distillation() -> DistillationReport:
    history = [DistillationEpoch(expert=e, epoch=k, loss=1.0 / (k + e + 1), agreement=0.5 + 0.04 * k)
               for e in range(2) for k in range(1, 11)]
    return DistillationReport(
        teacher="callable", task="classification", teacher_parameters=5000, student_parameters=80,
        parameter_ratio=62.5, n_experts=2, domains=["a", "b"], top_k=1, temperature=2.0, precision="q8",
        held_out=50, agreement=0.9, fixed_agreement=0.9, float_fixed_agreement=1.0, mean_abs_error=0.02,
        max_abs_error=0.3, fixed_max_abs_error=0.3, teacher_accuracy=None, student_accuracy=None,
        float_bytes=320, file_bytes=900, latency_us=2.0, throughput=2e6, router_load=[35, 15], history=history,
    )


@pytest.fixture(scope="module")
def mixture_report():
    x = np.random.default_rng(0).uniform(-1, 1, (200, 3))
    moe = kf.MixtureOfExperts(kf.Router(np.eye(4, 3), top_k=2, scoring="softmax"),
                              [kf.Network([3, 5, 2], seed=i) for i in range(4)])
    return analyze(moe, x)


def test_analysis_figures(tmp_path: Path, mixture_report) -> None:
    files = plot(mixture_report, tmp_path / "moe.png")
    assert [f.name for f in files] == ["moe-weights.png", "moe-sqnr.png", "moe-load.png"]
    for f in files:
        width, height = _png_size(f)
        assert width >= 300 and height >= 200


def test_one_figure_goes_to_the_path(tmp_path: Path, mixture_report) -> None:
    files = plot(mixture_report, tmp_path / "load.svg", kind="load")
    assert files == [tmp_path / "load.svg"]
    _svg_ok(files[0])


def test_profile_and_distillation(tmp_path: Path) -> None:
    (latency,) = plot(profile(kf.Network([3, 4, 1]), batch_sizes=(1, 4, 16), repeats=3), tmp_path / "p.png")
    assert latency.name == "p.png" and _png_size(latency)[0] > 300
    files = plot(_distillation(), tmp_path / "d.svg")
    assert [f.name for f in files] == ["d-load.svg", "d-distillation.svg"]
    for f in files:
        _svg_ok(f)


def test_svg_is_deterministic(tmp_path: Path) -> None:
    report = analyze(kf.Network([4, 6, 2], seed=0))
    a = plot(report, tmp_path / "a.svg", kind="weights")[0].read_bytes()
    b = plot(report, tmp_path / "b.svg", kind="weights")[0].read_bytes()
    assert a == b


def test_plot_rejects(tmp_path: Path) -> None:
    report = analyze(kf.Network([2, 3, 1]))
    with pytest.raises(kf.errors.ConfigError):
        plot(report, tmp_path / "x.jpg")
    with pytest.raises(kf.errors.ConfigError):
        plot(report, tmp_path / "x.png", kind="latency")
    with pytest.raises(kf.errors.ConfigError):
        plot(report, tmp_path / "x.png", kind="nonsense")
    with pytest.raises(kf.errors.ConfigError):
        plot("report", tmp_path / "x.png")  # type: ignore[arg-type]


def test_plot_without_matplotlib(tmp_path: Path, monkeypatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"kimi_fann.analyzer.plot needs matplotlib: pip install 'kimi-fann\[analyzer\]'"):
        plot(analyze(kf.Network([2, 3, 1])), tmp_path / "x.png")
    assert not list(tmp_path.iterdir())


def test_a_shared_experts_weights_have_their_panels() -> None:
    from kimi_fann.analyzer.plots import _histograms

    moe = kf.MixtureOfExperts(kf.Router(np.eye(2, 3), top_k=1), [kf.Network([3, 4, 2], seed=i) for i in range(2)],
                              shared_expert=kf.Network([3, 5, 2]), domains=["a", "b"])
    titles = [title for title, *_ in _histograms(analyze(moe))]
    assert titles == ["a: layer 1 (3->4)", "a: layer 2 (4->2)", "b: layer 1 (3->4)", "b: layer 2 (4->2)",
                      "shared: layer 1 (3->5)", "shared: layer 2 (5->2)", "router gates"]


def test_distillation_without_router_load(tmp_path: Path) -> None:
    """Experts beyond the named domains and no agreement measured: a training figure (without a
    legend on the empty agreement panel, which matplotlib would warn about) and no load figure;
    no history either: nothing to plot."""
    import dataclasses

    history = [DistillationEpoch(expert=e, epoch=k, loss=0.5 / k, agreement=None) for e in (0, 3) for k in (1, 2)]
    report = dataclasses.replace(_distillation(), router_load=None, history=history)
    files = plot(report, tmp_path / "d.png")
    assert files == [tmp_path / "d.png"] and _png_size(files[0])[0] > 300  # one figure: the path itself
    with pytest.raises(kf.errors.ConfigError, match="this DistillationReport has nothing to plot"):
        plot(dataclasses.replace(report, history=[]), tmp_path / "e.png")
