"""The scikit-learn estimators: check_estimator, Pipeline, GridSearchCV in parallel,
cross_val_score, partial_fit, quantized networks."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import kimi_fann as kf

pytest.importorskip("sklearn", minversion="1.6")
from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris  # noqa: E402
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import check_estimator  # noqa: E402

from kimi_fann.sklearn import EXPECTED_FAILED_CHECKS, FANNClassifier, FANNRegressor  # noqa: E402


@pytest.mark.parametrize("estimator", [
    FANNClassifier(), FANNRegressor(), FANNClassifier(quantize="q8"),
    FANNClassifier(algorithm="incremental", output_activation="sigmoid_symmetric"),
    FANNRegressor(output_activation="sigmoid", algorithm="quickprop"),
], ids=repr)
def test_check_estimator(estimator) -> None:
    expected = EXPECTED_FAILED_CHECKS[type(estimator).__name__]
    results = check_estimator(estimator, expected_failed_checks=expected, on_skip=None, on_fail=None)
    failed = [(r["check_name"], repr(r["exception"])) for r in results if r["status"] == "failed"]
    assert failed == []
    assert len(results) > 50


def test_expected_failures_are_short_and_reasoned() -> None:
    assert set(EXPECTED_FAILED_CHECKS) == {"FANNClassifier", "FANNRegressor"}
    for checks in EXPECTED_FAILED_CHECKS.values():
        assert len(checks) <= 3 and all(name.startswith("check_") and reason for name, reason in checks.items())


def test_pipeline_grid_search_in_two_processes_and_cross_validation() -> None:
    X, y = load_iris(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), FANNClassifier(max_epochs=100, random_state=0))
    grid = GridSearchCV(pipe, {"fannclassifier__hidden_layer_sizes": [(2,), (8,)],
                               "fannclassifier__algorithm": ["rprop", "quickprop"]},
                        cv=KFold(3, shuffle=True, random_state=0), n_jobs=2)
    grid.fit(X, y)
    assert grid.best_score_ > 0.9
    best = grid.best_estimator_[-1]
    assert isinstance(best.network_, kf.Network) and best.network_.layers[0] == 4
    # the same search on one process gives the same scores: results do not depend on where
    one = GridSearchCV(pipe, grid.param_grid, cv=KFold(3, shuffle=True, random_state=0), n_jobs=1).fit(X, y)
    np.testing.assert_array_equal(one.cv_results_["mean_test_score"], grid.cv_results_["mean_test_score"])
    scores = cross_val_score(make_pipeline(StandardScaler(), FANNClassifier(random_state=1)), *load_breast_cancer(
        return_X_y=True), cv=3)
    assert scores.min() > 0.9


def test_regressor_in_a_pipeline() -> None:
    X, y = load_diabetes(return_X_y=True)
    scores = cross_val_score(make_pipeline(StandardScaler(), FANNRegressor(hidden_layer_sizes=4, max_epochs=50,
                                                                           random_state=0)), X, y, cv=3)
    assert scores.mean() > 0.3  # diabetes: linear models reach about 0.45


def test_classifier_outputs() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 2))
    y = np.array(["left", "middle", "right"])[np.digitize(X[:, 0], [-0.5, 0.5])]
    clf = FANNClassifier(hidden_layer_sizes=(8,), max_epochs=300, random_state=0).fit(X, y)
    assert clf.classes_.tolist() == ["left", "middle", "right"] and clf.n_features_in_ == 2
    assert clf.network_.layers == (2, 8, 3) and clf.n_iter_ == len(clf.loss_curve_) <= 300
    p = clf.predict_proba(X)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    assert np.array_equal(clf.predict(X), clf.classes_[p.argmax(axis=1)])
    assert clf.score(X, y) > 0.95
    # the network is a plain kimi-fann network: it saves as a FANN .net file
    back = kf.Network.from_fann_text(clf.network_.to_fann_text())
    assert np.array_equal(back.run(X), clf.network_.run(X))


def test_binary_classifier_has_one_output() -> None:
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    clf = FANNClassifier(hidden_layer_sizes=3, output_activation="sigmoid_symmetric", random_state=0).fit(X, [5, 5, 7, 7])
    assert clf.network_.num_output == 1
    assert clf.predict(X).tolist() == [5, 5, 7, 7]
    p = clf.predict_proba(X)
    np.testing.assert_allclose(p[:, 0] + p[:, 1], 1.0)


@pytest.mark.parametrize("quantize,bits", [("q8", 8), ("q16", 16)])
def test_quantized_networks(quantize: str, bits: int) -> None:
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    clf = FANNClassifier(hidden_layer_sizes=(8,), quantize=quantize, random_state=0).fit(X, y)
    assert isinstance(clf.network_, kf.QuantizedNetwork) and clf.network_.spec.activation_bits == bits
    float_clf = FANNClassifier(hidden_layer_sizes=(8,), random_state=0).fit(X, y)
    assert np.array_equal(clf.float_network_.weights, float_clf.network_.weights)
    assert np.mean(clf.predict(X) == float_clf.predict(X)) > 0.97
    reg = FANNRegressor(hidden_layer_sizes=(8,), quantize=quantize, random_state=0).fit(X[:, 1:], X[:, 0])
    assert isinstance(reg.network_, kf.QuantizedNetwork) and reg.score(X[:, 1:], X[:, 0]) > 0.7


def test_regressor_targets() -> None:
    X = np.linspace(-1, 1, 100)[:, None]
    Y = np.hstack([1000 + 300 * X, -5 * X**2])
    reg = FANNRegressor(hidden_layer_sizes=(8,), max_epochs=500, random_state=0).fit(X, Y)
    assert reg.predict(X).shape == (100, 2) and reg.score(X, Y) > 0.98
    bounded = FANNRegressor(hidden_layer_sizes=(8,), output_activation="sigmoid", max_epochs=500,
                            random_state=0).fit(X, Y[:, 0])
    pred = bounded.predict(X)
    assert pred.shape == (100,) and bounded.score(X, Y[:, 0]) > 0.98
    assert pred.min() >= Y[:, 0].min() - 1e-6 and pred.max() <= Y[:, 0].max() + 1e-6


def test_partial_fit_goes_on_from_a_pickle() -> None:
    """partial_fit continues the network and its training state; a pickled estimator continues
    exactly as the original does."""
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    for clf in (FANNClassifier(hidden_layer_sizes=(5,), random_state=0),
                FANNClassifier(hidden_layer_sizes=(5,), algorithm="incremental", random_state=0)):
        for start in range(0, 150, 50):
            clf.partial_fit(X[start:start + 50], y[start:start + 50], classes=[0, 1, 2])
        twin = pickle.loads(pickle.dumps(clf))
        for _ in range(30):
            clf.partial_fit(X, y)
            twin.partial_fit(X, y)
        assert clf.n_iter_ == twin.n_iter_ == 33
        assert np.array_equal(clf.network_.weights, twin.network_.weights)
        assert clf.score(X, y) > 0.8
    with pytest.raises(ValueError, match="classes"):
        FANNClassifier().partial_fit(X, y)
    with pytest.raises(ValueError, match="not among"):
        FANNClassifier().partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="features"):
        clf.partial_fit(X[:, :3], y)
    reg = FANNRegressor(hidden_layer_sizes=4, quantize="q8", random_state=0)
    for _ in range(5):
        reg.partial_fit(X[:, :3], X[:, 3])
    assert isinstance(reg.network_, kf.QuantizedNetwork) and reg.n_iter_ == 5


def test_fit_is_reproducible_and_clone_forgets() -> None:
    X, y = load_iris(return_X_y=True)
    a = FANNClassifier(random_state=3, max_epochs=20).fit(X, y)
    b = clone(a).fit(X, y)
    assert np.array_equal(a.network_.weights, b.network_.weights)
    assert not hasattr(clone(a), "network_")


@pytest.mark.parametrize("params", [
    {"hidden_layer_sizes": (0,)}, {"activation": "tanh"}, {"output_activation": "softmax"}, {"algorithm": "adam"},
    {"max_epochs": 0}, {"desired_error": -1.0}, {"learning_rate": 0.0}, {"quantize": "q4"},
])
def test_bad_parameters_are_refused_by_fit(params: dict) -> None:
    clf = FANNClassifier(**params)  # scikit-learn's rule: __init__ stores, fit checks
    with pytest.raises(ValueError):
        clf.fit([[0.0], [1.0]], [0, 1])
