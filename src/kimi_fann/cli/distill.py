"""``kimi-fann distill`` and ``kimi-fann demo``: a teacher taught to micro-experts."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError
from ._common import Progress, add_json_flag, load_inputs, load_model, save_model, table

_PRECISIONS = ("q8", "q16", "float")


def _add_distill_options(p: argparse.ArgumentParser, *, experts: int, epochs: int) -> None:
    p.add_argument("--experts", type=int, default=experts, help=f"number of domain experts (default {experts}; 1 = one student)")
    p.add_argument("--top-k", type=int, default=2, help="experts per input (default 2)")
    p.add_argument("--hidden", type=int, nargs="+", metavar="N",
                   help="hidden layers of each expert (default: the widest within --size-ratio of the teacher)")
    p.add_argument("--size-ratio", type=float, default=20.0, help="teacher/student parameters, at least (default 20)")
    p.add_argument("--precision", choices=_PRECISIONS, default="q8", help="the student's arithmetic (default q8)")
    p.add_argument("--temperature", type=float, default=1.0, help="soft-target temperature (default 1)")
    p.add_argument("--augment", type=int, default=0, help="noisy copies of each input labelled by the teacher")
    p.add_argument("--epochs", type=int, default=epochs, help=f"RPROP epochs per expert, at most (default {epochs})")
    p.add_argument("--seed", type=int, default=0)


def add_parsers(sub: argparse._SubParsersAction) -> None:
    d = sub.add_parser("distill", help="distil a teacher into micro-experts",
                       description="Distil a teacher (a .net/.kfn float model or an .onnx file) on inputs into "
                                   "one student or domain experts behind a router, quantized at the end.")
    d.add_argument("teacher", help="the teacher: .net, .kfn or .onnx")
    d.add_argument("inputs", help="transfer inputs: .data (its outputs give labels), .npy or .csv")
    _add_distill_options(d, experts=6, epochs=200)
    d.add_argument("-o", "--output", metavar="MODEL", help="write the student (.kfn)")
    d.add_argument("--report", metavar="JSON", help="write the fidelity report as JSON")
    d.add_argument("--plots", metavar="DIR", help="draw the report's figures into DIR (needs matplotlib)")
    add_json_flag(d)
    d.set_defaults(run=distill, show=show)

    m = sub.add_parser("demo", help="distil the bundled teacher into six micro-experts and report",
                       description="The embedded demo: distils a 21-256-128-3 teacher trained on the bundled "
                                   "thyroid data into six domain micro-experts and a router, quantizes them, "
                                   "checks their fidelity, and writes the model, report.json and plots into a "
                                   "folder.")
    m.add_argument("--out", metavar="DIR", default="kimi-fann-demo", help="the folder to write (default kimi-fann-demo)")
    _add_distill_options(m, experts=6, epochs=150)
    m.add_argument("--no-plots", action="store_true", help="skip the figures")
    add_json_flag(m)
    m.set_defaults(run=demo, show=show)


def _teacher(path: str) -> Any:
    suffix = Path(path).suffix
    if suffix == ".onnx":
        return path
    if suffix not in (".net", ".kfn"):
        raise ConfigError(f"{path}: a teacher on the command line is an ONNX file (.onnx), a FANN .net or a .kfn; "
                          "export a scikit-learn model with skl2onnx (skl2onnx.to_onnx(model, X[:1])) or a torch "
                          "module with torch.onnx.export, or give the model itself to "
                          "kimi_fann.analyzer.distill in Python")
    return load_model(path)


def _run(teacher: Any, x: np.ndarray, labels: np.ndarray | None, args: argparse.Namespace,
         folder: Path | None, output: str | None, report_path: str | None, plots: str | None,
         domains: list[str] | None = None) -> dict:
    from ..analyzer import distill, profile

    start = time.perf_counter()
    with Progress(args.experts * args.epochs, "distilling", unit="epoch") as bar:
        model, report = distill(teacher, x, y=labels, n_experts=args.experts, top_k=args.top_k,
                                hidden=args.hidden, size_ratio=args.size_ratio, temperature=args.temperature,
                                augment=args.augment, precision=args.precision, max_epochs=args.epochs,
                                progress=lambda done, total: bar.advance_to(done), seed=args.seed,
                                domains=domains)
    seconds = time.perf_counter() - start
    written: list[str] = []
    timing = None
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        output = output or str(folder / "model.kfn")
        report_path = report_path or str(folder / "report.json")
        timing = profile(model, batch_sizes=(1, 16, 256, 4096), repeats=20)
        timing.save(folder / "profile.json")
        written.append(str(folder / "profile.json"))
    if output:
        save_model(output, model)
        written.append(output)
    if report_path:
        report.save(report_path)
        written.append(report_path)
    if plots:
        from ..analyzer import plot

        target = Path(plots)
        target.mkdir(parents=True, exist_ok=True)
        for r, stem in ((report, "distillation"), (timing, "latency")):
            if r is not None:
                written.extend(str(p) for p in plot(r, target / f"{stem}.png"))
    result = report.to_dict()
    result["weight_bytes"] = _weight_bytes(result)
    result.pop("analysis", None)
    result.pop("history", None)
    result["seconds"] = seconds
    result["written"] = written
    return result


def distill(args: argparse.Namespace) -> dict:
    teacher = _teacher(args.teacher)
    x, outputs = load_inputs(args.inputs)
    labels = outputs.argmax(axis=1) if outputs is not None and outputs.shape[1] > 1 else None
    return _run(teacher, x, labels, args, None, args.output, args.report, args.plots)


def demo(args: argparse.Namespace) -> dict:
    from .. import datasets

    train, test = datasets.load("thyroid")
    x = np.concatenate([train.inputs, test.inputs])
    labels = np.concatenate([train.outputs, test.outputs]).argmax(axis=1)
    folder = Path(args.out)
    if folder.exists() and not folder.is_dir():  # before the distillation, not after it
        raise ConfigError(f"{folder}: exists and is not a folder; --out takes a folder to write into")
    plots = None
    if not args.no_plots:
        try:
            import matplotlib  # noqa: F401
            plots = str(folder)
        except ImportError:
            plots = None
    # Generic names: the experts are clusters of the teacher's outputs, not subjects (the
    # mixture's default names for six experts are Kimi-K2-style domains, which thyroid data has not).
    names = [f"cluster_{i + 1}" for i in range(args.experts)] if args.experts > 1 else None
    result = _run(datasets.teacher(), x, labels, args, folder, None, None, plots, names)
    result["dataset"] = "thyroid"
    result["folder"] = str(folder)
    if plots is None and not args.no_plots:
        result["note"] = "plots skipped: matplotlib is not installed (pip install 'kimi-fann[analyzer]')"
    return result


def _percent(value: float | None) -> str | None:
    return None if value is None else f"{100 * value:.2f}%"


def _weight_bytes(result: dict) -> int | None:
    """Bytes of the quantized student's weights as they are stored in memory (codes and per-neuron
    scales of every layer, and the router's gates), from the report's analysis: the figure to
    set beside the float32 weights (its activation tables and the file's header apart)."""
    analysis = result.get("analysis") or {}
    parts = [analysis] if analysis.get("layers") else []
    parts += list(analysis.get("experts") or []) + ([analysis["shared_expert"]] if analysis.get("shared_expert") else [])
    if not parts:
        return None
    router = analysis.get("router") or {}
    return sum(layer["stored_bytes"] for part in parts for layer in part["layers"]) + router.get("stored_bytes", 0)


def show(result: dict) -> None:
    ratio = result.get("parameter_ratio")
    precision = result["precision"]
    print(f"distilled {result['teacher']} ({result['teacher_parameters']:,} parameters) into "
          f"{result['n_experts']} expert(s) of {result['student_parameters']:,} parameters in total"
          + (f" (1/{ratio:.1f} of the teacher)" if ratio and ratio >= 1 else "")
          + f", {precision}, in {result['seconds']:.1f} s")
    if ratio and ratio < 1:
        print(f"warning: the student is {1 / ratio:.1f}x larger than the teacher; give smaller --hidden sizes "
              "(or leave --hidden out: --size-ratio then sizes the student)")
    fixed_error = result.get("fixed_max_abs_error")
    rows = [("agreement with the teacher", _percent(result["agreement"]), _percent(result.get("fixed_agreement"))),
            ("largest |output - teacher|", f"{result['max_abs_error']:.3f}",
             None if fixed_error is None else f"{fixed_error:.3f}")]
    if result.get("student_accuracy") is not None:
        rows.append((f"accuracy (the teacher's: {_percent(result['teacher_accuracy'])})",
                     _percent(result.get("float_accuracy")), _percent(result["student_accuracy"])))
    print(table(rows, (f"on {result['held_out']:,} held-out inputs", "float", precision)))
    print("  agreement: inputs whose top output (class) is the teacher's; |output - teacher|: the gap between\n"
          "  a student's output and the teacher's, over every output of every input (one input the student\n"
          "  gets wrong suffices to make the largest gap large); accuracy: inputs whose label it predicts")
    if result.get("float_fixed_agreement") is not None:
        print(f"the float and {precision} students agree on {_percent(result['float_fixed_agreement'])} of the inputs")
    weights = result.get("weight_bytes")
    print(f"weights: {result['float_bytes']:,} bytes as float32"
          + (f", {weights:,} bytes as {precision} (scales and router gates included)" if weights else ""))
    print(f"model file: {result['file_bytes']:,} bytes (.kfn, compressed; activation tables included)")
    print(f"latency: {result['latency_us']:.1f} us for one input; {result['throughput']:,.0f} inputs/s in batches")
    if result.get("router_load"):
        print(f"router load (selections; each input goes to {result.get('top_k', 1)} expert(s)): "
              + ", ".join(f"{d} {n:,}" for d, n in zip(result["domains"], result["router_load"])))
    if result.get("note"):
        print(result["note"])
    for path in result.get("written", []):
        print(f"wrote {path}")
