"""``kimi-fann run`` and ``kimi-fann route``: a model on a file of inputs."""

from __future__ import annotations

import argparse

import numpy as np

from ..errors import ConfigError
from ..mixture import MixtureOfExperts
from ..router import Router
from ._common import add_json_flag, describe, load_inputs, load_model, write_array

_SHOWN_ROWS = 10


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run a model on inputs",
                       description="Run a network, fixed network or mixture on inputs (.data, .npy or .csv).")
    p.add_argument("model", help="a .net or .kfn model")
    p.add_argument("inputs", help="inputs: FANN .data (its outputs are compared), .npy or .csv")
    p.add_argument("-o", "--output", metavar="FILE", help="write the outputs (.npy or .csv)")
    p.add_argument("--threads", type=int, help="threads for large batches (default: all cores)")
    add_json_flag(p)
    p.set_defaults(run=run, show=show)

    r = sub.add_parser("route", help="route inputs with a router or mixture",
                       description="The experts a router (or a mixture's router) picks for each input, "
                                   "with their weights and the load per expert.")
    r.add_argument("model", help="a .kfn holding a Router or a MixtureOfExperts")
    r.add_argument("inputs", help="inputs: FANN .data, .npy or .csv")
    r.add_argument("-o", "--output", metavar="FILE",
                   help="write experts and weights side by side (.npy or .csv): k indices then k weights per row")
    add_json_flag(r)
    r.set_defaults(run=route, show=show_route)


def run(args: argparse.Namespace) -> dict:
    model = load_model(args.model)
    if isinstance(model, Router):
        raise ConfigError(f"{args.model} holds a Router: use 'kimi-fann route'")
    x, desired = load_inputs(args.inputs, model.num_input)
    y = model.run(x, threads=args.threads)
    result: dict = {"model": describe(model), "rows": int(len(x)), "outputs_per_row": int(y.shape[1])}
    if desired is not None and desired.shape == y.shape:
        result["mse"] = float(np.mean((y - desired) ** 2))
        if y.shape[1] > 1:
            result["accuracy"] = float(np.mean(y.argmax(1) == desired.argmax(1)))
    if args.output:
        write_array(args.output, y)
        result["output"] = args.output
    else:
        result["outputs"] = y.tolist()
    return result


def show(result: dict) -> None:
    print(f"{result['model']}: {result['rows']} rows")
    for row in result.get("outputs", [])[:_SHOWN_ROWS]:
        print("  " + " ".join(f"{v:.6g}" for v in row))
    if len(result.get("outputs", [])) > _SHOWN_ROWS:
        print(f"  ... {result['rows'] - _SHOWN_ROWS} more rows (use --output or --json for all)")
    if "mse" in result:
        line = f"MSE against the file's outputs {result['mse']:.6f}"
        if "accuracy" in result:
            line += f", accuracy {100 * result['accuracy']:.1f}%"
        print(line)
    if "output" in result:
        print(f"wrote {result['output']}")


def route(args: argparse.Namespace) -> dict:
    model = load_model(args.model)
    router = model.router if isinstance(model, MixtureOfExperts) else model
    if not isinstance(router, Router):
        raise ConfigError(f"{args.model} holds a {type(model).__name__}, not a Router or MixtureOfExperts")
    x, _ = load_inputs(args.inputs, router.dim)
    experts, weights, load = router.route(x, return_load=True)
    domains = model.domains if isinstance(model, MixtureOfExperts) else tuple(f"expert_{i}" for i in range(router.n_experts))
    result: dict = {"model": describe(model), "rows": int(len(x)), "top_k": router.top_k,
                    "load": {d: int(c) for d, c in zip(domains, load)}}
    if args.output:
        write_array(args.output, np.hstack([experts.astype(np.float64), weights.astype(np.float64)]))
        result["output"] = args.output
    else:
        result["experts"], result["weights"] = experts.tolist(), weights.tolist()
    return result


def show_route(result: dict) -> None:
    print(f"{result['model']}: {result['rows']} rows routed")
    for e, w in list(zip(result.get("experts", []), result.get("weights", [])))[:_SHOWN_ROWS]:
        print("  " + ", ".join(f"{i}:{v:.3f}" for i, v in zip(e, w)))
    if "experts" in result and result["rows"] > _SHOWN_ROWS:
        print(f"  ... {result['rows'] - _SHOWN_ROWS} more rows (use --output or --json for all)")
    total = max(sum(result["load"].values()), 1)
    print("load per expert:")
    for name, count in result["load"].items():
        print(f"  {name:<16} {count:>8}  {100 * count / total:5.1f}%")
    if "output" in result:
        print(f"wrote {result['output']}")
