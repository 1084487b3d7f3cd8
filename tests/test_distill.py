"""Distillation: teachers of every kind taught to small students and to domain experts."""

from __future__ import annotations

import numpy as np
import pytest

import kimi_fann as kf
from kimi_fann.analyzer import DistillationReport, distill, report_schema
from kimi_fann.analyzer.distill import _fold_input_scaling, _input_scaling
from kimi_fann.analyzer.teachers import as_teacher
from kimi_fann.errors import ConfigError, NumericError, ShapeError

sklearn = pytest.importorskip("sklearn")
from sklearn.datasets import load_breast_cancer, load_digits  # noqa: E402
from sklearn.ensemble import RandomForestClassifier  # noqa: E402
from sklearn.neural_network import MLPClassifier, MLPRegressor  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

# small teachers trained briefly: their convergence is not what these tests are about
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _teachers(loader):
    """An MLP and a random forest trained on the first half of a data set."""
    x, y = loader(return_X_y=True)
    half = len(x) // 2
    mlp = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(256, 256), max_iter=300,
                                                        random_state=0)).fit(x[:half], y[:half])
    forest = RandomForestClassifier(n_estimators=100, random_state=0).fit(x[:half], y[:half])
    return x, y, mlp, forest


@pytest.fixture(scope="module")
def digits():
    return _teachers(load_digits)


@pytest.fixture(scope="module")
def cancer():
    return _teachers(load_breast_cancer)


def _check(report: DistillationReport, teacher_parameters: int) -> None:
    """The goals: at most 1/20 of the teacher, 95% held-out agreement, float and fixed."""
    assert report.teacher_parameters == teacher_parameters
    assert report.parameter_ratio >= 20 and report.student_parameters * 20 <= teacher_parameters
    assert report.agreement >= 0.95, report
    assert report.fixed_agreement >= 0.95, report
    assert report.float_fixed_agreement >= 0.97, report


@pytest.mark.parametrize("dataset", ["digits", "cancer"])
def test_mlp_teacher_single_student(dataset, request) -> None:
    x, y, mlp, _ = request.getfixturevalue(dataset)
    model, report = distill(mlp, x, y=y, augment=2, max_epochs=200, seed=0)
    assert isinstance(model, kf.FixedNetwork) and model.format == "q8"
    _check(report, as_teacher(mlp).parameters)
    # the student runs on raw inputs: its own agreement with the teacher on all of them
    agree = np.mean(model.run(x).argmax(1) == mlp.predict_proba(x).argmax(1))
    assert agree >= 0.95


@pytest.mark.parametrize("dataset", ["digits", "cancer"])
def test_forest_teacher(dataset, request) -> None:
    x, y, _, forest = request.getfixturevalue(dataset)
    # a forest's probabilities are flat: sharpen them (temperature below one)
    _, report = distill(forest, x, y=y, augment=2, temperature=0.5, max_epochs=200, seed=0)
    _check(report, as_teacher(forest).parameters)


def test_domain_experts_and_router(digits) -> None:
    x, y, mlp, _ = digits
    model, report = distill(mlp, x, y=y, n_experts=6, top_k=3, augment=2, max_epochs=200, seed=0)
    assert isinstance(model, kf.MixtureOfExperts) and len(model.experts) == 6
    assert model.domains == kf.mixture.DEFAULT_DOMAINS
    assert all(isinstance(e, kf.FixedNetwork) and e.format == "q8" for e in model.experts)
    _check(report, as_teacher(mlp).parameters)
    assert sum(report.router_load) == report.held_out * 3
    assert report.n_experts == 6 and report.top_k == 3
    assert {h.expert for h in report.history} == set(range(6))


def test_domains_from_labels(cancer) -> None:
    x, y, mlp, _ = cancer
    labels = (x[:, 0] > np.median(x[:, 0])).astype(np.int64)  # two domains: small and large tumours
    model, report = distill(mlp, x, n_experts=2, labels=labels, top_k=1, hidden=8, precision="q16",
                            domains=["small", "large"], max_epochs=150)
    assert model.domains == ("small", "large")
    assert report.precision == "q16" and report.agreement >= 0.93
    # top-1 routing follows the labels the router was fitted to
    chosen, _ = model.router.route(x)
    assert np.mean(chosen[:, 0] == labels) >= 0.9


