"""Import MLP weights from torch, scikit-learn and safetensors; export float networks to ONNX.

A multilayer perceptron maps onto a FANN network one to one: each fully connected layer is a
FANN layer whose bias is the weight from the previous layer's bias neuron, and each activation
is a FANN activation function with the steepness that makes it compute the same function.
FANN applies ``f(steepness * sum)`` (``csrc/src/activation.c``), so:

==================  ==================================  =========
source activation   FANN function (of x = s * sum)      steepness
==================  ==================================  =========
identity / none     ``linear``: x                       1.0
ReLU                ``relu``: max(x, 0)                 1.0
LeakyReLU(0.01)     ``leaky_relu``: slope 0.01 below 0  1.0
tanh                ``sigmoid_symmetric``: tanh(x)      1.0
sigmoid / logistic  ``sigmoid``: 1 / (1 + exp(-2 x))    0.5
==================  ==================================  =========

Two of FANN's rules carry over to imported networks and are worth knowing:

* FANN has no softmax. A softmax output layer is imported as its logits (``linear``): the
  network's outputs are the logits, their argmax is the predicted class, and
  ``softmax(net.run(x))`` gives the source model's probabilities.
* FANN bounds every pre-activation ``steepness * sum`` to ``+-150 / steepness``. That changes
  nothing for tanh and sigmoid (saturated long before), but an imported ``linear``, ``relu``
  or ``leaky_relu`` neuron (steepness 1) whose pre-activation exceeds 150 in magnitude is
  clipped to +-150. Scale regression targets and inputs so that values stay below that.

Each framework is imported only by the function that needs it (torch for :func:`from_torch`,
onnx for :func:`to_onnx`); :func:`from_sklearn` and :func:`from_safetensors` need neither
scikit-learn nor the ``safetensors`` package.

Examples
--------
>>> import math, kimi_fann as kf
>>> net = kf.Network([1, 2], output="sigmoid", steepness=0.5)
>>> net.set_activation("sigmoid_symmetric", steepness=1.0, layer="output", neuron=1)
>>> net.weights = [2.0, 0.0, 2.0, 0.0]  # each output: 2 * x + 0 * bias
>>> logistic, tanh = net.run([0.25]).tolist()
>>> abs(logistic - 1 / (1 + math.exp(-0.5))) < 1e-7, abs(tanh - math.tanh(0.5)) < 1e-7
(True, True)
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Sequence
from typing import Any, BinaryIO

import numpy as np

from .._io import PathLike, write_atomic
from ..errors import ConfigError, FileError, FormatError
from ..network import ACTIVATIONS, Network

__all__ = ["from_torch", "from_sklearn", "from_safetensors", "from_onnx", "to_onnx", "ActivationSpec"]

#: An activation for :func:`from_safetensors`: a name, or a FANN name with its steepness.
ActivationSpec = str | tuple[str, float]

# Mathematical activation names -> (FANN function, steepness) computing the same function.
_EXACT: dict[str, tuple[str, float]] = {
    "linear": ("linear", 1.0),
    "identity": ("linear", 1.0),
    "relu": ("relu", 1.0),
    "leaky_relu": ("leaky_relu", 1.0),
    "tanh": ("sigmoid_symmetric", 1.0),
    "sigmoid": ("sigmoid", 0.5),
    "logistic": ("sigmoid", 0.5),
}

# One fully connected layer: weight (out, in), bias (out,), FANN function, steepness.
_Layer = tuple[np.ndarray, np.ndarray, str, float]


def _build(layers: list[_Layer]) -> Network:
    """A standard FANN network holding the given layers' weights and activations."""
    sizes = [int(layers[0][0].shape[1])] + [int(w.shape[0]) for w, _, _, _ in layers]
    net = Network(sizes, hidden="linear", output="linear", steepness=1.0, seed=0)
    for index, (_, _, function, steepness) in enumerate(layers, start=1):
        net.set_activation(function, steepness=steepness, layer=index)
    # FANN's connection order: neuron by neuron, its inputs in order, the bias neuron last.
    net.weights = np.concatenate([np.hstack([w, b.reshape(-1, 1)]).ravel() for w, b, _, _ in layers])
    return net


def _check_chain(layers: list[_Layer], names: list[str]) -> None:
    for k in range(1, len(layers)):
        if layers[k][0].shape[1] != layers[k - 1][0].shape[0]:
            raise ConfigError(
                f"layer {names[k]} takes {layers[k][0].shape[1]} inputs but layer {names[k - 1]} "
                f"gives {layers[k - 1][0].shape[0]} outputs"
            )


# ---------------------------------------------------------------------------------------------
# torch


