"""Distillation: a large teacher taught to one small student or to domain micro-experts behind a
router, quantized at the end, with a fidelity report.

The recipe: the teacher labels the transfer inputs (plus optional noisy copies) with soft
targets at a temperature; inputs are mapped onto [-1, 1] for training and that mapping is then
folded into the first layer's weights (and into the router's gates and bias), so that the
result runs on raw inputs; each expert trains with RPROP on the inputs the router sends it;
everything is measured on held-out inputs the student never saw.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import kfn
from .._arrays import as_matrix, as_seed, check_finite
from .._cluster import check_client, is_dask_collection, run_tasks
from ..data import TrainingData
from ..descriptions import Topology
from ..errors import ConfigError, ShapeError
from ..fixed import FixedNetwork
from ..mixture import DEFAULT_DOMAINS, MixtureOfExperts, fit_router, kmeans
from ..network import Network
from ..router import Router
from .report import DistillationEpoch, DistillationReport
from .teachers import Teacher, as_teacher

__all__ = ["distill"]

Model = Network | FixedNetwork | MixtureOfExperts
_PRECISIONS = ("float", "q8", "q16")
_MAX_HIDDEN = 128  # widest hidden layer chosen automatically: micro-experts stay micro
_REGRESSION_TOLERANCE = 0.05  # "agrees": within 5% of the teacher's held-out output range
_VALIDATION = 0.1  # fraction of the transfer inputs (after the held-out ones) for early stopping


@dataclass
class _Targets:
    task: str
    soft: np.ndarray            # what the student learns (n, outputs)
    offset: np.ndarray | None   # regression: targets were (y - offset) / scale
    scale: np.ndarray | None


def distill(
    teacher: Any,
    X: Any,
    *,
    y: Any = None,
    task: str | None = None,
    n_experts: int = 1,
    labels: Any = None,
    domains: Sequence[str] | None = None,
    cluster_on: str = "outputs",
    top_k: int = 2,
    hidden: int | Sequence[int] | None = None,
    size_ratio: float = 20.0,
    teacher_parameters: int | None = None,
    temperature: float = 2.0,
    augment: int = 0,
    noise: float = 0.1,
    precision: str = "q8",
    held_out: float = 0.2,
    max_epochs: int = 300,
    progress: bool | Callable[[int, int], Any] = False,
    seed: int = 0,
    client: Any = None,
) -> tuple[Model, DistillationReport]:
    """Distil ``teacher`` into a small student (``n_experts=1``) or into ``n_experts`` domain
    micro-experts and a router.

    Parameters
    ----------
    teacher : callable, scikit-learn estimator, torch module, or ONNX file path / bytes
        See :func:`kimi_fann.analyzer.teachers.as_teacher`.
    X : array_like, shape (n, dim)
        Transfer inputs. A ``held_out`` fraction is kept aside for the report.
    y : array_like, shape (n,), optional
        True class labels; the report then has the teacher's and the student's accuracy.
    task : {"classification", "regression"}, optional
        Inferred from the teacher when omitted.
    n_experts : int
        1 for a single student network; more for a :class:`~kimi_fann.MixtureOfExperts`.
    labels : array_like of int, shape (n,), optional
        A domain per row of X (in ``[0, n_experts)``); without them the domains are found by
        k-means on the teacher's soft outputs (``cluster_on="outputs"``) or on the
        standardised inputs (``cluster_on="inputs"``).
    domains : sequence of str, optional
        Names of the experts (six experts default to Kimi-K2-style names).
    top_k : int
        Experts per input in the mixture (softmax-weighted).
    hidden : int or sequence of int, optional
        Hidden layer sizes of each expert. By default one hidden layer, the widest (up to 128)
        that keeps the whole student within ``1/size_ratio`` of the teacher's parameters.
    size_ratio : float
        Minimum ratio of teacher to student parameters when ``hidden`` is chosen automatically.
    teacher_parameters : int, optional
        The teacher's parameter count when it cannot be counted (a plain callable).
    temperature : float
        Soft-target temperature: the student learns ``softmax(logits / temperature)``.
    augment : int
        Noisy copies of each training input (Gaussian, ``noise`` standard deviations of each
        feature) added to the transfer set and labelled by the teacher.
    precision : {"q8", "q16", "float"}
        The returned model's arithmetic: Q8 or Q16 experts, or the float networks.
    held_out : float
        Fraction of X kept aside for measuring fidelity (0 < held_out < 1).
    max_epochs : int
        RPROP epochs per network.
    progress : bool or callable
        True draws a progress bar (tqdm, when installed); a callable gets ``(done, total)``
        epochs.
    seed : int
        Seeds the split, the noise, the clustering and the networks: same seed, same model.
    client : distributed.Client, optional
        Trains the experts as tasks of this Dask cluster, in parallel (each on the inputs the
        router sends it), with the same result as without a client. The transfer set X stays
        in this process (the teacher labels it here, and the report measures the held-out
        part); to train experts on dask arrays, see :meth:`kimi_fann.MixtureOfExperts.fit`.

    Returns
    -------
    model : Network, FixedNetwork or MixtureOfExperts
        The student, in the requested precision, running on raw inputs.
    report : DistillationReport
        Agreement with the teacher on held-out inputs (float and fixed), output errors, sizes,
        latency and the training curves.

    Raises
    ------
    ConfigError
        Bad parameters, a teacher that cannot be used, or X given as a dask collection.
    ShapeError
        X, y or labels of the wrong shape; a teacher returning the wrong shape.
    NumericError
        NaN or infinite inputs.

    Examples
    --------
    >>> import numpy as np
    >>> from kimi_fann.analyzer import distill
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(600, 4))
    >>> W = rng.normal(size=(4, 3))
    >>> teacher = lambda x: x @ W  # logits of a linear 3-class teacher
    >>> model, report = distill(teacher, X, hidden=6, max_epochs=150)
    >>> report.agreement > 0.9, report.n_experts
    (True, 1)
    """
    options = _check_options(n_experts, cluster_on, top_k, size_ratio, temperature, augment, noise,
                             precision, held_out, max_epochs)
    client = check_client(client)
    if is_dask_collection(X):
        raise ConfigError("distill keeps its transfer set X in memory (the teacher labels it and the report measures "
                          "its held-out part): pass X.compute(), or train experts on dask arrays with "
                          "MixtureOfExperts.fit(..., client=)")
    x, _ = as_matrix(X, None, "X")
    check_finite(x, "X")
    if len(x) < 20:
        raise ShapeError(f"distillation needs at least 20 inputs, got {len(x)}")
    rng = np.random.default_rng(as_seed(seed))
    t = as_teacher(teacher, task=task)
    y_true = _check_rows(y, len(x), "y")
    domain_of = _check_rows(labels, len(x), "labels")
    if domain_of is not None:
        if domain_of.dtype.kind not in "iu" or domain_of.min() < 0 or domain_of.max() >= n_experts:
            raise ShapeError(f"labels must be integers in [0, n_experts={n_experts})")

    # held out (for the report only), validation (early stopping), fit (+ noisy copies)
    order = rng.permutation(len(x))
    n_test = max(1, int(round(held_out * len(x))))
    n_val = max(1, int(round(_VALIDATION * (len(x) - n_test))))
    test, val, fit = order[:n_test], order[n_test:n_test + n_val], order[n_test + n_val:]
    x_test, x_val, x_fit = x[test], x[val], x[fit]
    if domain_of is not None:
        domain_of = domain_of[fit]
    if augment:
        spread = x_fit.std(axis=0) * noise
        copies = [x_fit + rng.normal(size=x_fit.shape).astype(np.float32) * spread for _ in range(augment)]
        x_fit = np.concatenate([x_fit, *copies]).astype(np.float32)
        if domain_of is not None:
            domain_of = np.tile(domain_of, augment + 1)

    targets = _soft_targets(t, x_fit, temperature, task)
    val_soft = _targets_like(t, x_val, targets, temperature, scaled=True)
    test_targets = _targets_like(t, x_test, targets, temperature, scaled=False)
    n_out = targets.soft.shape[1]
    dim = x.shape[1]
    a, b = _input_scaling(x_fit)
    xs_fit, xs_val = (x_fit * a + b).astype(np.float32), (x_val * a + b).astype(np.float32)

    teacher_params = teacher_parameters if teacher_parameters is not None else t.parameters
    layers = _student_layers(dim, n_out, n_experts, hidden, teacher_params, size_ratio)
    output_activation = "sigmoid" if targets.task == "classification" else "linear"

    router = None
    if n_experts == 1:
        fit_rows, val_rows = [np.arange(len(x_fit))], [np.arange(len(x_val))]
    else:
        if domain_of is None:
            features = targets.soft if options["cluster_on"] == "outputs" else xs_fit
            domain_of = kmeans(features.astype(np.float64), n_experts, rng)
        router = fit_router(x_fit.astype(np.float64), domain_of, n_experts, top_k=top_k, scale=a, shift=b)
        fit_rows, val_rows = _routed(router, x_fit, n_experts), _routed(router, x_val, n_experts)

    tick = _progress(progress, n_experts * max_epochs)
    seeds = [int(rng.integers(2**31)) for _ in range(n_experts)]
    # Each expert's training is one job, here (ticking every epoch) or as a task of the cluster.
    jobs = [(layers, output_activation, seeds[e], xs_fit[fit_rows[e]], targets.soft[fit_rows[e]],
             xs_val[val_rows[e]], val_soft[val_rows[e]], targets.task, max_epochs, None if n_experts == 1 else e,
             tick if client is None else None) for e in range(n_experts)]
    done = (lambda i, r: tick(max_epochs - r[2])) if client is None else (lambda i, r: tick(max_epochs))
    history: list[DistillationEpoch] = []
    experts: list[Network] = []
    for net, curve, _ in run_tasks(train_student, jobs, client, on_done=done):
        _fold_input_scaling(net, a, b)
        if targets.task == "regression":
            _fold_output_scaling(net, targets.offset, targets.scale)
        experts.append(net)
        history += curve
    tick(None)

    float_model: Network | MixtureOfExperts
    if router is None:
        float_model = experts[0]
    else:
        names = domains if domains is not None else (DEFAULT_DOMAINS if n_experts == 6 else None)
        float_model = MixtureOfExperts(router, experts, domains=names)
    model: Model = float_model
    if precision != "float":
        bits = 8 if precision == "q8" else 16
        calibration = np.concatenate([x_fit, x_val])
        fixed = [net.quantize(calibration=calibration, activation_bits=bits) for net in experts]
        model = fixed[0] if router is None else MixtureOfExperts(router, fixed, domains=float_model.domains)

    return model, _report(t, targets, teacher_params, float_model, model, experts, router, x_test, test_targets,
                          y_true[test] if y_true is not None else None, temperature, precision, history)


def train_student(layers: list[int], output_activation: str, seed: int, fit_x: np.ndarray, fit_y: np.ndarray,
                  val_x: np.ndarray, val_y: np.ndarray, task: str, max_epochs: int, expert: int | None,
                  tick: Callable[[int | None], None] | None) -> tuple[Network, list[DistillationEpoch], int]:
    """One student network trained with RPROP on its transfer pairs, stopped early on its
    validation pairs: (the network, its training curve, the epochs trained). Runs here, or as a
    task on a Dask worker (then without tick)."""
    net = Network(layers, hidden="sigmoid_symmetric", output=output_activation, seed=seed)
    net.training_algorithm = "rprop"
    history: list[DistillationEpoch] = []
    trained = 0
    if len(fit_x):
        watch = _EarlyStop(net, val_x, val_y, task, max_epochs, expert, history, tick or (lambda n: None))
        trained = len(net.train(TrainingData(fit_x, fit_y), max_epochs=max_epochs, target_error=0.0, callback=watch))
        watch.restore()
    return net, history, trained


class _EarlyStop:
    """The training callback: counts epochs, records the curves, and keeps the weights of the
    epoch with the lowest validation error, stopping once ``patience`` epochs bring nothing
    better. Without it RPROP on a small transfer set drives weights to FANN's limit (1500),
    where the float network still agrees but the cancellations no 8-bit weight can follow."""

    def __init__(self, net: Network, xs_val: np.ndarray, val_soft: np.ndarray, task: str,
                 max_epochs: int, expert: int | None, history: list[DistillationEpoch],
                 tick: Callable[[int | None], None]) -> None:
        self.net, self.xs_val, self.val_soft, self.task = net, xs_val, val_soft, task
        self.expert, self.history, self.tick = expert, history, tick
        self.every = max(1, max_epochs // 50)
        self.patience = max(25, max_epochs // 5)
        self.best = math.inf
        self.best_epoch = 0
        self.best_weights: np.ndarray | None = None

    def __call__(self, epoch: int, mse: float, _bit_fail: int) -> bool:
        self.tick(1)
        agreement = None
        if len(self.xs_val):
            predicted = self.net.run(self.xs_val)
            error = float(np.mean((predicted - self.val_soft) ** 2))
            if error < self.best:
                self.best, self.best_epoch, self.best_weights = error, epoch, self.net.weights
            agreement = _agreement(predicted, self.val_soft, self.task)
        if epoch % self.every == 0 or epoch == 1:
            self.history.append(DistillationEpoch(expert=self.expert, epoch=epoch, loss=float(mse),
                                                  agreement=agreement))
        return len(self.xs_val) > 0 and epoch - self.best_epoch >= self.patience

    def restore(self) -> None:
        if self.best_weights is not None:
            self.net.weights = self.best_weights


def _routed(router: Router, x: np.ndarray, n_experts: int) -> list[np.ndarray]:
    """For each expert, the rows of x the router sends to it (among each row's top_k)."""
    if len(x) == 0:
        return [np.zeros(0, dtype=np.intp)] * n_experts
    chosen, _ = router.route(x)
    return [np.nonzero((chosen == e).any(axis=1))[0] for e in range(n_experts)]


# ---- checks ----

def _check_options(n_experts: Any, cluster_on: str, top_k: Any, size_ratio: float, temperature: float,
                   augment: Any, noise: float, precision: str, held_out: float, max_epochs: Any) -> dict:
    def positive_int(value: Any, name: str, low: int = 1) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ConfigError(f"{name} must be an integer >= {low}, got {value!r}")
        return int(value)

    positive_int(n_experts, "n_experts")
    positive_int(top_k, "top_k")
    positive_int(augment, "augment", 0)
    positive_int(max_epochs, "max_epochs")
    if n_experts > 1 and top_k > n_experts:
        raise ConfigError(f"top_k={top_k} exceeds n_experts={n_experts}")
    if cluster_on not in ("outputs", "inputs"):
        raise ConfigError(f"cluster_on must be 'outputs' or 'inputs', got {cluster_on!r}")
    if precision not in _PRECISIONS:
        raise ConfigError(f"precision must be one of {', '.join(_PRECISIONS)}, got {precision!r}")
    for name, value, low in (("size_ratio", size_ratio, 1.0), ("temperature", temperature, 1e-3)):
        if not isinstance(value, (int, float, np.floating)) or not math.isfinite(value) or value < low:
            raise ConfigError(f"{name} must be a finite number >= {low}, got {value!r}")
    if not isinstance(noise, (int, float, np.floating)) or not math.isfinite(noise) or noise < 0:
        raise ConfigError(f"noise must be a finite number >= 0, got {noise!r}")
    if not isinstance(held_out, (int, float, np.floating)) or not 0 < held_out < 1:
        raise ConfigError(f"held_out must be a fraction in (0, 1), got {held_out!r}")
    return {"cluster_on": cluster_on}


def _check_rows(values: Any, n: int, name: str) -> np.ndarray | None:
    if values is None:
        return None
    arr = np.asarray(values)
    if arr.shape != (n,):
        raise ShapeError(f"{name} must have shape ({n},), got {arr.shape}")
    return arr


# ---- targets ----

def _softmax(logits: np.ndarray) -> np.ndarray:
    z = np.exp(logits - logits.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def _logits(t: Teacher, out: np.ndarray) -> np.ndarray:
    """Logits from what the teacher returns (probabilities are told apart from logits by being
    non-negative rows that sum to one)."""
    probabilities = t.outputs == "probabilities" or (
        t.outputs == "auto" and np.all(out >= 0) and np.allclose(out.sum(axis=1), 1.0, atol=1e-4))
    return np.log(np.clip(out, 1e-7, 1.0)) if probabilities else out


def _soft_targets(t: Teacher, x: np.ndarray, temperature: float, task: str | None) -> _Targets:
    out = t.predict(x)
    regression = t.outputs == "values" or (t.outputs == "auto" and out.shape[1] == 1 and task != "classification")
    if regression:
        offset = out.mean(axis=0)
        scale = out.std(axis=0)
        scale[scale < 1e-12] = 1.0
        return _Targets("regression", ((out - offset) / scale).astype(np.float32), offset, scale)
    if out.shape[1] == 1:  # a single binary logit or probability: two classes
        p = out[:, 0] if np.all((out >= 0) & (out <= 1)) else 1.0 / (1.0 + np.exp(-out[:, 0]))
        out = np.stack([1.0 - p, p], axis=1)
    return _Targets("classification", _softmax(_logits(t, out) / temperature).astype(np.float32), None, None)


def _targets_like(t: Teacher, x: np.ndarray, like: _Targets, temperature: float, *, scaled: bool) -> np.ndarray:
    """The teacher's targets for x as ``like`` made them; a regressor's in its own units unless
    ``scaled`` (then as the student learns them)."""
    if len(x) == 0:
        return np.zeros((0, like.soft.shape[1]), np.float32)
    if like.task == "regression":
        out = t.predict(x)
        return ((out - like.offset) / like.scale if scaled else out).astype(np.float32)
    return _soft_targets(t, x, temperature, "classification").soft


def _agreement(student: np.ndarray, teacher: np.ndarray, task: str) -> float:
    """Top-1 agreement for a classifier; for a regressor the fraction of outputs within 5% of
    the teacher's output range (both in the same units)."""
    if len(teacher) == 0:
        return float("nan")
    if task == "classification":
        return float(np.mean(student.argmax(axis=1) == teacher.argmax(axis=1)))
    span = np.ptp(teacher, axis=0)
    span[span < 1e-12] = 1.0
    return float(np.mean(np.abs(student - teacher) <= _REGRESSION_TOLERANCE * span))


# ---- the student ----

def _student_layers(dim: int, n_out: int, n_experts: int, hidden: int | Sequence[int] | None,
                    teacher_params: int | None, size_ratio: float) -> list[int]:
    if hidden is not None:
        sizes = [hidden] if isinstance(hidden, (int, np.integer)) else list(hidden)
        if not sizes or any(isinstance(h, bool) or not isinstance(h, (int, np.integer)) or h < 1 for h in sizes):
            raise ConfigError(f"hidden must be a positive integer or a sequence of them, got {hidden!r}")
        return [dim, *map(int, sizes), n_out]
    if teacher_params is None:
        raise ConfigError("the teacher's parameters cannot be counted: give the students' hidden sizes "
                          "(hidden=, --hidden on the command line) or the teacher's parameter count "
                          "(teacher_parameters=)")
    router = n_experts * (dim + 1) if n_experts > 1 else 0
    budget = teacher_params / size_ratio - router
    per_unit = n_experts * (dim + 1 + n_out)  # one hidden neuron in every expert
    width = int((budget - n_experts * n_out) // per_unit)
    if width < 2:
        raise ConfigError(f"a student within 1/{size_ratio:g} of the teacher's {teacher_params} parameters "
                          f"leaves no room for {n_experts} expert(s) of input {dim}; give the hidden sizes "
                          f"(hidden=, --hidden) or a smaller size ratio (size_ratio=, --size-ratio)")
    return [dim, min(width, _MAX_HIDDEN), n_out]


def _input_scaling(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(a, b) standardising each column as ``a * x + b``; constant columns map to 0 (they carry
    nothing to learn, and a weight never trained must not meet a new value at run time)."""
    mean, std = x.mean(axis=0).astype(np.float64), x.std(axis=0).astype(np.float64)
    flat = std < 1e-12
    a = np.where(flat, 0.0, 1.0 / np.where(flat, 1.0, std))
    return a, np.where(flat, 0.0, -mean * a)


def _parameters(model: Network | MixtureOfExperts | Router) -> int:
    if isinstance(model, Network):
        return model.total_connections
    if isinstance(model, Router):
        return model.n_experts * (model.dim + 1)
    return _parameters(model.router) + sum(_parameters(e) for e in model.experts if isinstance(e, Network))


def _fold_input_scaling(net: Network, a: np.ndarray, b: np.ndarray) -> None:
    """Make a network trained on ``a * x + b`` run on x: the weights from each input scale by a,
    and w . b moves into each neuron's bias."""
    topology = net.topology
    w = net.weights.astype(np.float64)
    src, dst = topology.sources.astype(np.int64), topology.destinations
    is_input = src < net.num_input
    shift = np.zeros(net.stored_neurons)
    np.add.at(shift, dst[is_input], w[is_input] * b[src[is_input]])
    w[is_input] *= a[src[is_input]]
    w[_bias_connections(topology)] += shift[dst[_bias_connections(topology)]]
    net.weights = w.astype(np.float32)


def _fold_output_scaling(net: Network, offset: np.ndarray, scale: np.ndarray) -> None:
    """Make a linear-output network trained on ``(y - offset) / scale`` return y."""
    topology = net.topology
    w = net.weights.astype(np.float64)
    dst = topology.destinations
    first_output = int(topology.layer_starts[-2])
    rows = topology.connections_into(topology.num_layers - 1)
    w[rows] *= scale[dst[rows] - first_output]
    # a linear neuron outputs steepness * sum, so the offset enters the sum divided by it
    bias = _bias_connections(topology) & rows
    out = dst[bias] - first_output
    w[bias] += offset[out] / topology.steepnesses[dst[bias]].astype(np.float64)
    net.weights = w.astype(np.float32)


def _bias_connections(topology: Topology) -> np.ndarray:
    """Mask of the connections from bias neurons."""
    return np.isin(topology.sources, topology.bias_neurons)


# ---- progress ----

def _progress(progress: bool | Callable[[int, int], Any], total: int) -> Callable[[int | None], None]:
    """A tick(n) function advancing a progress display by n epochs; tick(None) closes it."""
    if callable(progress):
        done = [0]

        def call(n: int | None) -> None:
            if n:
                done[0] += n
                progress(done[0], total)
        return call
    if progress:
        try:
            from tqdm.auto import tqdm
        except ImportError:
            tqdm = None
        if tqdm is not None:
            bar = tqdm(total=total, unit="epoch", desc="distilling", leave=False)

            def advance(n: int | None) -> None:
                if n is None:
                    bar.close()
                elif n:
                    bar.update(n)
            return advance
    return lambda n: None


# ---- the report ----

def _report(t: Teacher, targets: _Targets, teacher_params: int | None, float_model: Network | MixtureOfExperts,
            model: Model, experts: list[Network], router: Router | None, x_test: np.ndarray, teacher_out: np.ndarray,
            y_test: np.ndarray | None, temperature: float, precision: str,
            history: list[DistillationEpoch]) -> DistillationReport:
    from .profile import profile

    float_out = float_model.run(x_test)
    agreement = _agreement(float_out, teacher_out, targets.task)
    err = np.abs(float_out - teacher_out)
    fixed_agreement = float_fixed = fixed_max = None
    if model is not float_model:
        fixed_out = model.run(x_test)
        fixed_agreement = _agreement(fixed_out, teacher_out, targets.task)
        float_fixed = _agreement(fixed_out, float_out, targets.task)
        fixed_max = float(np.abs(fixed_out - teacher_out).max())
    teacher_acc = student_acc = float_acc = None
    if y_test is not None and targets.task == "classification":
        teacher_acc = float(np.mean(teacher_out.argmax(axis=1) == y_test))
        float_acc = float(np.mean(float_out.argmax(axis=1) == y_test))
        final = model.run(x_test)
        student_acc = float(np.mean(final.argmax(axis=1) == y_test))
    student_params = _parameters(float_model)
    timing = profile(model, batch_sizes=(1, 1024), repeats=30)
    load = None
    if router is not None:
        load = [int(c) for c in router.route(x_test, return_load=True)[2]]
    from .analyze import analyze

    analysis = analyze(model, x_test, reference=float_model if model is not float_model else None)
    return DistillationReport(
        teacher=t.description,
        task=targets.task,
        teacher_parameters=teacher_params,
        student_parameters=student_params,
        parameter_ratio=(teacher_params / student_params) if teacher_params else None,
        n_experts=len(experts),
        domains=list(float_model.domains) if isinstance(float_model, MixtureOfExperts) else ["student"],
        top_k=router.top_k if router is not None else 1,
        temperature=float(temperature),
        precision=precision,
        held_out=len(x_test),
        agreement=agreement,
        fixed_agreement=fixed_agreement,
        float_fixed_agreement=float_fixed,
        mean_abs_error=float(err.mean()),
        max_abs_error=float(err.max()),
        fixed_max_abs_error=fixed_max,
        teacher_accuracy=teacher_acc,
        student_accuracy=student_acc,
        float_accuracy=float_acc,
        float_bytes=4 * student_params,
        file_bytes=len(kfn.dumps(model, compress="deflate")),
        latency_us=timing.timings[0].p50_us,
        throughput=timing.timings[1].samples_per_second,
        router_load=load,
        history=history,
        analysis=analysis,
    )
