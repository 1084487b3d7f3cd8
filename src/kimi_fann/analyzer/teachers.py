"""Teachers for distillation: one interface over numpy callables, scikit-learn, torch and ONNX.

A teacher maps a float batch ``(n, dim)`` to ``(n, n_outputs)``: class probabilities or
logits for a classifier, values for a regressor. Each framework is imported only when a
teacher of its kind is given.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError, ShapeError
from ..mixture import MixtureOfExperts
from ..network import Network

__all__ = ["Teacher", "as_teacher"]


@dataclass(frozen=True)
class Teacher:
    """A teacher seen through one interface.

    Attributes
    ----------
    predict : callable
        ``(n, dim) float32 -> (n, n_outputs) float64``.
    description : str
        What the teacher is (``"sklearn MLPClassifier"``, ``"torch Sequential"``, ...).
    parameters : int or None
        Its number of parameters, when it can be counted.
    outputs : {"probabilities", "logits", "values"}
        What ``predict`` returns.

    Examples
    --------
    >>> import numpy as np
    >>> from kimi_fann.analyzer import as_teacher
    >>> teacher = as_teacher(lambda x: x @ np.ones((3, 2)), task="regression")
    >>> teacher.outputs, teacher.predict(np.ones((1, 3), np.float32)).tolist()
    ('values', [[3.0, 3.0]])
    """

    predict: Callable[[np.ndarray], np.ndarray]
    description: str
    parameters: int | None
    outputs: str


def as_teacher(teacher: Any, *, task: str | None = None) -> Teacher:
    """Wrap a numpy callable, a fitted scikit-learn estimator, a torch module or an ONNX model
    (a path ending in ``.onnx``, or the model's bytes) as a :class:`Teacher`.

    Parameters
    ----------
    teacher : callable, scikit-learn estimator, torch.nn.Module, str, os.PathLike or bytes
        The model; a kimi-fann ``Network`` or ``MixtureOfExperts`` is accepted too.
    task : {"classification", "regression"}, optional
        Overrides what is inferred: scikit-learn classifiers give probabilities, regressors
        values; torch, ONNX and callables are taken as classifiers (logits or probabilities,
        told apart by the outputs) unless ``task="regression"``.

    Returns
    -------
    Teacher

    Raises
    ------
    ConfigError
        For an unknown ``task`` or a model of a kind it cannot wrap (or whose package is
        not installed).
    ShapeError
        When ``predict`` later gets outputs of the wrong shape, or NaN.

    Examples
    --------
    >>> import numpy as np
    >>> t = as_teacher(lambda x: x @ np.ones((3, 2)))
    >>> t.description, t.predict(np.zeros((4, 3), np.float32)).shape
    ('callable', (4, 2))
    """
    if task not in (None, "classification", "regression"):
        raise ConfigError(f"task must be 'classification' or 'regression', got {task!r}")
    if isinstance(teacher, (str, os.PathLike, bytes)):
        return _onnx_teacher(teacher, task)
    if isinstance(teacher, (Network, MixtureOfExperts)):
        return _kimi_fann_teacher(teacher, task)
    module = type(teacher).__module__
    if module.startswith("torch") or _is_torch_module(teacher):
        return _torch_teacher(teacher, task)
    if hasattr(teacher, "predict") and (hasattr(teacher, "fit") or module.startswith("sklearn")):
        return _sklearn_teacher(teacher, task)
    if callable(teacher):
        return Teacher(_checked(teacher), "callable", None, "values" if task == "regression" else "auto")
    raise ConfigError(
        f"a teacher must be a callable, a scikit-learn estimator, a torch module or an ONNX file; "
        f"got {type(teacher).__name__}")


def _checked(fn: Callable[[np.ndarray], Any]) -> Callable[[np.ndarray], np.ndarray]:
    def predict(x: np.ndarray) -> np.ndarray:
        y = np.asarray(fn(x), dtype=np.float64)
        if y.ndim == 1:
            y = y.reshape(-1, 1)
        if y.ndim != 2 or len(y) != len(x):
            raise ShapeError(f"the teacher returned shape {y.shape} for {len(x)} inputs; expected (n, outputs)")
        if not np.isfinite(y).all():
            raise ShapeError("the teacher returned NaN or infinite outputs")
        return y
    return predict


def _is_torch_module(obj: Any) -> bool:
    return any(c.__module__.startswith("torch.nn") for c in type(obj).__mro__)


_UNIT_OUTPUTS = ("sigmoid", "sigmoid_stepwise", "elliot", "threshold", "linear_piece")
_SYMMETRIC_OUTPUTS = ("sigmoid_symmetric", "sigmoid_symmetric_stepwise", "elliot_symmetric", "threshold_symmetric",
                      "linear_piece_symmetric")


# ---- kimi-fann's own float models (a big network distilled into micro-experts) ----

def _kimi_fann_teacher(model: Network | MixtureOfExperts, task: str | None) -> Teacher:
    if isinstance(model, Network):
        parameters = model.total_connections
        output, _ = model.get_activation(len(model.layers) - 1, 0)
        description = "kimi-fann Network " + "-".join(map(str, model.layers))
    else:
        parameters = sum(e.total_connections for e in model.experts if isinstance(e, Network)) \
            + model.router.n_experts * model.router.dim
        output = "linear"
        description = f"kimi-fann MixtureOfExperts of {len(model.experts)}"
    if task == "regression":
        return Teacher(_checked(model.run), description, parameters, "values")
    if output in _SYMMETRIC_OUTPUTS:  # per-class scores in [-1, 1], mapped to [0, 1]
        return Teacher(_checked(lambda x: (model.run(x) + 1.0) / 2.0), description, parameters, "probabilities")
    if output in _UNIT_OUTPUTS:
        return Teacher(_checked(model.run), description, parameters, "probabilities")
    return Teacher(_checked(model.run), description, parameters, "auto")


# ---- scikit-learn ----

def onnx_parameters(proto: Any) -> int:
    """Learned numbers in an ONNX model: its initializers, and in tree ensembles (which keep
    theirs in node attributes) the split feature and threshold of every inner node plus the
    values in the leaves, as :func:`_sklearn_parameters` counts the trees they came from."""
    total = sum(int(np.prod(t.dims)) for t in proto.graph.initializer)
    for node in proto.graph.node:
        if not node.op_type.startswith("TreeEnsemble"):
            continue
        attributes = {a.name: a for a in node.attribute}
        if "nodes_modes" in attributes:  # ai.onnx.ml opset 1-3: one string per node
            total += 2 * sum(mode != b"LEAF" for mode in attributes["nodes_modes"].strings)
            for name in ("target_weights", "class_weights"):
                if name in attributes:
                    total += len(attributes[name].floats)
        else:  # opset 5: splits and leaf weights as tensors
            for name in ("nodes_splits", "leaf_weights"):
                if name in attributes:
                    total += int(np.prod(attributes[name].t.dims)) * (2 if name == "nodes_splits" else 1)
    return int(total)


def _sklearn_parameters(est: Any) -> int | None:
    """Learned numbers in a fitted estimator: weights and biases of linear models and MLPs,
    split features and thresholds of inner tree nodes plus the values in leaves."""
    if hasattr(est, "steps"):  # Pipeline
        counts = [_sklearn_parameters(step) for _, step in est.steps if step not in (None, "passthrough")]
        return None if any(c is None for c in counts) else sum(c for c in counts if c is not None)
    if hasattr(est, "coefs_"):
        return int(sum(w.size for w in est.coefs_) + sum(b.size for b in est.intercepts_))
    if hasattr(est, "tree_"):
        tree = est.tree_
        leaves = tree.children_left == -1
        return int(2 * np.count_nonzero(~leaves) + np.count_nonzero(leaves) * tree.value[0].size)
    if hasattr(est, "estimators_"):
        members = np.ravel(np.asarray(est.estimators_, dtype=object))
        counts = [_sklearn_parameters(m) for m in members]
        return None if any(c is None for c in counts) else int(sum(c for c in counts if c is not None))
    if hasattr(est, "coef_"):
        return int(np.size(est.coef_) + np.size(getattr(est, "intercept_", 0)))
    if hasattr(est, "mean_") and hasattr(est, "scale_"):  # StandardScaler
        return int(np.size(est.mean_) + np.size(est.scale_))
    if hasattr(est, "min_") and hasattr(est, "scale_"):  # MinMaxScaler
        return int(np.size(est.min_) + np.size(est.scale_))
    return None


def _sklearn_teacher(est: Any, task: str | None) -> Teacher:
    name = type(est).__name__
    if hasattr(est, "steps"):
        name = "Pipeline(" + ", ".join(type(s).__name__ for _, s in est.steps) + ")"
    classifier = hasattr(est, "predict_proba") if task is None else task == "classification"
    try:
        if classifier:
            fn = est.predict_proba
            fn(np.zeros((1, _n_features(est)), np.float32))
        else:
            fn = est.predict
            fn(np.zeros((1, _n_features(est)), np.float32))
    except Exception as exc:  # NotFittedError and friends are not ours to import eagerly
        raise ConfigError(f"the scikit-learn teacher {name} cannot predict: {exc}") from exc
    return Teacher(_checked(fn), f"sklearn {name}", _sklearn_parameters(est),
                   "probabilities" if classifier else "values")


def _n_features(est: Any) -> int:
    n = getattr(est, "n_features_in_", None)
    if n is None:
        raise ConfigError(f"the scikit-learn teacher {type(est).__name__} is not fitted")
    return int(n)


# ---- torch ----

def _torch_teacher(module: Any, task: str | None) -> Teacher:
    import torch

    if not isinstance(module, torch.nn.Module):
        raise ConfigError(f"expected a torch.nn.Module, got {type(module).__name__}")
    module.eval()
    dtype = next((p.dtype for p in module.parameters()), torch.float32)

    def forward(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return module(torch.from_numpy(np.ascontiguousarray(x)).to(dtype)).double().numpy()

    parameters = int(sum(p.numel() for p in module.parameters()))
    return Teacher(_checked(forward), f"torch {type(module).__name__}", parameters,
                   "values" if task == "regression" else "auto")


# ---- ONNX (onnxruntime) ----

def _onnx_teacher(model: str | os.PathLike | bytes, task: str | None) -> Teacher:
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise ImportError("an ONNX teacher needs onnxruntime: pip install onnxruntime") from exc
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    source = model if isinstance(model, bytes) else os.fspath(model)
    try:
        session = ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise ConfigError(f"onnxruntime cannot load the teacher {source if isinstance(source, str) else '<bytes>'}: "
                          f"{exc}") from exc
    feed = session.get_inputs()[0].name
    # the first float tensor output: a scikit-learn classifier converted to ONNX puts its
    # labels first and its probabilities second
    outputs = [o for o in session.get_outputs() if o.type == "tensor(float)" or o.type == "tensor(double)"]
    if not outputs:
        raise ConfigError("the ONNX teacher has no float tensor output")
    fetch = outputs[0].name

    def run(x: np.ndarray) -> np.ndarray:
        return session.run([fetch], {feed: np.ascontiguousarray(x, dtype=np.float32)})[0]

    parameters = None
    try:
        import onnx

        proto = onnx.load_from_string(model) if isinstance(model, bytes) else onnx.load(source)
        parameters = onnx_parameters(proto)
    except ImportError:
        pass
    return Teacher(_checked(run), "onnx " + (os.path.basename(source) if isinstance(source, str) else "model"),
                   parameters, "values" if task == "regression" else "auto")