def test_report_is_complete_and_valid(cancer) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    x, y, mlp, _ = cancer
    model, report = distill(mlp, x, y=y, hidden=6, max_epochs=60)
    jsonschema.validate(report.to_dict(), report_schema())
    assert report.teacher.startswith("sklearn Pipeline")
    assert 0 < report.held_out < len(x) and report.held_out == pytest.approx(0.2 * len(x), abs=1)
    assert report.latency_us > 0 and report.throughput > 0 and report.file_bytes > 0
    assert report.float_bytes == 4 * report.student_parameters == 4 * ((30 + 1) * 6 + (6 + 1) * 2)
    assert report.analysis is not None and report.analysis.layers[0].sqnr_db is not None
    assert report.history and report.history[0].epoch == 1
    assert 0.5 <= report.student_accuracy <= 1 and report.teacher_accuracy >= 0.9


def test_same_seed_same_student(cancer) -> None:
    x, y, mlp, _ = cancer
    a, _ = distill(mlp, x, hidden=4, precision="float", max_epochs=30, seed=3)
    b, _ = distill(mlp, x, hidden=4, precision="float", max_epochs=30, seed=3)
    c, _ = distill(mlp, x, hidden=4, precision="float", max_epochs=30, seed=4)
    assert np.array_equal(a.weights, b.weights) and not np.array_equal(a.weights, c.weights)


def test_regression_teacher() -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, (1500, 3))
    y = 50 + 20 * np.sin(x[:, 0]) * x[:, 1] + 5 * x[:, 2]  # far from FANN's [-1, 1]
    teacher = MLPRegressor(hidden_layer_sizes=(64, 64), max_iter=300, random_state=0).fit(x, y)
    model, report = distill(teacher, x, hidden=16, precision="float", max_epochs=300)
    assert report.task == "regression" and model.num_output == 1
    error = np.abs(model.run(x)[:, 0] - teacher.predict(x))
    assert np.median(error) < 0.05 * np.ptp(y)
    assert report.agreement >= 0.8  # share of held-out outputs within 5% of the teacher's range


def test_numpy_callable_and_kimi_fann_teachers() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(800, 5))
    w = rng.normal(size=(5, 4))
    with pytest.raises(ConfigError, match="hidden="):
        distill(lambda v: v @ w, x)  # a callable's size is unknown: the student's must be given
    _, report = distill(lambda v: v @ w, x, hidden=8, max_epochs=150)
    assert report.teacher == "callable" and report.teacher_parameters is None and report.agreement >= 0.9

    big = kf.Network([5, 64, 64, 4], seed=0)
    big.train(kf.TrainingData(x, np.eye(4)[(x @ w).argmax(1)]), max_epochs=50, target_error=0)
    model, report = distill(big, x, hidden=4, max_epochs=150)
    assert report.teacher_parameters == big.total_connections
    assert report.teacher.startswith("kimi-fann Network 5-64-64-4") and report.agreement >= 0.9


def test_torch_teacher() -> None:
    torch = pytest.importorskip("torch")
    x, y = load_digits(return_X_y=True)
    torch.manual_seed(0)
    teacher = torch.nn.Sequential(torch.nn.Linear(64, 256), torch.nn.ReLU(), torch.nn.Linear(256, 256),
                                  torch.nn.ReLU(), torch.nn.Linear(256, 10))
    xt, yt = torch.tensor(x / 16, dtype=torch.float32), torch.tensor(y)
    optimizer = torch.optim.Adam(teacher.parameters(), lr=1e-3)
    for _ in range(300):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(teacher(xt), yt).backward()
        optimizer.step()
    model, report = distill(teacher, x / 16, y=y, augment=2, max_epochs=200)
    assert report.teacher == "torch Sequential"
    _check(report, sum(p.numel() for p in teacher.parameters()))


def test_onnx_teacher(tmp_path, digits) -> None:
    pytest.importorskip("onnxruntime")
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    x, y, _, _ = digits
    mlp = MLPClassifier(hidden_layer_sizes=(256, 256), max_iter=300, random_state=0).fit(x / 16, y)
    nodes, inits, name = [], [], "input"
    for i, (w, b) in enumerate(zip(mlp.coefs_, mlp.intercepts_)):
        inits += [numpy_helper.from_array(w.astype(np.float32), f"w{i}"), numpy_helper.from_array(b.astype(np.float32), f"b{i}")]
        nodes += [helper.make_node("MatMul", [name, f"w{i}"], [f"m{i}"]), helper.make_node("Add", [f"m{i}", f"b{i}"], [f"a{i}"])]
        name = f"a{i}"
        if i < len(mlp.coefs_) - 1:
            nodes.append(helper.make_node("Relu", [name], [f"r{i}"]))
            name = f"r{i}"
    nodes.append(helper.make_node("Softmax", [name], ["probabilities"], axis=1))
    graph = helper.make_graph(nodes, "teacher", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, 64])],
                              [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, 10])], inits)
    path = tmp_path / "teacher.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    model, report = distill(str(path), x / 16, y=y, augment=2, max_epochs=200)
    assert report.teacher == "onnx teacher.onnx"
    _check(report, sum(w.size + b.size for w, b in zip(mlp.coefs_, mlp.intercepts_)))


