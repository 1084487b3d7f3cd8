"""Reports: JSON round trips through load_report, and the shipped JSON Schema."""

from __future__ import annotations

import copy
import dataclasses
import json
import typing
from pathlib import Path

import numpy as np
import pytest

import kimi_fann as kf
from kimi_fann.analyzer import (
    AnalysisReport,
    BatchTiming,
    DistillationEpoch,
    DistillationReport,
    ExpertReport,
    LayerReport,
    ProfileReport,
    RouterReport,
    analyze,
    load_report,
    profile,
    report_schema,
)


def _distillation(analysis: AnalysisReport | None = None) -> DistillationReport:
    return DistillationReport(
        teacher="callable", task="classification", teacher_parameters=1000, student_parameters=50,
        parameter_ratio=20.0, n_experts=2, domains=["a", "b"], top_k=1, temperature=2.0, precision="q8",
        held_out=40, agreement=0.95, fixed_agreement=0.925, float_fixed_agreement=0.975, mean_abs_error=0.01,
        max_abs_error=0.2, fixed_max_abs_error=0.25, teacher_accuracy=0.9, student_accuracy=None,
        float_bytes=200, file_bytes=700, latency_us=3.5, throughput=1e6, router_load=[30, 10],
        history=[DistillationEpoch(expert=0, epoch=1, loss=0.5, agreement=None),
                 DistillationEpoch(expert=1, epoch=1, loss=0.25, agreement=0.75)],
        analysis=analysis,
    )


def _reports() -> list[typing.Any]:
    x = np.random.default_rng(0).uniform(-1, 1, (100, 3))
    net = kf.Network([3, 5, 2], seed=0)
    moe = kf.MixtureOfExperts(kf.Router(np.eye(3, 3), top_k=1, scoring="softmax"),
                              [kf.Network([3, 4, 2], seed=i) for i in range(3)], shared_expert=kf.Network([3, 2, 2]))
    return [
        analyze(net),
        analyze(net, x),
        analyze(net.quantize(calibration=x), x, reference=net),
        analyze(net.to_fixed(), x, reference=net),
        analyze(moe, x),
        analyze(moe.router),
        profile(net, batch_sizes=(1, 8), repeats=3),
        _distillation(),
        _distillation(analyze(moe, x)),
    ]


REPORTS = _reports()


@pytest.mark.parametrize("report", REPORTS, ids=lambda r: f"{r.kind}")
def test_json_round_trip(report: typing.Any, tmp_path: Path) -> None:
    text = report.to_json()
    again = load_report(text)
    assert type(again) is type(report)
    assert again == report
    assert again.to_json() == text
    path = tmp_path / "report.json"
    report.save(path)
    assert load_report(path) == report
    assert load_report(str(path)) == report
    assert load_report(json.loads(text)) == report
    data = json.loads(text)
    assert data["kind"] == report.kind and data["kimi_fann_version"] == kf.__version__


def test_to_json_indent() -> None:
    report = REPORTS[0]
    assert "\n" not in report.to_json(indent=None)
    assert json.loads(report.to_json(indent=None)) == report.to_dict()


def test_load_report_errors(tmp_path: Path) -> None:
    with pytest.raises(kf.errors.FormatError, match="kind"):
        load_report('{"kind": "nonsense"}')
    with pytest.raises(kf.errors.FormatError, match="not JSON"):
        load_report("{broken")
    data = REPORTS[0].to_dict()
    del data["parameters"]
    with pytest.raises(kf.errors.FormatError, match="parameters"):
        load_report(data)
    data = REPORTS[0].to_dict()
    data["layers"][0]["macs"] = "many"
    with pytest.raises(kf.errors.FormatError, match=r"layers\[0\]\.macs"):
        load_report(data)
    with pytest.raises(OSError):
        load_report(tmp_path / "missing.json")


def _set(path: str, value: typing.Any) -> typing.Callable[[dict], None]:
    """A change to a report's dict: the value at a dotted path ("layers.0.sparsity")."""
    *parents, last = path.split(".")

    def change(data: dict) -> None:
        for key in parents:
            data = data[int(key)] if key.isdigit() else data[key]
        data[int(last) if last.isdigit() else last] = value
    return change