def from_torch(module: Any) -> Network:
    """A network with the weights and activations of a torch ``nn.Sequential`` MLP.

    Parameters
    ----------
    module : torch.nn.Sequential
        ``nn.Linear`` layers, each optionally followed by one activation: ``nn.ReLU``,
        ``nn.LeakyReLU`` with its default slope 0.01, ``nn.Tanh`` or ``nn.Sigmoid`` (a Linear
        not followed by one is linear). Nested ``nn.Sequential`` containers are flattened.
        ``nn.Identity`` and ``nn.Dropout`` are skipped: the import has eval-mode semantics, in
        which dropout is the identity. An ``nn.Softmax`` or ``nn.LogSoftmax`` as the very last
        module is dropped and the network outputs the logits (same argmax; apply a softmax to
        ``run``'s output to get the module's probabilities).

    Returns
    -------
    Network
        A standard (fully connected) float32 network whose ``run`` equals the module's forward
        pass in eval mode, up to float32 rounding.

    Raises
    ------
    ImportError
        If torch is not installed.
    ConfigError
        If ``module`` is not an ``nn.Sequential``, or holds a layer that has no FANN
        counterpart (the message names it: BatchNorm, convolutions, GELU, a LeakyReLU with
        another slope, a softmax before the end, two activations in a row...), or if
        consecutive Linear layers do not fit together.
    NumericError
        If a weight is NaN or infinite.

    Examples
    --------
    >>> import torch  # doctest: +SKIP
    >>> from kimi_fann.analyzer import from_torch
    >>> model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))  # doctest: +SKIP
    >>> net = from_torch(model)  # doctest: +SKIP
    >>> net.layers, net.get_activation(1, 0)  # doctest: +SKIP
    ((4, 8, 3), ('sigmoid_symmetric', 1.0))
    """
    try:
        import torch
        from torch import nn
    except ImportError as exc:
        raise ImportError("from_torch needs PyTorch: pip install 'kimi-fann[torch]' (or pip install torch)") from exc

    if not isinstance(module, nn.Sequential):
        raise ConfigError(f"from_torch takes a torch.nn.Sequential, got {type(module).__name__}")

    def flatten(seq: Any, prefix: str) -> list[tuple[str, Any]]:
        items: list[tuple[str, Any]] = []
        for name, child in seq.named_children():
            path = f"{prefix}{name}"
            if type(child) is nn.Sequential:
                items.extend(flatten(child, path + "."))
            elif type(child) not in (nn.Identity, nn.Dropout):
                items.append((path, child))
        return items

    modules = flatten(module, "")
    activations: dict[type, tuple[str, float]] = {
        nn.ReLU: _EXACT["relu"],
        nn.LeakyReLU: _EXACT["leaky_relu"],
        nn.Tanh: _EXACT["tanh"],
        nn.Sigmoid: _EXACT["sigmoid"],
    }
    supported = "nn.Linear, nn.ReLU, nn.LeakyReLU(0.01), nn.Tanh, nn.Sigmoid, nn.Identity, nn.Dropout and a final nn.Softmax"
    layers: list[_Layer] = []
    names: list[str] = []
    pending: tuple[np.ndarray, np.ndarray] | None = None

    def tensor(t: Any) -> np.ndarray:
        return np.array(t.detach().to(device="cpu", dtype=torch.float32).numpy(), dtype=np.float32)

    for position, (path, child) in enumerate(modules):
        kind = type(child)
        label = f"{path} ({kind.__name__})"
        if kind is nn.Linear:
            if pending is not None:
                layers.append((*pending, "linear", 1.0))
            weight = tensor(child.weight)
            bias = tensor(child.bias) if child.bias is not None else np.zeros(weight.shape[0], dtype=np.float32)
            pending = (weight, bias)
            names.append(label)
            continue
        if kind in (nn.Softmax, nn.LogSoftmax):
            if position != len(modules) - 1 or pending is None or child.dim not in (None, -1, 1):
                raise ConfigError(
                    f"layer {label} is not supported: a softmax is imported only as the last module, "
                    "right after an nn.Linear, over the last dimension (the network then outputs logits)"
                )
            layers.append((*pending, "linear", 1.0))
            pending = None
            continue
        if kind in activations:
            if kind is nn.LeakyReLU and child.negative_slope != 0.01:
                raise ConfigError(
                    f"layer {label} has negative_slope {child.negative_slope}; FANN's leaky_relu has slope 0.01"
                )
            if pending is None:
                where = "comes first" if not layers else "follows another activation"
                raise ConfigError(f"layer {label} {where}; each activation must follow an nn.Linear")
            layers.append((*pending, *activations[kind]))
            pending = None
            continue
        raise ConfigError(f"layer {label} is not supported; from_torch takes {supported}")
    if pending is not None:
        layers.append((*pending, "linear", 1.0))
    if not layers:
        raise ConfigError("the nn.Sequential holds no nn.Linear layer")
    _check_chain(layers, names)
    return _build(layers)


# ---------------------------------------------------------------------------------------------
# scikit-learn

