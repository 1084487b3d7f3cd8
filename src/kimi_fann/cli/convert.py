"""``kimi-fann quantize`` and ``kimi-fann convert``: change a model's arithmetic or its file."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import ConfigError
from ..network import Network
from ._common import add_json_flag, describe, load_inputs, load_model, save_model


def add_parsers(sub: argparse._SubParsersAction) -> None:
    q = sub.add_parser("quantize", help="turn a float network into fixed point",
                       description="Quantize a float network to kimi-fann's Q8/Q16 engine (written as .kfn) "
                                   "or to FANN's fixed point (--fann, written as FANN_FIX_2.0 .net).")
    q.add_argument("model", help="a float network (.net or .kfn)")
    q.add_argument("-o", "--output", required=True, metavar="MODEL", help="the fixed network (.kfn, or .net with --fann)")
    q.add_argument("--calibration", metavar="INPUTS", help="representative inputs (.data, .npy or .csv); required for Q8/Q16")
    q.add_argument("--bits", type=int, choices=(8, 16), default=8, help="activation bits: 8 (Q8) or 16 (Q16)")
    q.add_argument("--weight-bits", type=int, choices=(8, 16), default=8, help="weight bits (16 only with --bits 16)")
    q.add_argument("--fann", action="store_true", help="FANN's fixed point, as fann_save_to_fixed writes it")
    add_json_flag(q)
    q.set_defaults(run=quantize, show=show)

    c = sub.add_parser("convert", help="convert between FANN .net, .kfn and ONNX",
                       description="Read a model (.net, .kfn, .onnx or .safetensors) and write it as .net, .kfn "
                                   "or .onnx.")
    c.add_argument("source", help="the model to read")
    c.add_argument("target", help="the file to write (.net, .kfn or .onnx)")
    c.add_argument("--compress", choices=("deflate", "q8", "q4"), help=".kfn only: lossless deflate, or 8/4-bit weights")
    c.add_argument("--calibration", metavar="INPUTS",
                   help="with --compress q8/q4: inputs (.data, .npy or .csv) on which the compressed model must "
                        "decide as the original does (default: rows the model makes)")
    c.add_argument("--max-error", type=float, metavar="SHARE",
                   help="with --compress q8/q4: the share of calibration rows whose prediction may change "
                        "(default 0.01 for q8, 0.02 for q4); above it nothing is written")
    c.add_argument("--activations", nargs="+", metavar="NAME",
                   help=".safetensors only: activation per layer, or hidden then output")
    add_json_flag(c)
    c.set_defaults(run=convert, show=show)


def quantize(args: argparse.Namespace) -> dict:
    net = load_model(args.model)
    if not isinstance(net, Network):
        raise ConfigError(f"{args.model} holds a {type(net).__name__}; quantize takes a float network")
    if args.fann:
        if Path(args.output).suffix != ".net":
            raise ConfigError("--fann writes a FANN_FIX_2.0 .net file")
        decimal_point = net.save_fixed(args.output)
        return {"model": describe(net), "output": args.output, "format": "fann", "decimal_point": decimal_point}
    if args.calibration is None:
        raise ConfigError("Q8/Q16 quantization needs --calibration inputs")
    x, _ = load_inputs(args.calibration, net.num_input)
    fixed = net.quantize(calibration=x, weight_bits=args.weight_bits, activation_bits=args.bits)
    save_model(args.output, fixed)
    report = fixed.report
    result = {"model": describe(net), "output": args.output, "format": fixed.format,
              "max_abs_error": None if report is None else report.max_abs_error,
              "mean_abs_error": None if report is None else report.mean_abs_error,
              "bytes": Path(args.output).stat().st_size}
    largest = float(abs(net.weights).max(initial=0.0))
    if report is not None and report.max_abs_error > 0.1 and args.weight_bits == 8 and largest >= 100:
        # One 8-bit scale per neuron cannot hold a weight of 1500 (FANN's RPROP limit) and the small
        # weights beside it; the float network's decisions often rest on both.
        result["hint"] = (f"the network's weights reach {largest:g}: 8-bit weights lose the small ones beside them; "
                          "try --bits 16 --weight-bits 16, or a network trained with early stopping "
                          "(as kimi-fann distill trains)")
    return result


def convert(args: argparse.Namespace) -> dict:
    source = Path(args.source)
    if source.suffix == ".safetensors":
        from ..analyzer import from_safetensors

        if not args.activations:
            raise ConfigError("a .safetensors file holds no activations: give --activations")
        acts = args.activations
        model = from_safetensors(source, activations=acts[0] if len(acts) == 1 else acts)
    elif source.suffix == ".onnx":
        from ..analyzer import from_onnx

        model = from_onnx(source)
    else:
        model = load_model(source)
    if args.compress and Path(args.target).suffix != ".kfn":
        raise ConfigError("--compress applies to .kfn output only")
    lossy = args.compress in ("q8", "q4")
    if (args.calibration is not None or args.max_error is not None) and not lossy:
        raise ConfigError("--calibration and --max-error apply to --compress q8 or q4")
    bound = {}
    if lossy:
        width = getattr(model, "num_input", None) or getattr(model, "dim", None)  # a router has dim
        bound = {"calibration": None if args.calibration is None else load_inputs(args.calibration, width)[0],
                 "max_error": args.max_error}
    report = save_model(args.target, model, compress=args.compress, **bound)
    result = {"model": describe(model), "source": args.source, "output": args.target,
              "bytes": Path(args.target).stat().st_size}
    if report is not None:
        result.update(changed=report.changed, max_error=report.max_error, exact_fraction=report.exact_fraction,
                      calibration=f"{report.rows} {report.calibration} rows")
    return result


def show(result: dict) -> None:
    line = f"{result['model']} -> {result['output']}"
    if "bytes" in result:
        line += f" ({result['bytes']} bytes)"
    print(line)
    if result.get("max_abs_error") is not None:
        print(f"quantization error against the float network on the calibration inputs: "
              f"max {result['max_abs_error']:.3g}, mean {result['mean_abs_error']:.3g}")
    if "hint" in result:
        print(f"note: {result['hint']}")
    if "changed" in result:
        print(f"{100 * result['changed']:.2f}% of {result['calibration']} changed their prediction "
              f"(limit {100 * result['max_error']:.2f}%); {100 * result['exact_fraction']:.1f}% of the weights kept exactly")
    if "decimal_point" in result:
        print(f"FANN fixed point, decimal point {result['decimal_point']}")