@pytest.mark.parametrize("change, message", [
    (_set("layers", {"0": {}}), "report.layers must be a list, got dict"),
    (_set("quantization", [8]), "report.quantization must be an object, got list"),
    (_set("router", ["softmax"]), "report.router must be an object, got list"),
    (_set("experts.1.layers.0.sparsity", "sparse"),
     r"report.experts\[1\].layers\[0\].sparsity must be a number, got 'sparse'"),
    (_set("model", 3), "report.model must be a string, got 3"),
    (_set("macs", True), "report.macs must be an integer, got True"),
])
def test_each_wrong_field_is_named(change: typing.Any, message: str) -> None:
    data = REPORTS[4].to_dict()  # a mixture's analysis: layers, experts, a router
    change(data)
    with pytest.raises(kf.errors.FormatError, match=message):
        load_report(data)


def test_fields_with_defaults_may_be_absent_and_reports_are_objects(tmp_path: Path) -> None:
    data = REPORTS[1].to_dict()
    del data["samples"], data["notes"]
    again = AnalysisReport.from_dict(data)
    assert again.samples is None and again.notes == [] and again.layers == REPORTS[1].layers
    listed = tmp_path / "list.json"
    listed.write_text("[1, 2]")
    with pytest.raises(kf.errors.FormatError, match=f"{listed}: a report is a JSON object, got list"):
        load_report(listed)


def test_a_distillation_report_with_the_earlier_field_name_loads(tmp_path: Path) -> None:
    data = _distillation().to_dict()
    data["stored_bytes"] = data.pop("file_bytes")
    path = tmp_path / "old.json"
    path.write_text(json.dumps(data))
    for again in (load_report(path), DistillationReport.from_dict(data)):
        assert again == _distillation() and again.file_bytes == 700
    del data["stored_bytes"]
    with pytest.raises(kf.errors.FormatError, match="has no 'file_bytes'"):
        load_report(data)


def test_numpy_values_become_json_and_other_objects_are_refused() -> None:
    report = copy.deepcopy(REPORTS[4])
    report.router.load = np.array([3, 1, 0])
    data = report.to_dict()
    assert data["router"]["load"] == [3, 1, 0] and all(type(v) is int for v in data["router"]["load"])
    report.notes = [object()]
    with pytest.raises(TypeError, match="cannot put a object into a report"):
        report.to_dict()


def test_nan_is_refused() -> None:
    report = copy.deepcopy(REPORTS[0])
    report.layers[0].weight_mean = float("nan")
    with pytest.raises(ValueError):
        report.to_json()


# ---- the schema ----


def test_schema_matches_the_dataclasses() -> None:
    schema = report_schema()
    for cls in (AnalysisReport, LayerReport, ExpertReport, RouterReport, ProfileReport, BatchTiming,
                DistillationReport, DistillationEpoch):
        definition = schema["$defs"][cls.__name__]
        names = {f.name for f in dataclasses.fields(cls)}
        if hasattr(cls, "kind"):
            names.add("kind")
        assert set(definition["properties"]) == names, cls.__name__
        required = {f.name for f in dataclasses.fields(cls)
                    if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
        assert required <= set(definition["required"]), cls.__name__


@pytest.mark.parametrize("report", REPORTS, ids=lambda r: f"{r.kind}")
def test_reports_validate(report: typing.Any) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = report_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(json.loads(report.to_json()))


@pytest.mark.parametrize("break_it", [
    lambda d: d.pop("kind"),
    lambda d: d.update(kind="analysis-ish"),
    lambda d: d.update(parameters=-1),
    lambda d: d.update(model="transformer"),
    lambda d: d.update(unexpected=1),
    lambda d: d["layers"][0].update(histogram_counts="12"),
    lambda d: d["layers"][0].pop("macs"),
    lambda d: d.pop("kimi_fann_version"),
])
def test_schema_rejects_broken_reports(break_it: typing.Any) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    data = json.loads(REPORTS[1].to_json())
    break_it(data)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(report_schema()).validate(data)


def test_schema_rejects_broken_profile_and_distillation() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(report_schema())
    prof = json.loads(REPORTS[6].to_json())
    prof["timings"][0]["batch_size"] = 0
    assert not validator.is_valid(prof)
    dist = json.loads(_distillation().to_json())
    dist["precision"] = "q4"
    assert not validator.is_valid(dist)
    dist = json.loads(_distillation().to_json())
    dist["agreement"] = 1.5
    assert not validator.is_valid(dist)


def test_schema_ships_in_the_package() -> None:
    import kimi_fann.analyzer.report as module

    assert (Path(module.__file__).parent / "report.schema.json").is_file()