_SKLEARN_HIDDEN = {"identity": "linear", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu"}
_SKLEARN_OUTPUT = {"identity": "linear", "logistic": "sigmoid", "softmax": "linear"}


def from_sklearn(estimator: Any) -> Network:
    """A network with the weights of a fitted scikit-learn ``MLPClassifier`` or ``MLPRegressor``.

    Parameters
    ----------
    estimator : sklearn.neural_network.MLPClassifier or MLPRegressor
        Fitted, with ``activation`` one of identity, logistic, tanh, relu. scikit-learn itself
        is not imported: the estimator's fitted attributes (``coefs_``, ``intercepts_``,
        ``activation``, ``out_activation_``) are read.

    Returns
    -------
    Network
        Its outputs by ``out_activation_``:

        * ``identity`` (regressors): ``run(x)`` equals ``predict(x)`` (2-D, one column per target).
        * ``logistic`` (binary and multilabel classifiers): ``run(x)`` gives the positive-class
          probabilities; for a binary classifier ``predict_proba(x)[:, 1]``.
        * ``softmax`` (multiclass classifiers): FANN has no softmax, so the output layer is
          linear and ``run(x)`` gives the logits. Their argmax is ``predict``'s class index
          (``estimator.classes_[argmax]``), and ``softmax(run(x))`` equals ``predict_proba(x)``.

    Raises
    ------
    ConfigError
        If the estimator is not an MLPClassifier/MLPRegressor, is not fitted, or uses an
        activation FANN lacks.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from sklearn.neural_network import MLPClassifier
    >>> from kimi_fann.analyzer import from_sklearn
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(90, 4)); y = np.argmax(X[:, :3], axis=1)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     clf = MLPClassifier(hidden_layer_sizes=(6,), activation="tanh", max_iter=50, random_state=0).fit(X, y)
    >>> net = from_sklearn(clf)
    >>> net.layers
    (4, 6, 3)
    >>> bool((net.run(X).argmax(axis=1) == clf.predict(X)).all())
    True
    """
    kind = next(
        (
            c.__name__
            for c in type(estimator).__mro__
            if c.__name__ in ("MLPClassifier", "MLPRegressor") and c.__module__.startswith("sklearn.")
        ),
        None,
    )
    if kind is None:
        raise ConfigError(
            f"from_sklearn takes a scikit-learn MLPClassifier or MLPRegressor, got {type(estimator).__name__}"
        )
    coefs = getattr(estimator, "coefs_", None)
    intercepts = getattr(estimator, "intercepts_", None)
    if coefs is None or intercepts is None:
        raise ConfigError(f"the {kind} is not fitted (it has no coefs_); call fit first")
    activation, out_activation = getattr(estimator, "activation", None), getattr(estimator, "out_activation_", None)
    hidden = _SKLEARN_HIDDEN.get(str(activation))
    if hidden is None:
        raise ConfigError(f"{kind} activation {activation!r} has no FANN counterpart")
    output = _SKLEARN_OUTPUT.get(str(out_activation))
    if output is None:
        raise ConfigError(f"{kind} out_activation_ {out_activation!r} has no FANN counterpart")
    if len(coefs) != len(intercepts) or not coefs:
        raise ConfigError(f"the {kind} has {len(coefs)} coefs_ and {len(intercepts)} intercepts_")
    layers: list[_Layer] = []
    names: list[str] = []
    for k, (coef, intercept) in enumerate(zip(coefs, intercepts)):
        w = np.asarray(coef, dtype=np.float64)
        b = np.asarray(intercept, dtype=np.float64)
        if w.ndim != 2 or b.shape != (w.shape[1],):
            raise ConfigError(f"{kind} layer {k}: coefs_ shape {w.shape} and intercepts_ shape {b.shape} do not fit")
        function, steepness = _EXACT[output if k == len(coefs) - 1 else hidden]
        layers.append((w.T.astype(np.float32), b.astype(np.float32), function, steepness))
        names.append(str(k))
    _check_chain(layers, names)
    return _build(layers)


# ---------------------------------------------------------------------------------------------
# safetensors

#: Header size limit, as in the safetensors format's own reader.
_MAX_HEADER = 100 * 1024 * 1024
_ST_ITEMSIZE = {
    "BOOL": 1, "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1,
    "U16": 2, "I16": 2, "F16": 2, "BF16": 2,
    "U32": 4, "I32": 4, "F32": 4,
    "U64": 8, "I64": 8, "F64": 8,
}  # fmt: skip
_ST_FLOAT = {"F16": "<f2", "BF16": "<u2", "F32": "<f4", "F64": "<f8"}
_LAYER_NAME = re.compile(r"^(.*?)(\d+)\.([A-Za-z_]+)$")


class _Tensor:
    __slots__ = ("name", "dtype", "shape", "begin", "end")

    def __init__(self, name: str, dtype: str, shape: tuple[int, ...], begin: int, end: int) -> None:
        self.name, self.dtype, self.shape, self.begin, self.end = name, dtype, shape, begin, end


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _read_header(f: BinaryIO, name: str, size: int) -> tuple[dict[str, _Tensor], int]:
    """The tensors a safetensors header declares, each checked against the file, and the
    offset of the data. Nothing larger than the file is ever allocated."""
    if size < 8:
        raise FormatError(f"{name}: {size} bytes is too short for a safetensors file (it starts with an 8-byte header length)")
    length = int.from_bytes(f.read(8), "little")
    if length < 2 or length > size - 8 or length > _MAX_HEADER:
        raise FormatError(
            f"{name}: header length {length} is impossible: the file has {size - 8} bytes after it "
            f"(and headers are at most {_MAX_HEADER} bytes)"
        )
    raw = f.read(length)
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise FormatError(f"{name}: the header is not valid JSON: {exc}") from None
    if not isinstance(header, dict):
        raise FormatError(f"{name}: the header must be a JSON object, found {type(header).__name__}")
    data_start = 8 + length
    data_size = size - data_start
    tensors: dict[str, _Tensor] = {}
    for key, info in header.items():
        if key == "__metadata__":
            if not isinstance(info, dict):
                raise FormatError(f"{name}: __metadata__ must be an object")
            continue
        where = f"{name}: tensor {key!r}"
        if not isinstance(info, dict):
            raise FormatError(f"{where}: expected an object with dtype, shape and data_offsets")
        dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
        if not isinstance(dtype, str):
            raise FormatError(f"{where}: dtype must be a string, found {dtype!r}")
        if (
            not isinstance(shape, list)
            or len(shape) > 64
            or not all(_is_int(d) and 0 <= d < 2**63 for d in shape)
        ):
            raise FormatError(f"{where}: shape must be a list of non-negative integers, found {shape!r}")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_int(o) for o in offsets)):
            raise FormatError(f"{where}: data_offsets must be two integers, found {offsets!r}")
        begin, end = offsets
        if not 0 <= begin <= end <= data_size:
            raise FormatError(
                f"{where}: data_offsets [{begin}, {end}] are outside the {data_size} data bytes "
                f"(byte {data_start} on)"
            )
        itemsize = _ST_ITEMSIZE.get(dtype)
        if itemsize is not None and math.prod(shape) * itemsize != end - begin:
            raise FormatError(
                f"{where}: {dtype} of shape {tuple(shape)} needs {math.prod(shape) * itemsize} bytes, "
                f"data_offsets give {end - begin}"
            )
        tensors[key] = _Tensor(key, dtype, tuple(shape), begin, end)
    spans = sorted((t.begin, t.end, t.name) for t in tensors.values() if t.end > t.begin)
    for (_b0, e0, n0), (b1, _, n1) in zip(spans, spans[1:]):
        if b1 < e0:
            raise FormatError(f"{name}: tensors {n0!r} and {n1!r} overlap (bytes {b1}..{e0})")
    return tensors, data_start


