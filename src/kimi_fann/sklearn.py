"""scikit-learn estimators over FANN networks: :class:`FANNClassifier` and :class:`FANNRegressor`.

They fit a :class:`~kimi_fann.Network` with FANN's training algorithms (RPROP by default), can
hand back a Q8/Q16 network (``quantize=``), and take part in everything scikit-learn builds on
estimators: ``Pipeline``, ``GridSearchCV`` and ``cross_val_score`` (in parallel too: fitted
estimators pickle with their networks), ``clone``, ``partial_fit``. They pass scikit-learn's
``check_estimator``; the few checks that cannot apply are listed, with the reason, in
:data:`EXPECTED_FAILED_CHECKS`.

As with scikit-learn's own neural networks, inputs train best standardised: put a
``StandardScaler`` before the estimator. Regression targets are scaled inside (FANN clips
weights at +-1500, and bounded output activations need targets in their range).

Requires scikit-learn 1.6 or later (``pip install kimi-fann[sklearn]``).

Examples
--------
>>> from sklearn.datasets import load_iris
>>> from sklearn.pipeline import make_pipeline
>>> from sklearn.preprocessing import StandardScaler
>>> from kimi_fann.sklearn import FANNClassifier
>>> X, y = load_iris(return_X_y=True)
>>> model = make_pipeline(StandardScaler(), FANNClassifier(hidden_layer_sizes=(8,), random_state=0)).fit(X, y)
>>> bool(model.score(X, y) > 0.95)
True
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.utils import check_random_state
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted, validate_data
except ImportError as exc:  # pragma: no cover - exercised only without scikit-learn
    raise ImportError("kimi_fann.sklearn needs scikit-learn 1.6 or later: pip install 'kimi-fann[sklearn]'") from exc

from .data import TrainingData
from .descriptions import ACTIVATION_RANGES, ACTIVATIONS
from .fixed import QuantizedNetwork
from .network import TRAINING_ALGORITHMS, Network

__all__ = ["FANNClassifier", "FANNRegressor", "EXPECTED_FAILED_CHECKS"]

#: The checks of ``sklearn.utils.estimator_checks.check_estimator`` that cannot apply to these
#: estimators, by estimator class name, each with its reason: what to give as
#: ``check_estimator(estimator, expected_failed_checks=EXPECTED_FAILED_CHECKS[type(estimator).__name__])``.
EXPECTED_FAILED_CHECKS: dict[str, dict[str, str]] = {
    "FANNClassifier": {},
    "FANNRegressor": {},
}

_QUANTIZE = {None: None, "q8": (8, 8), "q16": (16, 16)}
#: partial_fit calibrates a quantized network on the first rows it was given, up to this many.
_CALIBRATION_ROWS = 10_000


class _FANNEstimator(BaseEstimator):
    """What both estimators share: checking the parameters, building and training the network,
    quantizing it, running it."""

    hidden_layer_sizes: int | Sequence[int]
    activation: str
    output_activation: str
    algorithm: str
    max_epochs: int
    desired_error: float
    learning_rate: float
    quantize: str | None
    random_state: Any

    # ---- parameters ----

    def _layers(self, n_in: int, n_out: int) -> list[int]:
        sizes = self.hidden_layer_sizes
        hidden = [sizes] if isinstance(sizes, numbers.Integral) else list(sizes)
        if any(isinstance(h, bool) or not isinstance(h, numbers.Integral) or h < 1 for h in hidden):
            raise ValueError(f"hidden_layer_sizes must be positive integers, got {sizes!r}")
        return [n_in, *(int(h) for h in hidden), n_out]

    def _check_parameters(self) -> None:
        for name in ("activation", "output_activation"):
            if getattr(self, name) not in ACTIVATIONS:
                raise ValueError(f"{name} must be one of {', '.join(ACTIVATIONS)}; got {getattr(self, name)!r}")
        if self.algorithm not in TRAINING_ALGORITHMS:
            raise ValueError(f"algorithm must be one of {', '.join(TRAINING_ALGORITHMS)}; got {self.algorithm!r}")
        if isinstance(self.max_epochs, bool) or not isinstance(self.max_epochs, numbers.Integral) \
                or self.max_epochs < 1:
            raise ValueError(f"max_epochs must be a positive integer, got {self.max_epochs!r}")
        if not isinstance(self.desired_error, numbers.Real) or not np.isfinite(self.desired_error) \
                or self.desired_error < 0:
            raise ValueError(f"desired_error must be a finite number >= 0, got {self.desired_error!r}")
        if not isinstance(self.learning_rate, numbers.Real) or not np.isfinite(self.learning_rate) \
                or self.learning_rate <= 0:
            raise ValueError(f"learning_rate must be a finite number > 0, got {self.learning_rate!r}")
        if self.quantize not in _QUANTIZE:
            raise ValueError(f"quantize must be None, 'q8' or 'q16'; got {self.quantize!r}")

    def _new_network(self, n_in: int, n_out: int) -> Network:
        self._check_parameters()
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        net = Network(self._layers(n_in, n_out), hidden=self.activation, output=self.output_activation, seed=seed)
        net.training_algorithm = self.algorithm
        net.learning_rate = float(self.learning_rate)
        return net

    # ---- training ----

    def _fit_network(self, X: np.ndarray, targets: np.ndarray) -> None:
        net = self._new_network(X.shape[1], targets.shape[1])
        history = net.train(TrainingData(X, targets), max_epochs=int(self.max_epochs),
                            target_error=float(self.desired_error))
        self.float_network_ = net
        self.loss_curve_ = history.tolist()
        self.n_iter_ = len(history)
        self._calibration = self._calibration_rows(np.empty((0, X.shape[1]), np.float32), X)
        self.network_ = self._quantized(X)

    def _partial_fit_network(self, X: np.ndarray, targets: np.ndarray) -> None:
        if not hasattr(self, "float_network_"):
            self.float_network_ = self._new_network(X.shape[1], targets.shape[1])
            self.loss_curve_, self.n_iter_ = [], 0
            self._calibration = np.empty((0, X.shape[1]), np.float32)
        self.loss_curve_.append(self.float_network_.train_epoch(TrainingData(X, targets)))
        self.n_iter_ += 1
        self._calibration = self._calibration_rows(self._calibration, X)
        self.network_ = self._quantized(self._calibration)

    def _calibration_rows(self, kept: np.ndarray, X: np.ndarray) -> np.ndarray:
        """The inputs a quantized network is calibrated on: the first rows seen, up to
        _CALIBRATION_ROWS (none kept without quantize)."""
        if self.quantize is None or len(kept) >= _CALIBRATION_ROWS:
            return kept
        return np.concatenate([kept, X[: _CALIBRATION_ROWS - len(kept)]])

    def _quantized(self, calibration: np.ndarray) -> Network | QuantizedNetwork:
        bits = _QUANTIZE[self.quantize]
        if bits is None:
            return self.float_network_
        return self.float_network_.quantize(calibration=calibration, activation_bits=bits[0], weight_bits=bits[1])

    def _outputs(self, X: Any) -> np.ndarray:
        """The network's outputs for X (checked as the training inputs were), float64."""
        check_is_fitted(self, "network_")
        X = validate_data(self, X, reset=False, dtype=np.float32)
        return self.network_.run(X).astype(np.float64)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags


