"""``kimi-fann analyze`` and ``kimi-fann bench``: what a model holds and how fast it runs."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..network import Network
from ..simd import PATHS
from ._common import Progress, add_json_flag, describe, load_inputs, load_model, table


def add_parsers(sub: argparse._SubParsersAction) -> None:
    a = sub.add_parser("analyze", help="per-layer and per-expert statistics of a model",
                       description="Shapes, parameters, MACs, bytes, weight statistics, sparsity, activation "
                                   "ranges, quantization SQNR, dead and saturated neurons, router load.")
    a.add_argument("model", help="a .net or .kfn model")
    a.add_argument("--data", metavar="INPUTS", help="inputs to measure activations and load on (.data, .npy, .csv)")
    a.add_argument("--report", metavar="JSON", help="write the report as JSON (schema: kimi_fann.analyzer.report_schema())")
    a.add_argument("--plots", metavar="DIR", help="draw the report's figures into DIR (needs matplotlib)")
    a.add_argument("--format", choices=("png", "svg"), default="png", help="figure format (default png)")
    add_json_flag(a)
    a.set_defaults(run=analyze, show=show_analysis)

    b = sub.add_parser("bench", help="latency and throughput of a model",
                       description="Latency percentiles and throughput per batch size, the SIMD path and memory.")
    b.add_argument("model", nargs="?", help="a .net or .kfn model (default: a random network of --layers)")
    b.add_argument("--layers", type=int, nargs="+", default=[64, 128, 64, 8], metavar="N",
                   help="layers of the random network when no model is given (default 64 128 64 8)")
    b.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 16, 256, 4096], metavar="N")
    b.add_argument("--repeats", type=int, default=30, help="timed calls per batch size (default 30)")
    b.add_argument("--threads", type=int, help="threads (default: all cores for large batches)")
    b.add_argument("--simd", choices=PATHS, help="force a kernel path")
    b.add_argument("--report", metavar="JSON", help="write the report as JSON")
    b.add_argument("--plots", metavar="DIR", help="draw latency against batch size into DIR")
    b.add_argument("--format", choices=("png", "svg"), default="png")
    add_json_flag(b)
    b.set_defaults(run=bench, show=show_bench)


def _finish(report, args: argparse.Namespace, stem: str) -> dict:
    result = report.to_dict()
    if args.report:
        report.save(args.report)
        result["written"] = [args.report]
    if args.plots:
        from ..analyzer import plot

        folder = Path(args.plots)
        folder.mkdir(parents=True, exist_ok=True)
        paths = plot(report, folder / f"{stem}.{args.format}")
        result.setdefault("written", []).extend(str(p) for p in paths)
    return result


def analyze(args: argparse.Namespace) -> dict:
    from ..analyzer import analyze as run_analysis

    model = load_model(args.model)
    data = None
    if args.data:
        data, _ = load_inputs(args.data, model.num_input if hasattr(model, "num_input") else model.dim)
    return _finish(run_analysis(model, data), args, "analysis")


def show_analysis(result: dict) -> None:
    print(f"{result['model']}: {result['parameters']} parameters, {result['macs']} MACs per input, "
          f"{result['stored_bytes']} bytes stored ({result['float_bytes']} as float32)")
    layers = result.get("layers") or []
    if layers:
        print(table(((l["layer"], f"{l['inputs']}->{l['outputs']}", l["activation"], l["parameters"], l["sparsity"],
                      l["weight_min"], l["weight_max"], l.get("sqnr_db"),
                      len(l.get("dead_neurons") or []), len(l.get("saturated_neurons") or [])) for l in layers),
                    ("layer", "shape", "activation", "params", "sparsity", "w min", "w max", "SQNR dB", "dead", "saturated")))
    for e in result.get("experts") or []:
        print(f"expert {e['index']} ({e['domain']}): {e['model']}, {e['parameters']} parameters"
              + (f", {e['samples']} inputs routed" if e.get("samples") is not None else ""))
    router = result.get("router")
    if router and router.get("load") is not None:
        print(f"router load {router['load']}: entropy {router['entropy']:.3f}, max/mean {router['max_mean_ratio']:.2f}")
    for note in result.get("notes") or []:
        print(f"note: {note}")
    for path in result.get("written", []):
        print(f"wrote {path}")


def bench(args: argparse.Namespace) -> dict:
    from ..analyzer import profile

    model = load_model(args.model) if args.model else Network(args.layers, seed=0)
    with Progress(len(args.batch_sizes), "benchmarking", unit="batch size") as bar:
        report = profile(model, batch_sizes=tuple(args.batch_sizes), repeats=args.repeats, threads=args.threads,
                         simd=args.simd)
        bar.update(len(args.batch_sizes))
    result = _finish(report, args, "latency")
    result["description"] = describe(model)
    return result


def show_bench(result: dict) -> None:
    print(f"{result['description']} on the {result['simd']} path, model {result['model_bytes']} bytes")
    print(table(((t["batch_size"], t["p50_us"], t["p90_us"], t["p99_us"], t["samples_per_second"])
                 for t in result["timings"]),
                ("batch", "p50 us", "p90 us", "p99 us", "samples/s")))
    for path in result.get("written", []):
        print(f"wrote {path}")