def _read_tensor(f: BinaryIO, name: str, data_start: int, t: _Tensor) -> np.ndarray:
    code = _ST_FLOAT.get(t.dtype)
    if code is None:
        raise FormatError(f"{name}: tensor {t.name!r} has dtype {t.dtype}; expected one of F32, F16, BF16, F64")
    f.seek(data_start + t.begin)
    raw = f.read(t.end - t.begin)
    if len(raw) != t.end - t.begin:
        raise FormatError(f"{name}: tensor {t.name!r} is cut short ({len(raw)} of {t.end - t.begin} bytes)")
    values = np.frombuffer(raw, dtype=code).reshape(t.shape)
    if t.dtype == "BF16":  # bfloat16 is the top half of a float32
        values = (values.astype(np.uint32) << 16).view(np.float32)
    with np.errstate(over="ignore"):
        out = values.astype(np.float32)
    if not np.isfinite(out).all():
        raise FormatError(f"{name}: tensor {t.name!r} holds NaN or infinity (or values beyond float32)")
    return out


def _activation(spec: Any, layer: int) -> tuple[str, float]:
    if isinstance(spec, str):
        if spec in _EXACT:
            return _EXACT[spec]
        if spec in ACTIVATIONS:
            return spec, 1.0
    elif (
        isinstance(spec, tuple)
        and len(spec) == 2
        and isinstance(spec[0], str)
        and spec[0] in ACTIVATIONS
        and isinstance(spec[1], (int, float))
        and not isinstance(spec[1], bool)
        and math.isfinite(spec[1])
    ):
        return spec[0], float(spec[1])
    raise ConfigError(
        f"activation {spec!r} of layer {layer}: expected one of {', '.join(_EXACT)}, a FANN "
        f"function name ({', '.join(ACTIVATIONS)}) or a (FANN name, steepness) pair"
    )