def _target_range(activation: str) -> tuple[float, float]:
    """The values an output activation reaches: its range, or [0, 1] when unbounded."""
    return ACTIVATION_RANGES.get(activation, (0.0, 1.0))


class FANNClassifier(ClassifierMixin, _FANNEstimator):
    """A classifier trained with FANN's algorithms: one output per class (one for two classes)
    whose target is the top of the output activation's range for the true class and the
    bottom for the others.

    ``predict_proba`` maps each output onto [0, 1] from its activation's range and normalises the
    row; ``predict`` takes the class of the largest probability.

    Parameters
    ----------
    hidden_layer_sizes : int or sequence of int
        Neurons of each hidden layer.
    activation : str
        Activation function of the hidden layers (a name from :data:`kimi_fann.ACTIVATIONS`).
    output_activation : str
        Activation function of the output layer.
    algorithm : {"rprop", "incremental", "batch", "quickprop", "sarprop"}
        FANN's training algorithm.
    max_epochs : int
        Epochs of :meth:`fit` at most.
    desired_error : float
        :meth:`fit` stops once an epoch's mean squared error is at most this.
    learning_rate : float
        Learning rate of incremental, batch and Quickprop training.
    quantize : {None, "q8", "q16"}
        None predicts with the float network; ``"q8"`` and ``"q16"`` with a Q8 (8-bit) or Q16
        (16-bit weights and activations) network quantized from it, calibrated on the training
        inputs.
    random_state : int, numpy.random.RandomState or None
        Seeds the initial weights (and SARPROP's random steps).

    Attributes
    ----------
    classes_ : numpy.ndarray
        The class labels, sorted.
    n_features_in_ : int
        Inputs per sample.
    feature_names_in_ : numpy.ndarray of str
        Column names, when fitted on a DataFrame with string column names.
    network_ : Network or QuantizedNetwork
        The network that :meth:`predict` runs.
    float_network_ : Network
        The trained float network (``network_`` itself unless ``quantize`` is set).
    n_iter_ : int
        Epochs trained.
    loss_curve_ : list of float
        The mean squared error of every epoch.

    Examples
    --------
    >>> import numpy as np
    >>> from kimi_fann.sklearn import FANNClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = np.where(X[:, 0] * X[:, 1] > 0, "same", "opposite")
    >>> clf = FANNClassifier(hidden_layer_sizes=(6,), max_epochs=300, random_state=0).fit(X, y)
    >>> clf.classes_.tolist(), bool(clf.score(X, y) > 0.9)
    (['opposite', 'same'], True)
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    """

    def __init__(
        self,
        hidden_layer_sizes: int | Sequence[int] = (16,),
        *,
        activation: str = "sigmoid_symmetric",
        output_activation: str = "sigmoid",
        algorithm: str = "rprop",
        max_epochs: int = 200,
        desired_error: float = 0.001,
        learning_rate: float = 0.7,
        quantize: str | None = None,
        random_state: Any = None,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.output_activation = output_activation
        self.algorithm = algorithm
        self.max_epochs = max_epochs
        self.desired_error = desired_error
        self.learning_rate = learning_rate
        self.quantize = quantize
        self.random_state = random_state

    def _targets(self, y: np.ndarray) -> np.ndarray:
        lo, hi = _target_range(self.output_activation)
        index = np.searchsorted(self.classes_, y)
        if len(self.classes_) == 2:
            return np.where(index == 1, hi, lo).astype(np.float32)[:, None]
        targets = np.full((len(y), len(self.classes_)), lo, dtype=np.float32)
        targets[np.arange(len(y)), index] = hi
        return targets

    def fit(self, X: Any, y: Any) -> FANNClassifier:
        """Train a new network on X and y.

        Parameters
        ----------
        X : array_like, shape (n_samples, n_features)
        y : array_like, shape (n_samples,)
            Class labels (numbers or strings); at least two classes.

        Returns
        -------
        FANNClassifier
            self.

        Raises
        ------
        ValueError
            For a bad parameter, inputs that are not finite numbers, or fewer than two classes.

        Examples
        --------
        >>> from kimi_fann.sklearn import FANNClassifier
        >>> clf = FANNClassifier(hidden_layer_sizes=(3,), random_state=0).fit([[0], [1], [2], [3]], [0, 0, 1, 1])
        >>> clf.predict([[0.2], [2.8]]).tolist()
        [0, 1]
        """
        X, y = validate_data(self, X, y, dtype=np.float32)
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError(f"a classifier needs samples of at least two classes; got one class, {self.classes_[0]!r}")
        self._fit_network(X, self._targets(y))
        return self

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> FANNClassifier:
        """One epoch of the training algorithm on X and y (FANN's ``fann_train_epoch``), on the
        network of earlier calls: its weights and training state (RPROP's steps, momentum) go on
        from where they were. With ``algorithm="incremental"`` the weights move after every
        sample, as FANN's incremental training does.

        Parameters
        ----------
        X : array_like, shape (n_samples, n_features)
        y : array_like, shape (n_samples,)
        classes : array_like, optional
            Every class label: required on the first call, ignored after.

        Returns
        -------
        FANNClassifier
            self.

        Raises
        ------
        ValueError
            Without ``classes`` on the first call, for a label not among them, or for inputs of
            another width than the first call's.

        Examples
        --------
        >>> import numpy as np
        >>> from kimi_fann.sklearn import FANNClassifier
        >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
        >>> clf = FANNClassifier(hidden_layer_sizes=(3,), random_state=0)
        >>> for _ in range(50):
        ...     clf = clf.partial_fit(X, ["a", "a", "b", "b"], classes=["a", "b"])
        >>> clf.n_iter_, clf.predict([[0.1], [2.9]]).tolist()
        (50, ['a', 'b'])
        """
        first = not hasattr(self, "classes_")
        if first:
            if classes is None:
                raise ValueError("classes must be given on the first call to partial_fit")
            labels = np.unique(np.asarray(classes))
            if len(labels) < 2:
                raise ValueError(f"a classifier needs at least two classes; got {labels.tolist()!r}")
        X, y = validate_data(self, X, y, dtype=np.float32, reset=first)
        check_classification_targets(y)
        if first:
            self.classes_ = labels
        unknown = np.setdiff1d(np.unique(y), self.classes_)
        if len(unknown):
            raise ValueError(f"labels {unknown.tolist()!r} are not among the classes {self.classes_.tolist()!r}")
        self._partial_fit_network(X, self._targets(y))
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """The probability of each class, from the network's outputs.

        Parameters
        ----------
        X : array_like, shape (n_samples, n_features)

        Returns
        -------
        numpy.ndarray of float64, shape (n_samples, n_classes)
            Rows summing to one, columns in the order of :attr:`classes_`.

        Examples
        --------
        >>> from kimi_fann.sklearn import FANNClassifier
        >>> clf = FANNClassifier(hidden_layer_sizes=(3,), random_state=0).fit([[0], [1], [2], [3]], [0, 0, 1, 1])
        >>> p = clf.predict_proba([[0.0], [3.0]])
        >>> p.shape, bool(p[0, 0] > 0.5 and p[1, 1] > 0.5)
        ((2, 2), True)
        """
        lo, hi = _target_range(self.output_activation)
        p = np.clip((self._outputs(X) - lo) / (hi - lo), 0.0, 1.0)
        if len(self.classes_) == 2:
            return np.hstack([1.0 - p, p])
        p = np.maximum(p, 1e-7)  # no row of zeros
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each sample.

        Parameters
        ----------
        X : array_like, shape (n_samples, n_features)

        Returns
        -------
        numpy.ndarray, shape (n_samples,)
            Labels from :attr:`classes_`.

        Examples
        --------
        >>> from kimi_fann.sklearn import FANNClassifier
        >>> clf = FANNClassifier(hidden_layer_sizes=(3,), random_state=0).fit([[0], [1], [2], [3]], ["x", "x", "y", "y"])
        >>> clf.predict([[0.5], [2.5]]).tolist()
        ['x', 'y']
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        return tags


class FANNRegressor(RegressorMixin, _FANNEstimator):
    """A regressor trained with FANN's algorithms: one output per target.

    Targets are scaled for training and the outputs scaled back: standardised for an unbounded
    output activation (``"linear"``, the default), mapped from their training range onto the
    activation's range for a bounded one (predictions then stay within the training range).

    Parameters
    ----------
    hidden_layer_sizes : int or sequence of int
        Neurons of each hidden layer.
    activation : str
        Activation function of the hidden layers (a name from :data:`kimi_fann.ACTIVATIONS`).
    output_activation : str
        Activation function of the output layer.
    algorithm : {"rprop", "incremental", "batch", "quickprop", "sarprop"}
        FANN's training algorithm.
    max_epochs : int
        Epochs of :meth:`fit` at most.
    desired_error : float
        :meth:`fit` stops once an epoch's mean squared error (on the scaled targets) is at most
        this.
    learning_rate : float
        Learning rate of incremental, batch and Quickprop training.
    quantize : {None, "q8", "q16"}
        None predicts with the float network; ``"q8"`` and ``"q16"`` with a quantized one.
    random_state : int, numpy.random.RandomState or None
        Seeds the initial weights (and SARPROP's random steps).

    Attributes
    ----------
    n_features_in_ : int
        Inputs per sample.
    feature_names_in_ : numpy.ndarray of str
        Column names, when fitted on a DataFrame with string column names.
    network_ : Network or QuantizedNetwork
        The network that :meth:`predict` runs; its outputs are the scaled targets.
    float_network_ : Network
        The trained float network.
    target_offset_, target_scale_ : numpy.ndarray of float64, shape (n_targets,)
        ``prediction = target_offset_ + target_scale_ * network_.run(X)``.
    n_iter_ : int
        Epochs trained.
    loss_curve_ : list of float
        The mean squared error of every epoch (scaled targets).

    Examples
    --------
    >>> import numpy as np
    >>> from kimi_fann.sklearn import FANNRegressor
    >>> X = np.linspace(-2, 2, 200)[:, None]
    >>> y = 100 + 50 * np.sin(X[:, 0])
    >>> reg = FANNRegressor(hidden_layer_sizes=(8,), max_epochs=400, random_state=0).fit(X, y)
    >>> bool(reg.score(X, y) > 0.99), reg.predict(X[:3]).shape
    (True, (3,))
    """

    def __init__(
        self,
        hidden_layer_sizes: int | Sequence[int] = (16,),
        *,
        activation: str = "sigmoid_symmetric",
        output_activation: str = "linear",
        algorithm: str = "rprop",
        max_epochs: int = 200,
        desired_error: float = 0.001,
        learning_rate: float = 0.7,
        quantize: str | None = None,
        random_state: Any = None,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.output_activation = output_activation
        self.algorithm = algorithm
        self.max_epochs = max_epochs
        self.desired_error = desired_error
        self.learning_rate = learning_rate
        self.quantize = quantize
        self.random_state = random_state

    def _set_target_scaling(self, y: np.ndarray) -> None:
        y = y.astype(np.float64)
        if self.output_activation in ACTIVATION_RANGES:
            lo, hi = ACTIVATION_RANGES[self.output_activation]
            y_min, y_max = y.min(axis=0), y.max(axis=0)
            span = np.where(y_max > y_min, y_max - y_min, 1.0)
            self.target_scale_ = span / (hi - lo)
            self.target_offset_ = y_min - lo * self.target_scale_
        else:
            std = y.std(axis=0)
            self.target_scale_ = np.where(std > 0, std, 1.0)
            self.target_offset_ = y.mean(axis=0)

    def _scaled(self, y: np.ndarray) -> np.ndarray:
        return ((y - self.target_offset_) / self.target_scale_).astype(np.float32)

    def _check_targets(self, X: Any, y: Any, reset: bool) -> tuple[np.ndarray, np.ndarray]:
        X, y = validate_data(self, X, y, dtype=np.float32, multi_output=True, y_numeric=True, reset=reset)
        y = np.asarray(y, dtype=np.float64)
        if reset:
            self._y_ndim = y.ndim
        elif y.ndim != self._y_ndim or (y.ndim == 2 and y.shape[1] != len(self.target_scale_)):
            raise ValueError(f"y has shape {y.shape}; the regressor was fitted on {len(self.target_scale_)} "
                             f"target(s) of {self._y_ndim} dimension(s)")
        return X, (y[:, None] if y.ndim == 1 else y)

    def fit(self, X: Any, y: Any) -> FANNRegressor:
        """Train a new network on X and y.

        Parameters
        ----------
        X : array_like, shape (n_samples, n_features)
        y : array_like, shape (n_samples,) or (n_samples, n_targets)

        Returns
        -------
        FANNRegressor
            self.

        Raises
        ------
        ValueError
            For a bad parameter or values that are not finite numbers.

        Examples
        --------
        >>> import numpy as np
        >>> from kimi_fann.sklearn import FANNRegressor
        >>> X = np.linspace(0, 1, 50)[:, None]
        >>> reg = FANNRegressor(hidden_layer_sizes=(4,), random_state=0).fit(X, np.hstack([X, 2 * X]))
        >>> reg.predict(X).shape
        (50, 2)
        """
        X, y = self._check_targets(X, y, reset=True)
        self._set_target_scaling(y)
        self._fit_network(X, self._scaled(y))
        return self

    def partial_fit(self, X: Any, y: Any) -> FANNRegressor:
        """One epoch of the training algorithm on X and y (FANN's ``fann_train_epoch``), on the
        network of earlier calls: its weights and training state go on from where they were.
        The first call's targets set the target scaling.

        Parameters
        ----------
        X : array_like, shape (n_samples, n_features)
        y : array_like, shape (n_samples,) or (n_samples, n_targets)

        Returns
        -------
        FANNRegressor
            self.

        Raises
        ------
        ValueError
            For inputs or targets of another width than the first call's.

        Examples
        --------
        >>> import numpy as np
        >>> from kimi_fann.sklearn import FANNRegressor
        >>> X = np.linspace(0, 1, 50)[:, None]
        >>> reg = FANNRegressor(hidden_layer_sizes=(4,), random_state=0)
        >>> for _ in range(100):
        ...     reg = reg.partial_fit(X, 3 * X[:, 0])
        >>> bool(reg.score(X, 3 * X[:, 0]) > 0.95)
        True
        """
        first = not hasattr(self, "target_scale_")
        X, y = self._check_targets(X, y, reset=first)
        if first:
            self._set_target_scaling(y)
        self._partial_fit_network(X, self._scaled(y))
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predicted targets.

        Parameters
        ----------
        X : array_like, shape (n_samples, n_features)

        Returns
        -------
        numpy.ndarray of float64, shape (n_samples,) or (n_samples, n_targets)
            As the targets given to :meth:`fit`.

        Examples
        --------
        >>> import numpy as np
        >>> from kimi_fann.sklearn import FANNRegressor
        >>> X = np.linspace(0, 1, 50)[:, None]
        >>> reg = FANNRegressor(hidden_layer_sizes=(4,), random_state=0).fit(X, 5 - X[:, 0])
        >>> bool(abs(reg.predict([[0.5]])[0] - 4.5) < 0.05)
        True
        """
        out = self._outputs(X)
        y = self.target_offset_ + self.target_scale_ * out
        return y[:, 0] if self._y_ndim == 1 else y

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
