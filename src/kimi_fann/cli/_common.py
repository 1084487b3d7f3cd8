"""What the subcommands share: reading models and inputs, writing outputs, progress bars, tables."""

from __future__ import annotations

import argparse
import os
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..data import TrainingData
from ..errors import ConfigError, FormatError
from ..fixed import FannFixedNetwork, FixedNetwork
from ..network import Network

Handler = Callable[[argparse.Namespace], dict]
Printer = Callable[[dict], None]


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def load_model(path: str | os.PathLike) -> Any:
    """A model from a FANN .net (float or fixed, told apart by its first line) or a .kfn file."""
    from .. import kfn

    p = Path(path)
    if p.suffix == ".kfn":
        return kfn.load(p)
    if p.suffix == ".net":
        with open(p, "rb") as f:
            head = f.read(16)
        return FixedNetwork.load(p) if head.startswith(b"FANN_FIX") else Network.load(p)
    raise ConfigError(f"{p}: expected a FANN .net or a .kfn model file")


def load_inputs(path: str | os.PathLike, columns: int | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """(inputs, outputs or None) from a FANN .data file, a .npy array or a CSV file of numbers."""
    p = Path(path)
    outputs = None
    if p.suffix in (".data", ".train", ".test"):
        data = TrainingData.load(p)
        inputs, outputs = data.inputs, data.outputs
    elif p.suffix == ".npy":
        try:
            inputs = np.load(p, allow_pickle=False)
        except ValueError as exc:
            raise FormatError(f"{p}: not a numeric .npy array ({exc})") from exc
        if not (np.issubdtype(inputs.dtype, np.number) or inputs.dtype == np.bool_):
            raise FormatError(f"{p}: not a numeric .npy array (dtype {inputs.dtype})")
    elif p.suffix in (".csv", ".txt"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "input contained no data": refused below
            try:
                inputs = np.loadtxt(p, delimiter="," if p.suffix == ".csv" else None, ndmin=2, dtype=np.float64)
            except ValueError as exc:
                raise FormatError(f"{p}: not a table of numbers ({exc})") from exc
        if inputs.size == 0:
            raise FormatError(f"{p}: holds no rows of numbers")
    else:
        raise ConfigError(f"{p}: expected inputs as .data, .npy or .csv")
    inputs = np.asarray(inputs)
    if inputs.ndim == 1:
        inputs = inputs.reshape(1, -1)
    if columns is not None and (inputs.ndim != 2 or inputs.shape[1] != columns):
        raise FormatError(f"{p}: the model takes {columns} inputs per row; the file has shape {inputs.shape}")
    return inputs, outputs


def write_array(path: str | os.PathLike, values: np.ndarray) -> None:
    """Write values to .npy or .csv (atomically)."""
    import io

    from .._io import write_atomic

    p = Path(path)
    buffer = io.BytesIO()
    if p.suffix == ".npy":
        np.save(buffer, values, allow_pickle=False)
    elif p.suffix == ".csv":
        np.savetxt(buffer, np.atleast_2d(values), delimiter=",", fmt="%.9g")
    else:
        raise ConfigError(f"{p}: outputs are written as .npy or .csv")
    write_atomic(p, buffer.getvalue())


def save_model(path: str | os.PathLike, model: Any, *, compress: str | None = "deflate", calibration: Any = None,
               max_error: float | None = None) -> Any:
    """Write a model as .kfn (any kind; lossless deflate unless told otherwise), FANN .net (a
    float or FANN fixed network) or .onnx. Returns the CompressionReport of a lossy .kfn (q8/q4,
    measured on ``calibration`` within ``max_error``), else None."""
    from .. import kfn

    p = Path(path)
    if p.suffix == ".kfn":
        return kfn.save(p, model, compress=compress, calibration=calibration, max_error=max_error)
    elif p.suffix == ".net":
        if not isinstance(model, (Network, FannFixedNetwork)):
            kind = f"FixedNetwork ({model.format})" if isinstance(model, FixedNetwork) else type(model).__name__
            raise ConfigError(f"{p}: a FANN .net holds a float or FANN fixed-point network; use .kfn for {kind}")
        model.save(p)
    elif p.suffix == ".onnx":
        from ..analyzer import to_onnx

        if not isinstance(model, Network):
            raise ConfigError(f"{p}: ONNX export takes a float Network, got {type(model).__name__}")
        to_onnx(model, p)
    else:
        raise ConfigError(f"{p}: expected a .kfn, .net or .onnx output path")
    return None


def describe(model: Any) -> str:
    """A one-line name of a model for summaries."""
    from ..mixture import MixtureOfExperts
    from ..router import Router

    if isinstance(model, Network):
        return "Network " + "-".join(map(str, model.layers))
    if isinstance(model, FixedNetwork):
        return f"FixedNetwork ({model.format}) " + "-".join(map(str, model.layers))
    if isinstance(model, Router):
        return f"Router {model.n_experts} experts x {model.dim}, top {model.top_k}"
    if isinstance(model, MixtureOfExperts):
        return f"MixtureOfExperts {len(model.experts)} experts, top {model.router.top_k}"
    return type(model).__name__


class Progress:
    """A tqdm progress bar on stderr when tqdm is installed and stderr is a terminal (or when
    forced with ``show=True``); nothing otherwise."""

    def __init__(self, total: int, description: str, *, show: bool | None = None, unit: str = "it") -> None:
        self._bar = None
        self._done = 0
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return
        self._bar = tqdm(total=total, desc=description, unit=unit, leave=False,
                         disable=None if show is None else not show)

    def update(self, n: int = 1) -> None:
        self._done += n
        if self._bar is not None:
            self._bar.update(n)

    def advance_to(self, done: int) -> None:
        """Move the bar to ``done`` (for callers that report a running total)."""
        self.update(done - self._done)

    def describe(self, text: str) -> None:
        """Show text after the bar (the latest error, say)."""
        if self._bar is not None:
            self._bar.set_postfix_str(text)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def table(rows: Iterable[Sequence[Any]], header: Sequence[str]) -> str:
    """A plain text table, columns padded to their widest cell."""
    cells = [[str(h) for h in header]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "-" if value is None else str(value)