def from_safetensors(
    path: PathLike,
    *,
    activations: str | Sequence[ActivationSpec],
    prefix: str | None = None,
) -> Network:
    """A network from the Linear layers stored in a ``.safetensors`` file.

    The file is read directly (the ``safetensors`` package is not needed): an 8-byte
    little-endian header length, a JSON header giving each tensor's dtype, shape and byte
    range, then the raw little-endian data. F32, F16, BF16 and F64 tensors are read (as
    float32). Every length and offset is checked against the file before anything is read, so a
    damaged or hostile file raises :class:`FormatError` and never makes the reader allocate
    more than the file holds.

    Layers are the tensors named ``<prefix><index>.weight`` (shape ``(out, in)``, as torch,
    Candle and Hugging Face store a Linear layer) and ``<prefix><index>.bias`` (shape
    ``(out,)``; zero when absent), taken in the order of their numeric index: the
    ``state_dict`` of an ``nn.Sequential`` (``0.weight``, ``2.weight``...),
    ``layers.0.weight``, ``fc1.weight``... Other tensors are ignored.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.safetensors`` file.
    activations : str or sequence
        The file has no activations, so they are given here: one for every layer (a string),
        one per layer, or two (hidden layers, output layer). Each is ``"linear"`` (or
        ``"identity"``), ``"relu"``, ``"leaky_relu"`` (slope 0.01), ``"tanh"`` or
        ``"sigmoid"`` (``"logistic"``), meaning the mathematical function as torch computes
        it; any other FANN function name, applied with steepness 1; or a
        ``(FANN name, steepness)`` pair. A softmax output is given as ``"linear"`` (logits).
    prefix : str, optional
        The name prefix of the layers (``"layers."``, ``"fc"``, ``""``...). Needed only when
        the file holds more than one numbered group of weights.

    Returns
    -------
    Network
        A standard float32 network.

    Raises
    ------
    FileError
        If the file cannot be read.
    FormatError
        If the file is not valid safetensors (bad header length or JSON, offsets outside the
        data or overlapping, sizes that do not match shapes), holds no layer weights, or
        holds layer tensors of the wrong dtype, rank or shape, or NaN or infinite weights.
        The message names the file.
    ConfigError
        If ``activations`` does not fit the number of layers or names an unknown function, or
        the layer prefix is ambiguous.

    Examples
    --------
    >>> import json, os, tempfile
    >>> import numpy as np
    >>> from kimi_fann.analyzer import from_safetensors
    >>> w0 = np.arange(6, dtype="<f4").reshape(3, 2) / 10; w1 = np.ones((1, 3), dtype="<f4")
    >>> header = {"0.weight": {"dtype": "F32", "shape": [3, 2], "data_offsets": [0, 24]},
    ...           "2.weight": {"dtype": "F32", "shape": [1, 3], "data_offsets": [24, 36]}}
    >>> head = json.dumps(header).encode()
    >>> path = os.path.join(tempfile.mkdtemp(), "mlp.safetensors")
    >>> with open(path, "wb") as f:
    ...     _ = f.write(len(head).to_bytes(8, "little") + head + w0.tobytes() + w1.tobytes())
    >>> net = from_safetensors(path, activations=["relu", "linear"])
    >>> net.layers
    (2, 3, 1)
    >>> net.run([1.0, 1.0]).round(4).tolist()  # relu([0.1, 0.5, 0.9]) summed
    [1.5]
    """
    name = os.fspath(path)
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            tensors, data_start = _read_header(f, name, size)
            groups: dict[str, dict[int, dict[str, _Tensor]]] = {}
            for key, t in tensors.items():
                match = _LAYER_NAME.match(key)
                if match is not None:
                    group = groups.setdefault(match.group(1), {})
                    group.setdefault(int(match.group(2)), {})[match.group(3)] = t
            if prefix is None:
                with_weights = sorted(p for p, g in groups.items() if any("weight" in parts for parts in g.values()))
                if not with_weights:
                    raise FormatError(
                        f"{name}: no layer weights found (expected names like '0.weight', "
                        f"'layers.0.weight' or 'fc1.weight'; found {sorted(tensors)[:8]})"
                    )
                if len(with_weights) > 1:
                    raise ConfigError(
                        f"{name}: several groups of layers ({', '.join(repr(p) for p in with_weights)}); "
                        "choose one with prefix="
                    )
                prefix = with_weights[0]
            if prefix not in groups:
                raise FormatError(f"{name}: no tensors named {prefix}<index>.weight")
            group = groups[prefix]
            order = sorted(group)
            names = [f"{prefix}{i}" for i in order]
            specs = [activations] * len(order) if isinstance(activations, str) else list(activations)
            if len(specs) == 2 and len(order) != 2:
                specs = [specs[0]] * (len(order) - 1) + [specs[1]]
            if len(specs) != len(order):
                raise ConfigError(
                    f"{name} holds {len(order)} layers ({', '.join(names)}); give one activation per "
                    f"layer or two (hidden, output), got {len(specs)}"
                )
            layers: list[_Layer] = []
            for index, layer_name, spec in zip(order, names, specs):
                parts = group[index]
                extra = sorted(set(parts) - {"weight", "bias"})
                if extra:
                    raise FormatError(
                        f"{name}: layer {layer_name} is not a Linear layer (it has {layer_name}.{extra[0]})"
                    )
                if "weight" not in parts:
                    raise FormatError(f"{name}: layer {layer_name} has a bias but no weight")
                wt = parts["weight"]
                if len(wt.shape) != 2 or 0 in wt.shape:
                    raise FormatError(f"{name}: {wt.name} must be a non-empty matrix (out, in), found shape {wt.shape}")
                bt = parts.get("bias")
                if bt is not None and bt.shape != wt.shape[:1]:
                    raise FormatError(f"{name}: {bt.name} has shape {bt.shape}, expected ({wt.shape[0]},)")
                if layers and wt.shape[1] != layers[-1][0].shape[0]:
                    raise FormatError(
                        f"{name}: {wt.name} has shape {wt.shape}: it takes {wt.shape[1]} inputs but the "
                        f"layer before gives {layers[-1][0].shape[0]}"
                    )
                function, steepness = _activation(spec, len(layers) + 1)
                weight = _read_tensor(f, name, data_start, wt)
                bias = _read_tensor(f, name, data_start, bt) if bt is not None else np.zeros(wt.shape[0], np.float32)
                layers.append((weight, bias, function, steepness))
    except OSError as exc:
        raise FileError(f"{name}: cannot read: {exc.strerror or exc}") from exc
    return _build(layers)


# ---------------------------------------------------------------------------------------------
# ONNX

# FANN's stepwise sigmoids: breakpoints and values (csrc/src/activation.c), flat outside.
_STEPWISE = {
    "sigmoid_stepwise": (
        (-2.64665246009826660156e00, -1.47221946716308593750e00, -5.49306154251098632812e-01,
         5.49306154251098632812e-01, 1.47221934795379638672e00, 2.64665293693542480469e00),
        (4.99999988824129104614e-03, 5.00000007450580596924e-02, 2.50000000000000000000e-01,
         7.50000000000000000000e-01, 9.49999988079071044922e-01, 9.95000004768371582031e-01),
        0.0, 1.0,
    ),
    "sigmoid_symmetric_stepwise": (
        (-2.64665293693542480469e00, -1.47221934795379638672e00, -5.49306154251098632812e-01,
         5.49306154251098632812e-01, 1.47221934795379638672e00, 2.64665293693542480469e00),
        (-9.90000009536743164062e-01, -8.99999976158142089844e-01, -5.00000000000000000000e-01,
         5.00000000000000000000e-01, 8.99999976158142089844e-01, 9.90000009536743164062e-01),
        -1.0, 1.0,
    ),
}  # fmt: skip


