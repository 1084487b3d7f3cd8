"""as_teacher: what each kind of teacher becomes (its outputs, size and name), and the reason it
gives when a teacher cannot serve. Distillation itself is tested in test_distill.py."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import kimi_fann as kf
from kimi_fann.analyzer import as_teacher
from kimi_fann.errors import ConfigError, ShapeError

X = np.random.default_rng(0).uniform(-1, 1, (6, 3)).astype(np.float32)


def test_task_must_be_known() -> None:
    with pytest.raises(ConfigError, match="task must be 'classification' or 'regression', got 'ranking'"):
        as_teacher(lambda x: x, task="ranking")


def test_callable_outputs_are_checked() -> None:
    flat = as_teacher(lambda x: x[:, 0])
    assert flat.predict(X).shape == (6, 1)  # one output per row becomes a column
    with pytest.raises(ShapeError, match=r"the teacher returned shape \(3, 3\) for 6 inputs; expected \(n, outputs\)"):
        as_teacher(lambda x: x[:3]).predict(X)
    with pytest.raises(ShapeError, match="the teacher returned NaN or infinite outputs"):
        as_teacher(lambda x: np.where(x > 0.9, np.inf, x)).predict(np.full((2, 3), 1.0, np.float32))


@pytest.mark.parametrize("output, kind", [("sigmoid_symmetric", "probabilities"), ("elliot", "probabilities"),
                                          ("linear", "auto")])
def test_network_teachers_by_output_activation(output: str, kind: str) -> None:
    net = kf.Network([3, 5, 2], output=output, seed=1)
    teacher = as_teacher(net)
    assert teacher.outputs == kind and teacher.parameters == net.total_connections
    assert teacher.description == "kimi-fann Network 3-5-2"
    expected = (net.run(X) + 1.0) / 2.0 if output == "sigmoid_symmetric" else net.run(X)  # [-1, 1] -> [0, 1]
    np.testing.assert_allclose(teacher.predict(X), expected, rtol=1e-6)
    regression = as_teacher(net, task="regression")
    assert regression.outputs == "values"
    np.testing.assert_allclose(regression.predict(X), net.run(X), rtol=1e-6)


def test_mixture_teacher_counts_its_float_experts_and_gates() -> None:
    rng = np.random.default_rng(2)
    experts = [kf.Network([3, 4, 2], output="linear", seed=s) for s in range(3)]
    moe = kf.MixtureOfExperts(kf.Router(rng.normal(size=(3, 3)), top_k=2), experts)
    teacher = as_teacher(moe)
    assert teacher.description == "kimi-fann MixtureOfExperts of 3" and teacher.outputs == "auto"
    assert teacher.parameters == 3 * (4 * 4 + 5 * 2) + 3 * 3
    np.testing.assert_allclose(teacher.predict(X), moe.run(X), rtol=1e-6)


def test_sklearn_teachers_sizes_and_refusals() -> None:
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler

    y = (X[:, 0] > 0).astype(int)
    y[:2] = [0, 1]
    logistic = LogisticRegression().fit(X, y)
    teacher = as_teacher(logistic)
    assert teacher.outputs == "probabilities" and teacher.parameters == 3 + 1
    np.testing.assert_allclose(teacher.predict(X), logistic.predict_proba(X))
    pipeline = make_pipeline(MinMaxScaler(), LinearRegression()).fit(X, X[:, 1])
    teacher = as_teacher(pipeline)
    assert teacher.description == "sklearn Pipeline(MinMaxScaler, LinearRegression)"
    assert teacher.outputs == "values" and teacher.parameters == (3 + 3) + (3 + 1)
    with pytest.raises(ConfigError, match="the scikit-learn teacher LogisticRegression is not fitted"):
        as_teacher(LogisticRegression())
    narrow = LinearRegression().fit(X[:, :2], X[:, 0])
    narrow.n_features_in_ = 3  # claims three features, has weights for two
    with pytest.raises(ConfigError, match="the scikit-learn teacher LinearRegression cannot predict"):
        as_teacher(narrow)


def test_torch_objects_that_are_not_modules_are_refused() -> None:
    torch = pytest.importorskip("torch")
    with pytest.raises(ConfigError, match="expected a torch.nn.Module, got Tensor"):
        as_teacher(torch.zeros(3))


def _onnx_model(output_type: int) -> bytes:
    pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    weight = numpy_helper.from_array(np.ones((3, 2), np.float32), "w")
    nodes = [helper.make_node("MatMul", ["x", "w"], ["y"])]
    if output_type != TensorProto.FLOAT:
        nodes.append(helper.make_node("Cast", ["y"], ["z"], to=output_type))
    out = "y" if output_type == TensorProto.FLOAT else "z"
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 3])],
                              [helper.make_tensor_value_info(out, output_type, [None, 2])], [weight])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


def test_onnx_teachers_from_bytes_and_their_refusals(tmp_path, monkeypatch) -> None:
    pytest.importorskip("onnxruntime")
    from onnx import TensorProto

    model = _onnx_model(TensorProto.FLOAT)
    teacher = as_teacher(model)
    assert teacher.description == "onnx model" and teacher.parameters == 6 and teacher.outputs == "auto"
    np.testing.assert_allclose(teacher.predict(X), X @ np.ones((3, 2)), rtol=1e-6)
    with pytest.raises(ConfigError, match="the ONNX teacher has no float tensor output"):
        as_teacher(_onnx_model(TensorProto.INT64))
    missing = tmp_path / "missing.onnx"
    with pytest.raises(ConfigError, match=f"onnxruntime cannot load the teacher {missing}"):
        as_teacher(str(missing))
    with pytest.raises(ConfigError, match="onnxruntime cannot load the teacher <bytes>"):
        as_teacher(b"not a model")
    # without the onnx package the model still runs; only its size is unknown
    monkeypatch.setitem(sys.modules, "onnx", None)
    teacher = as_teacher(model)
    assert teacher.parameters is None and teacher.predict(X).shape == (6, 2)
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(ImportError, match="an ONNX teacher needs onnxruntime: pip install onnxruntime"):
        as_teacher(model)