def test_folding_the_input_scaling_is_exact() -> None:
    rng = np.random.default_rng(2)
    x = np.column_stack([rng.uniform(0, 16, 300), rng.normal(1000, 3, 300), np.full(300, 7.0)])
    a, b = _input_scaling(x)
    assert a[2] == 0 and b[2] == 0  # a constant column is ignored
    net = kf.Network([3, 5, 2], seed=0)
    scaled = net.run((x * a + b).astype(np.float32))
    _fold_input_scaling(net, a, b)
    np.testing.assert_allclose(net.run(x), scaled, atol=2e-5)


def test_bad_arguments() -> None:
    x = np.random.default_rng(0).normal(size=(100, 3))
    teacher = lambda v: v[:, :2]  # noqa: E731
    with pytest.raises(ConfigError):
        distill(teacher, x, hidden=4, precision="q4")
    with pytest.raises(ConfigError):
        distill(teacher, x, hidden=4, held_out=1.5)
    with pytest.raises(ConfigError):
        distill(teacher, x, hidden=4, n_experts=2, top_k=3)
    with pytest.raises(ConfigError):
        distill(object(), x, hidden=4)
    with pytest.raises(ShapeError):
        distill(teacher, x, hidden=4, y=np.zeros(5))
    with pytest.raises(ShapeError):
        distill(teacher, x, hidden=4, n_experts=2, labels=np.full(100, 2))
    with pytest.raises(ShapeError, match="teacher returned"):
        distill(lambda v: v[:5], x, hidden=4)
    bad = x.copy()
    bad[3, 1] = np.nan
    with pytest.raises(NumericError):
        distill(teacher, bad, hidden=4)
    with pytest.raises(ConfigError, match="room"):
        distill(MLPClassifier(hidden_layer_sizes=(2,), max_iter=5).fit(x, x[:, 0] > 0), x, n_experts=4)


@pytest.mark.parametrize("kwargs, message", [
    (dict(n_experts=0), "n_experts must be an integer >= 1, got 0"),
    (dict(augment=-1), "augment must be an integer >= 0, got -1"),
    (dict(cluster_on="labels"), "cluster_on must be 'outputs' or 'inputs', got 'labels'"),
    (dict(size_ratio=0.5), "size_ratio must be a finite number >= 1.0, got 0.5"),
    (dict(temperature=float("nan")), "temperature must be a finite number >= 0.001, got nan"),
    (dict(noise=-1.0), "noise must be a finite number >= 0, got -1.0"),
    (dict(hidden=[4, 0]), r"hidden must be a positive integer or a sequence of them, got \[4, 0\]"),
])
def test_each_bad_option_is_named(kwargs: dict, message: str) -> None:
    x = np.random.default_rng(0).normal(size=(100, 3))
    with pytest.raises(ConfigError, match=message):
        distill(lambda v: v[:, :2], x, **{"hidden": 4, **kwargs})


def test_too_few_inputs() -> None:
    with pytest.raises(ShapeError, match="distillation needs at least 20 inputs, got 10"):
        distill(lambda v: v[:, :2], np.zeros((10, 3)), hidden=4)


@pytest.mark.parametrize("kind", ["probability", "logit"])
def test_one_output_teachers_are_two_class_classifiers(kind: str) -> None:
    """A classifier with one output (a probability, or a logit outside [0, 1]) teaches two classes."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(600, 3))
    w = np.array([1.5, -2.0, 0.5])
    teacher = (lambda v: 1.0 / (1.0 + np.exp(-(v @ w)))) if kind == "probability" else (lambda v: 3.0 * (v @ w))
    model, report = distill(teacher, x, task="classification", hidden=4, precision="float", max_epochs=100)
    assert report.task == "classification" and model.num_output == 2
    assert np.mean(model.run(x).argmax(1) == (x @ w > 0)) > 0.9


def test_augmented_domain_experts_and_a_progress_bar(capsys) -> None:
    """Given domains are kept for the noisy copies of their inputs; progress=True draws a bar."""
    pytest.importorskip("tqdm")
    rng = np.random.default_rng(6)
    x = rng.normal(size=(300, 2))
    labels = (x[:, 0] > 0).astype(int)
    model, report = distill(lambda v: np.column_stack([v[:, 0] + v[:, 1], v[:, 0] - v[:, 1]]), x, n_experts=2,
                            labels=labels, top_k=1, augment=1, hidden=4, precision="float", max_epochs=20,
                            progress=True)
    assert report.n_experts == 2 and len(model.experts) == 2
    assert "distilling" in capsys.readouterr().err