# FANN functions with no ONNX form, and why.
_NOT_EXPORTABLE = {"gaussian_stepwise": "FANN 2.2 leaves it unimplemented (its float value is always 0)"}


class _Graph:
    """Nodes and initializers of an ONNX graph under construction."""

    def __init__(self, helper: Any, numpy_helper: Any) -> None:
        self.helper, self.numpy_helper = helper, numpy_helper
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._scalars: dict[float, str] = {}
        self._count = 0

    def _name(self, hint: str) -> str:
        self._count += 1
        return f"{hint}_{self._count}"

    def const(self, array: np.ndarray, hint: str) -> str:
        name = self._name(hint)
        self.initializers.append(self.numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def scalar(self, value: float) -> str:
        key = float(np.float32(value))
        if key not in self._scalars:
            self._scalars[key] = self.const(np.array(key, dtype=np.float32), "c")
        return self._scalars[key]

    def op(self, op_type: str, inputs: list[str], hint: str, **attrs: Any) -> str:
        out = self._name(hint)
        self.nodes.append(self.helper.make_node(op_type, inputs, [out], name=out, **attrs))
        return out


def _onnx_activation(g: _Graph, function: str, z: str, hint: str) -> str:
    """ONNX nodes computing FANN's activation function of z = steepness * sum."""
    if function == "linear":
        return z
    if function in ("threshold", "threshold_symmetric"):
        low = 0.0 if function == "threshold" else -1.0
        return g.op("Where", [g.op("Less", [z, g.scalar(0.0)], hint), g.scalar(low), g.scalar(1.0)], hint)
    if function == "sigmoid":
        return g.op("Sigmoid", [g.op("Mul", [z, g.scalar(2.0)], hint)], hint)
    if function == "sigmoid_symmetric":
        return g.op("Tanh", [z], hint)
    if function in ("gaussian", "gaussian_symmetric"):
        e = g.op("Exp", [g.op("Neg", [g.op("Mul", [z, z], hint)], hint)], hint)
        if function == "gaussian":
            return e
        return g.op("Sub", [g.op("Mul", [e, g.scalar(2.0)], hint), g.scalar(1.0)], hint)
    if function in ("elliot", "elliot_symmetric"):
        d = g.op("Add", [g.op("Abs", [z], hint), g.scalar(1.0)], hint)
        if function == "elliot_symmetric":
            return g.op("Div", [z, d], hint)
        half = g.op("Div", [z, g.scalar(2.0)], hint)
        return g.op("Add", [g.op("Div", [half, d], hint), g.scalar(0.5)], hint)
    if function == "linear_piece":
        return g.op("Clip", [z, g.scalar(0.0), g.scalar(1.0)], hint)
    if function == "linear_piece_symmetric":
        return g.op("Clip", [z, g.scalar(-1.0), g.scalar(1.0)], hint)
    if function in ("sin_symmetric", "cos_symmetric", "sin", "cos"):
        t = g.op("Sin" if function.startswith("sin") else "Cos", [z], hint)
        if function.endswith("_symmetric"):
            return t
        return g.op("Add", [g.op("Div", [t, g.scalar(2.0)], hint), g.scalar(0.5)], hint)
    if function == "relu":
        return g.op("Relu", [z], hint)
    if function == "leaky_relu":
        return g.op("LeakyRelu", [z], hint, alpha=0.01)
    if function in _STEPWISE:
        v, r, low, high = _STEPWISE[function]
        # segment i (between v[i] and v[i+1]) holds for v[i] <= z < v[i+1]; the last one for z < v[5]
        y = ""
        for i in reversed(range(5)):
            slope = (r[i + 1] - r[i]) / (v[i + 1] - v[i])
            seg = g.op(
                "Add",
                [g.op("Mul", [g.op("Sub", [z, g.scalar(v[i])], hint), g.scalar(slope)], hint), g.scalar(r[i])],
                hint,
            )
            y = seg if i == 4 else g.op("Where", [g.op("Less", [z, g.scalar(v[i + 1])], hint), seg, y], hint)
        y = g.op("Where", [g.op("Less", [z, g.scalar(v[5])], hint), y, g.scalar(high)], hint)
        return g.op("Where", [g.op("Less", [z, g.scalar(v[0])], hint), g.scalar(low), y], hint)
    raise ConfigError(f"activation {function!r} cannot be exported to ONNX")  # pragma: no cover


def to_onnx(net: Network, path: PathLike | None = None, *, opset: int = 17) -> bytes:
    """Export a float network to ONNX, so that it can be checked in onnxruntime or elsewhere.

    The graph computes exactly what :meth:`Network.run` computes, layer by layer: the sum of
    weighted inputs plus the bias, times each neuron's steepness, bounded to
    ``+-150 / steepness`` as FANN bounds it, through each neuron's activation function.
    Standard, sparse (missing connections are zero weights) and shortcut networks are
    exported, with per-neuron activation functions and steepnesses. Results agree with
    ``run`` up to float32 rounding (summation order differs).

    Parameters
    ----------
    net : Network
        A float network.
    path : str or os.PathLike, optional
        Where to write the model; the file is replaced atomically.
    opset : int
        ONNX opset of the default domain, 13 to the newest the installed onnx knows
        (default 17). The model's IR version is the lowest that opset needs.

    Returns
    -------
    bytes
        The serialized ``ModelProto``. Its input is ``"input"``, float32 of shape
        ``(batch, num_input)``; its output ``"output"``, ``(batch, num_output)``; ``batch``
        is a dynamic dimension.

    Raises
    ------
    ImportError
        If the onnx package is not installed.
    ConfigError
        If ``net`` is not a float :class:`~kimi_fann.Network`, the opset is out of range, or
        a neuron uses an activation ONNX cannot express (``gaussian_stepwise``, which FANN 2.2
        leaves unimplemented); the message names it.
    FileError
        If ``path`` cannot be written.

    Examples
    --------
    >>> import numpy as np, kimi_fann as kf
    >>> from kimi_fann.analyzer import to_onnx
    >>> net = kf.Network([3, 5, 2], hidden="relu", output="sigmoid", seed=0)
    >>> model = to_onnx(net)  # doctest: +SKIP
    >>> import onnxruntime as ort  # doctest: +SKIP
    >>> session = ort.InferenceSession(model)  # doctest: +SKIP
    >>> x = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    >>> y = session.run(None, {"input": x})[0]  # doctest: +SKIP
    >>> bool(np.allclose(y, net.run(x), atol=1e-5))  # doctest: +SKIP
    True
    """
    if not isinstance(net, Network):
        raise ConfigError(f"to_onnx exports a float kimi_fann.Network, got {type(net).__name__}")
    try:
        import onnx
        from onnx import TensorProto, helper, numpy_helper
    except ImportError as exc:
        raise ImportError("to_onnx needs the onnx package: pip install 'kimi-fann[onnx]' (or pip install onnx)") from exc
    newest = int(onnx.defs.onnx_opset_version())
    if isinstance(opset, bool) or not isinstance(opset, int) or not 13 <= opset <= newest:
        raise ConfigError(f"opset must be an integer from 13 to {newest}, got {opset!r}")

    # The network layer by layer as dense matrices over the layers each one reads (zero where a
    # sparse network has no connection), the bias neurons' weights summed into a bias vector.
    sizes = list(net.layers)
    g = _Graph(helper, numpy_helper)
    outputs: list[str] = ["input"]  # value tensor of each layer's non-bias neurons
    for dense in net.topology.dense_layers(net.weights):
        layer = dense.layer
        functions = [ACTIVATIONS[int(code)] for code in dense.activations]
        for function in functions:
            if function in _NOT_EXPORTABLE:
                raise ConfigError(
                    f"layer {layer} uses activation {function!r}, which ONNX cannot express: {_NOT_EXPORTABLE[function]}"
                )
        x = outputs[dense.sources[0]] if len(dense.sources) == 1 else \
            g.op("Concat", [outputs[k] for k in dense.sources], f"l{layer}_in", axis=1)
        hint = f"l{layer}"
        z = g.op("MatMul", [x, g.const(dense.weights.T.astype(np.float32), f"{hint}_weight")], hint)
        z = g.op("Add", [z, g.const(dense.bias.astype(np.float32), f"{hint}_bias")], hint)
        s = dense.steepnesses.astype(np.float32)
        z = g.op("Mul", [z, g.const(s, f"{hint}_steepness")], hint)
        # FANN's bound on steepness * sum: above max_sum -> max_sum, else below -max_sum ->
        # -max_sum, with max_sum = 150 / steepness (no bound when the steepness is 0).
        with np.errstate(divide="ignore"):
            bound = np.where(s != 0, np.float32(150.0) / np.where(s != 0, s, np.float32(1)), np.float32(np.inf))
        bound = bound.astype(np.float32)
        hi, lo = g.const(bound, f"{hint}_max_sum"), g.const(-bound, f"{hint}_min_sum")
        inner = g.op("Where", [g.op("Less", [z, lo], hint), lo, z], hint)
        z = g.op("Where", [g.op("Greater", [z, hi], hint), hi, inner], hint)
        distinct = sorted(set(functions), key=functions.index)
        y = _onnx_activation(g, distinct[0], z, f"{hint}_{distinct[0]}")
        for function in distinct[1:]:
            mask = np.array([f == function for f in functions])
            y_f = _onnx_activation(g, function, z, f"{hint}_{function}")
            y = g.op("Where", [g.const(mask, f"{hint}_is_{function}"), y_f, y], hint)
        lonely = dense.fan_in == 0
        if lonely.any():  # a neuron without inputs has value 1, as the core computes it
            y = g.op("Where", [g.const(lonely, f"{hint}_no_inputs"), g.scalar(1.0), y], hint)
        outputs.append(y)
    g.nodes.append(helper.make_node("Identity", [outputs[-1]], ["output"], name="output"))

    graph = helper.make_graph(
        g.nodes,
        "kimi_fann_network",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", sizes[0]])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", sizes[-1]])],
        initializer=g.initializers,
    )
    from .. import __version__

    opsets = [helper.make_opsetid("", opset)]
    model = helper.make_model(graph, opset_imports=opsets, producer_name="kimi-fann", producer_version=__version__)
    model.ir_version = helper.find_min_ir_version_for(opsets)
    model.doc_string = f"kimi-fann network {list(sizes)}, shortcut={net.shortcut}, connections={net.total_connections}"
    # the network itself, so that from_onnx gives it back exactly
    helper.set_model_props(model, {_ONNX_FANN_KEY: net.to_fann_text().decode("ascii")})
    onnx.checker.check_model(model)
    data: bytes = model.SerializeToString()
    if path is not None:
        write_atomic(path, data)
    return data


# ---------------------------------------------------------------------------------------------
# ONNX import

_ONNX_FANN_KEY = "kimi_fann.fann_net"
_ONNX_ACTIVATIONS = {"Relu": "relu", "Tanh": "tanh", "Sigmoid": "sigmoid", "Identity": "linear"}


def from_onnx(model: PathLike | bytes) -> Network:
    """A float network from an ONNX file: exactly the network :func:`to_onnx` wrote, or a plain
    MLP graph (a chain of ``MatMul`` + ``Add`` or ``Gemm``, each optionally followed by
    ``Relu``, ``Tanh``, ``Sigmoid`` or ``LeakyRelu`` with alpha 0.01; a final ``Softmax`` is
    dropped, leaving the logits).

    Parameters
    ----------
    model : path or bytes
        The ONNX model.

    Returns
    -------
    Network

    Raises
    ------
    ImportError
        Without the ``onnx`` package.
    FormatError
        A file onnx cannot parse.
    ConfigError
        A graph that is not such a chain.

    Examples
    --------
    >>> import kimi_fann as kf
    >>> net = kf.Network([3, 4, 2], seed=0)
    >>> back = from_onnx(to_onnx(net))  # doctest: +SKIP
    >>> back.to_fann_text() == net.to_fann_text()  # doctest: +SKIP
    True
    """
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError as exc:
        raise ImportError("ONNX import needs the onnx package: pip install 'kimi-fann[onnx]'") from exc
    source = "<bytes>" if isinstance(model, bytes) else os.fspath(model)
    try:
        proto = onnx.load_from_string(model) if isinstance(model, bytes) else onnx.load(source)
    except OSError as exc:
        raise FileError(f"{source}: {exc}") from exc
    except Exception as exc:  # onnx raises DecodeError and friends from protobuf
        raise FormatError(f"{source}: not an ONNX model ({exc})") from exc
    for prop in proto.metadata_props:
        if prop.key == _ONNX_FANN_KEY:
            return Network.from_fann_text(prop.value, source=source)

    constants = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in proto.graph.initializer}
    for node in proto.graph.node:
        if node.op_type == "Constant":
            constants[node.output[0]] = numpy_helper.to_array(node.attribute[0].t).astype(np.float64)
    nodes = [n for n in proto.graph.node if n.op_type != "Constant"]
    layers: list[_Layer] = []
    current = proto.graph.input[0].name
    i = 0

    def fail(why: str) -> ConfigError:
        return ConfigError(f"{source}: node {i} ({nodes[i].op_type if i < len(nodes) else 'end'}): {why}; "
                           f"only chains of MatMul+Add or Gemm with Relu/Tanh/Sigmoid/LeakyRelu are imported")

    while i < len(nodes):
        node = nodes[i]
        if node.op_type == "Gemm":
            attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
            if node.input[0] != current or attrs.get("transA", 0) or attrs.get("alpha", 1.0) != 1.0 \
                    or attrs.get("beta", 1.0) != 1.0 or node.input[1] not in constants:
                raise fail("a Gemm must read the previous layer with constant weights, alpha = beta = 1")
            w = constants[node.input[1]]
            w = w if attrs.get("transB", 0) else w.T
            b = constants.get(node.input[2], np.zeros(w.shape[0])) if len(node.input) > 2 else np.zeros(w.shape[0])
            current, i = node.output[0], i + 1
        elif node.op_type == "MatMul":
            if node.input[0] != current or node.input[1] not in constants:
                raise fail("a MatMul must read the previous layer with constant weights")
            w = constants[node.input[1]].T
            current, i = node.output[0], i + 1
            b = np.zeros(w.shape[0])
            if i < len(nodes) and nodes[i].op_type == "Add" and current in nodes[i].input:
                other = [v for v in nodes[i].input if v != current][0]
                if other not in constants:
                    raise fail("the bias must be constant")
                b = constants[other]
                current, i = nodes[i].output[0], i + 1
        else:
            raise fail("expected a MatMul or a Gemm")
        if w.ndim != 2 or np.size(b) != w.shape[0]:
            raise fail(f"weights {w.shape} and bias {np.shape(b)} do not make a layer")
        function = "linear"
        if i < len(nodes) and current in nodes[i].input:
            op = nodes[i].op_type
            if op in _ONNX_ACTIVATIONS:
                function = _ONNX_ACTIVATIONS[op]
            elif op == "LeakyRelu":
                attrs = {a.name: onnx.helper.get_attribute_value(a) for a in nodes[i].attribute}
                if not math.isclose(attrs.get("alpha", 0.01), 0.01, rel_tol=1e-6):
                    raise fail("LeakyRelu is imported with alpha 0.01 only")
                function = "leaky_relu"
            elif op == "Softmax" and i == len(nodes) - 1:
                function = "linear"  # the logits: argmax and softmax of them are the model's
            elif op in ("MatMul", "Gemm"):
                op = ""
            else:
                raise fail("unsupported operator")
            if op:
                current, i = nodes[i].output[0], i + 1
        fann, steepness = _EXACT[function]
        layers.append((np.asarray(w, dtype=np.float64), np.ravel(b), fann, steepness))
    if not layers:
        raise ConfigError(f"{source}: the graph holds no layer")
    _check_chain(layers, [str(k) for k in range(len(layers))])
    return _build(layers)
