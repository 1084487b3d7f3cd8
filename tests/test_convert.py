"""Import from torch, scikit-learn and safetensors; export to ONNX (kimi_fann.analyzer.convert).

Each imported network is checked against the source model's own forward pass, each ONNX export
against ``Network.run`` in onnxruntime. Frameworks that are not installed skip their tests.
"""

from __future__ import annotations

import doctest
import json
import re
import sys
import tracemalloc
import warnings
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import kimi_fann as kf
from kimi_fann.analyzer import convert, from_safetensors, from_sklearn, from_torch, to_onnx
from kimi_fann.errors import ConfigError, FileError, FormatError


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> np.random.Generator:
    """A generator seeded by the test's name: each test sees the same data however it is run."""
    return np.random.default_rng(zlib.crc32(request.node.name.encode()))


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def mlp_forward(x: np.ndarray, layers: list[tuple[np.ndarray, np.ndarray, Any]]) -> np.ndarray:
    """A float64 reference forward pass: layers of (weight (out, in), bias, activation)."""
    h = x.astype(np.float64)
    for w, b, f in layers:
        h = f(h @ w.astype(np.float64).T + b.astype(np.float64))
    return h


RELU = lambda z: np.maximum(z, 0)  # noqa: E731
LINEAR = lambda z: z  # noqa: E731
TANH = np.tanh
SIGMOID = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731


def test_module_docstring_examples_run() -> None:
    """The module's examples (torch and onnx lines are marked +SKIP; from_sklearn's example
    needs scikit-learn)."""
    try:
        import sklearn  # noqa: F401

        has_sklearn = True
    except ImportError:
        has_sklearn = False
    finder, runner = doctest.DocTestFinder(), doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    tests = [t for t in finder.find(convert) if t.examples]
    assert {t.name.rsplit(".", 1)[-1] for t in tests} >= {"convert", "from_sklearn", "from_safetensors", "to_onnx"}
    for test in tests:
        if test.name.endswith(".from_sklearn") and not has_sklearn:
            continue
        runner.run(test)
    assert runner.failures == 0
    assert runner.tries >= (15 if has_sklearn else 8)


# ---------------------------------------------------------------------------------------------
# torch


@pytest.fixture
def torch() -> Any:
    return pytest.importorskip("torch")


@pytest.mark.parametrize("activation", ["ReLU", "Tanh", "Sigmoid", "LeakyReLU", "Identity", None])
def test_from_torch_matches_forward(rng: np.random.Generator, torch: Any, activation: str | None) -> None:
    nn = torch.nn
    torch.manual_seed(1)
    hidden = [] if activation is None else [getattr(nn, activation)()]
    model = nn.Sequential(nn.Linear(6, 9), *hidden, nn.Linear(9, 5), nn.Tanh(), nn.Linear(5, 3)).eval()
    net = from_torch(model)
    assert net.layers == (6, 9, 5, 3)
    expected = {"ReLU": "relu", "Tanh": "sigmoid_symmetric", "Sigmoid": "sigmoid", "LeakyReLU": "leaky_relu"}
    assert net.get_activation(1, 0)[0] == expected.get(activation or "", "linear")
    x = rng.normal(size=(64, 6)).astype(np.float32) * 2
    with torch.no_grad():
        reference = model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(net.run(x), reference, atol=1e-5, rtol=0)


def test_from_torch_skips_dropout_flattens_nesting_and_drops_final_softmax(rng: np.random.Generator, torch: Any) -> None:
    nn = torch.nn
    torch.manual_seed(2)
    body = nn.Sequential(
        nn.Linear(4, 8, bias=False),
        nn.Sigmoid(),
        nn.Dropout(0.5),
        nn.Sequential(nn.Linear(8, 8), nn.LeakyReLU(0.01), nn.Identity()),
        nn.Linear(8, 3),
    )
    model = nn.Sequential(body, nn.Softmax(dim=-1)).eval()
    net = from_torch(model)
    assert net.layers == (4, 8, 8, 3)
    assert net.get_activation(1, 0) == ("sigmoid", 0.5)
    assert net.get_activation(3, 2) == ("linear", 1.0)
    x = rng.normal(size=(40, 4)).astype(np.float32)
    with torch.no_grad():
        logits = body(torch.from_numpy(x)).numpy()
        probabilities = model(torch.from_numpy(x)).numpy()
    y = net.run(x)
    np.testing.assert_allclose(y, logits, atol=1e-5, rtol=0)  # outputs are the logits
    np.testing.assert_array_equal(y.argmax(axis=1), probabilities.argmax(axis=1))
    np.testing.assert_allclose(softmax(y.astype(np.float64)), probabilities, atol=1e-5)
    # no bias: the first layer's bias weights are zero
    assert np.all(net.weights[:40].reshape(8, 5)[:, 4] == 0)


def test_from_torch_final_log_softmax_gives_logits(rng: np.random.Generator, torch: Any) -> None:
    nn = torch.nn
    torch.manual_seed(7)
    model = nn.Sequential(nn.Linear(5, 6), nn.ReLU(), nn.Linear(6, 4), nn.LogSoftmax(dim=1)).eval()
    x = rng.normal(size=(30, 5)).astype(np.float32)
    with torch.no_grad():
        log_probabilities = model(torch.from_numpy(x)).numpy()
    y = from_torch(model).run(x).astype(np.float64)
    np.testing.assert_allclose(np.log(softmax(y)), log_probabilities, atol=1e-5)


def test_from_torch_float64_module(rng: np.random.Generator, torch: Any) -> None:
    nn = torch.nn
    torch.manual_seed(3)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)).double().eval()
    net = from_torch(model)
    x = rng.normal(size=(16, 3))
    with torch.no_grad():
        reference = model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(net.run(x), reference, atol=1e-5, rtol=0)


@pytest.mark.parametrize(
    "build, fragment",
    [
        (lambda nn: nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2)), "1 (BatchNorm1d)"),
        (lambda nn: nn.Sequential(nn.Conv1d(1, 2, 3)), "0 (Conv1d)"),
        (lambda nn: nn.Sequential(nn.Linear(3, 4), nn.GELU()), "1 (GELU)"),
        (lambda nn: nn.Sequential(nn.Linear(3, 4), nn.LeakyReLU(0.2)), "negative_slope 0.2"),
        (lambda nn: nn.Sequential(nn.Linear(3, 4), nn.Softmax(dim=1), nn.Linear(4, 2)), "1 (Softmax)"),
        (lambda nn: nn.Sequential(nn.Linear(3, 4), nn.Softmax(dim=0)), "1 (Softmax)"),
        (lambda nn: nn.Sequential(nn.ReLU(), nn.Linear(3, 4)), "0 (ReLU) comes first"),
        (lambda nn: nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Tanh()), "2 (Tanh) follows another activation"),
        (lambda nn: nn.Sequential(nn.Linear(3, 4), nn.Linear(5, 2)), "takes 5 inputs"),
        (lambda nn: nn.Sequential(nn.Sequential(nn.Linear(3, 4), nn.Flatten())), "0.1 (Flatten)"),
        (lambda nn: nn.Sequential(nn.Dropout(0.1)), "no nn.Linear"),
        (lambda nn: nn.Linear(3, 4), "torch.nn.Sequential"),
    ],
)
def test_from_torch_rejects_what_fann_cannot_compute(torch: Any, build: Any, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        from_torch(build(torch.nn))
    assert fragment in str(info.value)


def test_from_torch_without_torch_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError, match="pip install"):
        from_torch(object())


# ---------------------------------------------------------------------------------------------
# scikit-learn


def fitted(estimator: Any, x: np.ndarray, y: np.ndarray) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: a short fit is all these tests need
        return estimator.fit(x, y)


@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
def test_from_sklearn_multiclass_gives_logits(rng: np.random.Generator, activation: str) -> None:
    neural = pytest.importorskip("sklearn.neural_network")
    x = rng.normal(size=(150, 5))
    y = np.argmax(x[:, :4] + 0.3 * x[:, 4:], axis=1)
    clf = fitted(neural.MLPClassifier(hidden_layer_sizes=(7, 6), activation=activation, max_iter=60, random_state=0), x, y)
    net = from_sklearn(clf)
    assert net.layers == (5, 7, 6, 4)
    assert net.get_activation("output", 0) == ("linear", 1.0)
    logits = net.run(x).astype(np.float64)
    np.testing.assert_allclose(softmax(logits), clf.predict_proba(x), atol=1e-5)
    np.testing.assert_array_equal(clf.classes_[logits.argmax(axis=1)], clf.predict(x))


def test_from_sklearn_binary_classifier_outputs_probability(rng: np.random.Generator) -> None:
    neural = pytest.importorskip("sklearn.neural_network")
    x = rng.normal(size=(120, 3))
    y = (x[:, 0] * x[:, 1] > 0).astype(int)
    clf = fitted(neural.MLPClassifier(hidden_layer_sizes=(8,), activation="tanh", max_iter=80, random_state=1), x, y)
    net = from_sklearn(clf)
    assert net.get_activation("output", 0) == ("sigmoid", 0.5)
    np.testing.assert_allclose(net.run(x)[:, 0], clf.predict_proba(x)[:, 1], atol=1e-5)


def test_from_sklearn_regressor_matches_predict(rng: np.random.Generator) -> None:
    neural = pytest.importorskip("sklearn.neural_network")
    x = rng.normal(size=(100, 4))
    y = np.column_stack([np.sin(x[:, 0]) + x[:, 1], x[:, 2] * x[:, 3]])
    reg = fitted(neural.MLPRegressor(hidden_layer_sizes=(10, 5), activation="relu", max_iter=100, random_state=2), x, y)
    net = from_sklearn(reg)
    assert net.layers == (4, 10, 5, 2)
    np.testing.assert_allclose(net.run(x), reg.predict(x), atol=1e-5)


def test_from_sklearn_rejects_unfitted_and_other_estimators(rng: np.random.Generator) -> None:
    neural = pytest.importorskip("sklearn.neural_network")
    linear = pytest.importorskip("sklearn.linear_model")
    with pytest.raises(ConfigError, match="not fitted"):
        from_sklearn(neural.MLPRegressor())
    with pytest.raises(ConfigError, match="LogisticRegression"):
        from_sklearn(linear.LogisticRegression())
    with pytest.raises(ConfigError, match="dict"):
        from_sklearn({"coefs_": []})
    reg = fitted(neural.MLPRegressor(hidden_layer_sizes=(3,), max_iter=5, random_state=0),
                 rng.normal(size=(20, 2)), rng.normal(size=20))
    reg.activation = "softplus"
    with pytest.raises(ConfigError, match="softplus"):
        from_sklearn(reg)


# ---------------------------------------------------------------------------------------------
# safetensors


def st_bytes(tensors: dict[str, Any], *, metadata: dict[str, str] | None = None) -> bytes:
    """A safetensors file written by hand: name -> array (little-endian F32/F16/F64) or
    (dtype string, shape, raw bytes)."""
    header: dict[str, Any] = {} if metadata is None else {"__metadata__": metadata}
    blobs = []
    offset = 0
    for name, value in tensors.items():
        if isinstance(value, tuple):
            dtype, shape, raw = value
        else:
            dtype = {"float32": "F32", "float16": "F16", "float64": "F64"}[value.dtype.name]
            shape, raw = list(value.shape), value.astype(value.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    head = json.dumps(header).encode()
    head += b" " * (-len(head) % 8)  # the format pads the header to 8 bytes
    return len(head).to_bytes(8, "little") + head + b"".join(blobs)


def bf16(values: np.ndarray) -> tuple[bytes, np.ndarray]:
    """bfloat16 bytes of values (round to nearest even) and the float32 values they hold."""
    bits = np.ascontiguousarray(values, dtype=np.float32).view(np.uint32).astype(np.uint64)
    top = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)
    return top.astype("<u2").tobytes(), (top.astype(np.uint32) << 16).view(np.float32)


def random_mlp(rng: np.random.Generator, sizes: list[int], dtype: Any = np.float32) -> list[tuple[np.ndarray, np.ndarray]]:
    return [
        (rng.normal(size=(o, i)).astype(dtype), rng.normal(size=o).astype(dtype))
        for i, o in zip(sizes[:-1], sizes[1:])
    ]


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.float64])
def test_safetensors_written_by_the_safetensors_package(rng: np.random.Generator, tmp_path: Path, dtype: Any) -> None:
    st = pytest.importorskip("safetensors.numpy")
    layers = random_mlp(rng, [5, 8, 6, 2], dtype)
    tensors = {}
    for k, (w, b) in enumerate(layers):
        tensors[f"{2 * k}.weight"], tensors[f"{2 * k}.bias"] = w, b
    path = tmp_path / "mlp.safetensors"
    st.save_file(tensors, str(path), metadata={"format": "pt"})
    net = from_safetensors(path, activations=("tanh", "sigmoid"))
    assert net.layers == (5, 8, 6, 2)
    assert [net.get_activation(layer, 0) for layer in (1, 2, 3)] == [
        ("sigmoid_symmetric", 1.0), ("sigmoid_symmetric", 1.0), ("sigmoid", 0.5)
    ]
    x = rng.normal(size=(30, 5)).astype(np.float32)
    f32 = [(w.astype(np.float32), b.astype(np.float32)) for w, b in layers]
    expected = mlp_forward(x, [(w, b, f) for (w, b), f in zip(f32, [TANH, TANH, SIGMOID])])
    np.testing.assert_allclose(net.run(x), expected, atol=1e-5)


def test_safetensors_from_a_torch_state_dict_in_bfloat16(rng: np.random.Generator, tmp_path: Path, torch: Any) -> None:
    st = pytest.importorskip("safetensors.torch")
    nn = torch.nn
    torch.manual_seed(4)
    model = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 6), nn.ReLU(), nn.Linear(6, 3)).eval()
    model = model.to(torch.bfloat16)
    path = tmp_path / "model.safetensors"
    st.save_file(model.state_dict(), str(path))
    assert json.loads(path.read_bytes()[8 : 8 + int.from_bytes(path.read_bytes()[:8], "little")])["0.weight"]["dtype"] == "BF16"
    net = from_safetensors(path, activations=["relu", "linear"])
    x = rng.normal(size=(25, 4)).astype(np.float32)
    with torch.no_grad():
        reference = model.float()(torch.from_numpy(x)).numpy()  # bf16 weights, float32 arithmetic
    np.testing.assert_allclose(net.run(x), reference, atol=1e-5, rtol=0)


def test_safetensors_by_hand_prefixes_missing_bias_bf16_and_other_tensors(rng: np.random.Generator, tmp_path: Path) -> None:
    (w0, b0), (w1, b1), (w2, _) = random_mlp(rng, [3, 5, 4, 2])
    raw, w1_bf = bf16(w1)
    path = tmp_path / "fc.safetensors"
    path.write_bytes(
        st_bytes(
            {
                "embedding.weight": np.zeros((7, 3), np.float32),  # ignored: not a numbered layer
                "fc10.weight": w2,  # index 10 comes after 2 (numeric order, not text order)
                "fc1.weight": w0.astype(np.float16),
                "fc1.bias": b0,
                "fc2.weight": ("BF16", list(w1.shape), raw),
                "fc2.bias": b1.astype(np.float64),
                "position": ("I64", [2], b"\0" * 16),  # ignored, unsupported dtype is fine here
            },
            metadata={"source": "test"},
        )
    )
    net = from_safetensors(path, activations=["leaky_relu", ("elliot_symmetric", 0.25), "linear"])
    assert net.layers == (3, 5, 4, 2)
    assert net.get_activation(2, 3) == ("elliot_symmetric", 0.25)
    x = rng.normal(size=(20, 3)).astype(np.float32)
    leaky = lambda z: np.where(z > 0, z, 0.01 * z)  # noqa: E731
    elliot = lambda z: 0.25 * z / (1 + np.abs(0.25 * z))  # noqa: E731
    expected = mlp_forward(
        x,
        [
            (w0.astype(np.float16).astype(np.float32), b0, leaky),
            (w1_bf, b1, elliot),
            (w2, np.zeros(2), LINEAR),
        ],
    )
    np.testing.assert_allclose(net.run(x), expected, atol=1e-5)


def test_safetensors_prefix_choice_and_activation_errors(rng: np.random.Generator, tmp_path: Path) -> None:
    (w0, b0), (w1, b1) = random_mlp(rng, [2, 3, 1])
    path = tmp_path / "two.safetensors"
    path.write_bytes(st_bytes({"a.0.weight": w0, "a.0.bias": b0, "b.0.weight": w1, "b.0.bias": b1, "a.1.weight": w1}))
    with pytest.raises(ConfigError, match="prefix="):
        from_safetensors(path, activations="relu")
    net = from_safetensors(path, activations="relu", prefix="a.")
    assert net.layers == (2, 3, 1)
    single = from_safetensors(path, activations=["sigmoid"], prefix="b.")
    assert single.layers == (3, 1) and single.get_activation(1, 0) == ("sigmoid", 0.5)
    x = rng.normal(size=(5, 3)).astype(np.float32)
    np.testing.assert_allclose(single.run(x), SIGMOID(x @ w1.T + b1), atol=1e-6)
    with pytest.raises(FormatError, match="c.<index>"):
        from_safetensors(path, activations="relu", prefix="c.")
    with pytest.raises(ConfigError, match="2 layers"):
        from_safetensors(path, activations=["relu", "relu", "linear"], prefix="a.")
    with pytest.raises(ConfigError, match="softplus"):
        from_safetensors(path, activations=["softplus", "linear"], prefix="a.")
    with pytest.raises(ConfigError, match="steepness"):
        from_safetensors(path, activations=[("relu", "fast"), "linear"], prefix="a.")
    with pytest.raises(FileError, match="missing.safetensors"):
        from_safetensors(tmp_path / "missing.safetensors", activations="relu")


def hostile_files() -> dict[str, tuple[bytes, str]]:
    """name -> (file contents, fragment of the expected message)."""
    w = np.ones((2, 3), np.float32)
    good_head = json.dumps({"0.weight": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}}).encode()

    def head(obj: Any, data: bytes = w.tobytes()) -> bytes:
        raw = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
        return len(raw).to_bytes(8, "little") + raw + data

    def tensor(dtype: Any = "F32", shape: Any = (2, 3), offsets: Any = (0, 24)) -> dict[str, Any]:
        return {"dtype": dtype, "shape": list(shape) if isinstance(shape, tuple) else shape,
                "data_offsets": list(offsets) if isinstance(offsets, tuple) else offsets}  # fmt: skip

    return {
        "empty": (b"", "too short"),
        "short": (b"\x05\x00\x00", "too short"),
        "length beyond file": ((1000).to_bytes(8, "little") + good_head + w.tobytes(), "header length 1000"),
        "length 2**64-1": (b"\xff" * 8 + good_head, "header length"),
        "length zero": (b"\0" * 8 + good_head, "header length 0"),
        "not utf-8": (head(b"\xff\xfe{}"), "not valid JSON"),
        "not json": (head(b"{'0.weight': 1}"), "not valid JSON"),
        "deep nesting": (head(b"[" * 200000 + b"]" * 200000), "not valid JSON"),
        "json list": (head(b"[1, 2]"), "JSON object"),
        "duplicate key": (head(b'{"0.weight": ' + json.dumps(tensor()).encode() + b', "0.weight": '
                               + json.dumps(tensor()).encode() + b"}"), "duplicate"),  # fmt: skip
        "entry not object": (head({"0.weight": [1, 2]}), "expected an object"),
        "metadata not object": (head({"__metadata__": [1], "0.weight": tensor()}), "__metadata__"),
        "dtype not string": (head({"0.weight": tensor(dtype=4)}), "dtype must be a string"),
        "unsupported dtype": (head({"0.weight": tensor(dtype="I32")}), "dtype I32"),
        "negative shape": (head({"0.weight": tensor(shape=[-2, -3])}), "non-negative"),
        "boolean shape": (head({"0.weight": tensor(shape=[True, 3])}), "non-negative"),
        "offsets beyond data": (head({"0.weight": tensor(offsets=(0, 4096))}), "outside the 24 data bytes"),
        "offsets reversed": (head({"0.weight": tensor(offsets=(24, 0))}), "outside"),
        "offsets float": (head({"0.weight": tensor(offsets=[0.0, 24.0])}), "two integers"),
        "offsets negative": (head({"0.weight": tensor(offsets=(-24, 0))}), "outside"),
        "size mismatch": (head({"0.weight": tensor(shape=(3, 3))}), "needs 36 bytes"),
        "huge shape": (head({"0.weight": tensor(shape=[2**40, 2**40])}), "data_offsets give 24"),
        "absurd shape": (head({"0.weight": tensor(shape=[2**70])}), "non-negative"),
        "overlap": (
            head({"0.weight": tensor(shape=(1, 3), offsets=(0, 12)), "0.bias": tensor(shape=(3,), offsets=(8, 20))}),
            "overlap",
        ),
        "vector weight": (head({"0.weight": tensor(shape=(6,))}), "(out, in)"),
        "batchnorm": (
            head({"1.weight": tensor(shape=(3,), offsets=(0, 12)), "1.running_mean": tensor(shape=(3,), offsets=(12, 24))}),
            "not a Linear layer",
        ),
        "bias shape": (
            head({"0.weight": tensor(shape=(1, 3), offsets=(0, 12)), "0.bias": tensor(shape=(3,), offsets=(12, 24))}),
            "expected (1,)",
        ),
        "bias alone": (head({"0.bias": tensor(shape=(6,))}), "no layer weights"),
        "bias without weight": (
            head({"0.weight": tensor(shape=(1, 3), offsets=(0, 12)), "1.bias": tensor(shape=(3,), offsets=(12, 24))}),
            "bias but no weight",
        ),
        "layers do not chain": (
            head({"0.weight": tensor(shape=(1, 3), offsets=(0, 12)), "1.weight": tensor(shape=(1, 3), offsets=(12, 24))}),
            "takes 3 inputs",
        ),
        "no layers": (head({"embedding.weight": tensor()}), "no layer weights"),
        "nan weight": (head({"0.weight": tensor()}, np.array([1, 2, np.nan, 4, 5, 6], "<f4").tobytes()), "NaN"),
        "f64 beyond float32": (
            head({"0.weight": tensor(dtype="F64", shape=(1, 1), offsets=(0, 8))}, np.array([1e300]).tobytes()),
            "beyond float32",
        ),
    }


@pytest.mark.parametrize("case", sorted(hostile_files()))
def test_hostile_safetensors_raise_format_error(tmp_path: Path, case: str) -> None:
    contents, fragment = hostile_files()[case]
    path = tmp_path / "hostile.safetensors"
    path.write_bytes(contents)
    tracemalloc.start()
    try:
        with pytest.raises(FormatError) as info:
            from_safetensors(path, activations="linear")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    message = str(info.value)
    assert str(path) in message
    assert fragment in message
    assert peak < 32 * 1024 * 1024  # nothing near the sizes the header declares


def test_hostile_safetensors_truncated_everywhere_never_crash(tmp_path: Path) -> None:
    good = st_bytes({"0.weight": np.ones((3, 2), np.float32), "0.bias": np.zeros(3, np.float32)})
    path = tmp_path / "cut.safetensors"
    path.write_bytes(good)
    assert from_safetensors(path, activations="linear").layers == (2, 3)
    for cut in range(len(good)):
        path.write_bytes(good[:cut])
        with pytest.raises(FormatError, match="cut.safetensors"):
            from_safetensors(path, activations="linear")


# ---------------------------------------------------------------------------------------------
# ONNX


@pytest.fixture
def ort() -> Any:
    pytest.importorskip("onnx")
    return pytest.importorskip("onnxruntime")


def onnx_run(ort: Any, model: bytes, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    return session.run(["output"], {"input": np.ascontiguousarray(x, dtype=np.float32)})[0]


EXPORTABLE = [a for a in kf.ACTIVATIONS if a != "gaussian_stepwise"]


@pytest.mark.parametrize("kind", ["standard", "sparse", "shortcut"])
@pytest.mark.parametrize("hidden", EXPORTABLE)
def test_onnx_export_equals_run(rng: np.random.Generator, ort: Any, kind: str, hidden: str) -> None:
    net = kf.Network(
        [5, 7, 6, 3],
        hidden=hidden,
        output="sigmoid_symmetric",
        steepness=0.7,
        connection_rate=0.5 if kind == "sparse" else 1.0,
        shortcut=kind == "shortcut",
        seed=11,
    )
    net.randomize_weights(-1.5, 1.5, seed=5)
    x = rng.normal(size=(97, 5)).astype(np.float32) * 2
    y = onnx_run(ort, to_onnx(net), x)
    assert y.shape == (97, 3)
    np.testing.assert_allclose(y, net.run(x), atol=1e-5, rtol=0)


def test_onnx_export_mixed_per_neuron_activations_and_steepness(rng: np.random.Generator, ort: Any) -> None:
    net = kf.Network([4, 9, 5], hidden="relu", output="linear", steepness=1.0, seed=3)
    net.randomize_weights(-1, 1, seed=8)
    for neuron, (function, steepness) in enumerate(
        [("sigmoid", 0.5), ("elliot", 2.0), ("threshold_symmetric", 1.0), ("cos", 0.3), ("relu", -0.5),
         ("sigmoid_stepwise", 1.5), ("gaussian", 0.0), ("leaky_relu", 3.0)]  # fmt: skip
    ):
        net.set_activation(function, steepness=steepness, layer=1, neuron=neuron)
    net.set_activation("linear_piece", steepness=0.9, layer="output", neuron=2)
    x = rng.normal(size=(64, 4)).astype(np.float32) * 3
    np.testing.assert_allclose(onnx_run(ort, to_onnx(net), x), net.run(x), atol=1e-5, rtol=0)


def test_onnx_export_keeps_fanns_bound_on_large_sums(ort: Any) -> None:
    net = kf.Network([3, 4, 2], hidden="linear", output="linear", steepness=1.0, seed=0)
    net.set_activation(steepness=-2.0, layer="output", neuron=1)  # FANN's odd bound for s < 0
    net.weights = np.full(net.total_connections, 40.0)
    x = np.array([[1.0, 1.0, 1.0], [-1.0, -1.0, -1.0], [0.01, 0.02, 0.0]], dtype=np.float32)
    y = net.run(x)
    assert y[0, 0] == 150.0 and y[1, 0] == -150.0  # the bound is there, and exported
    np.testing.assert_allclose(onnx_run(ort, to_onnx(net), x), y, atol=1e-5, rtol=0)


def test_torch_to_fann_to_onnx_round_trip(rng: np.random.Generator, ort: Any, torch: Any) -> None:
    nn = torch.nn
    torch.manual_seed(6)
    model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 4), nn.Sigmoid()).eval()
    x = rng.normal(size=(50, 8)).astype(np.float32)
    with torch.no_grad():
        reference = model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(onnx_run(ort, to_onnx(from_torch(model)), x), reference, atol=1e-5, rtol=0)


@pytest.mark.parametrize("opset", [13, 17])
def test_onnx_file_names_dynamic_batch_and_atomic_write(rng: np.random.Generator, ort: Any, tmp_path: Path, opset: int) -> None:
    onnx = pytest.importorskip("onnx")
    net = kf.Network([3, 4, 2], hidden="sigmoid_symmetric", output="sigmoid", seed=2)
    path = tmp_path / "net.onnx"
    data = to_onnx(net, path, opset=opset)
    assert path.read_bytes() == data
    assert [p.name for p in tmp_path.iterdir()] == ["net.onnx"]  # no temporary file left
    model = onnx.load(str(path))
    assert model.opset_import[0].version == opset
    (inp,), (out,) = model.graph.input, model.graph.output
    assert (inp.name, out.name) == ("input", "output")
    assert [d.dim_param or d.dim_value for d in inp.type.tensor_type.shape.dim] == ["batch", 3]
    assert [d.dim_param or d.dim_value for d in out.type.tensor_type.shape.dim] == ["batch", 2]
    for rows in (1, 33):
        x = rng.normal(size=(rows, 3)).astype(np.float32)
        np.testing.assert_allclose(onnx_run(ort, data, x), net.run(x), atol=1e-5, rtol=0)


def test_onnx_export_rejects_what_it_cannot_express(ort: Any, tmp_path: Path) -> None:
    net = kf.Network([2, 3, 1], seed=0)
    net.set_activation("gaussian_stepwise", layer=1, neuron=2)
    with pytest.raises(ConfigError, match="gaussian_stepwise"):
        to_onnx(net, tmp_path / "x.onnx")
    assert not (tmp_path / "x.onnx").exists()
    with pytest.raises(ConfigError, match="opset"):
        to_onnx(kf.Network([2, 1]), opset=12)
    with pytest.raises(ConfigError, match="opset"):
        to_onnx(kf.Network([2, 1]), opset=10_000)
    fixed = kf.Network([2, 3, 1], seed=0).to_fixed()
    with pytest.raises(ConfigError, match="FixedNetwork"):
        to_onnx(fixed)  # type: ignore[arg-type]


def test_to_onnx_without_onnx_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportError, match="pip install"):
        to_onnx(kf.Network([2, 1]))


# ---- ONNX import ----

def test_from_onnx_gives_back_what_to_onnx_wrote(tmp_path) -> None:
    pytest.importorskip("onnx")
    from kimi_fann.analyzer import from_onnx, to_onnx

    for net in (kf.Network([5, 7, 3], seed=1), kf.Network([4, 6, 2], shortcut=True, seed=2),
                kf.Network([6, 9, 4], connection_rate=0.5, seed=3)):
        path = tmp_path / "n.onnx"
        to_onnx(net, path)
        assert from_onnx(path).to_fann_text() == net.to_fann_text()


def test_from_onnx_reads_a_plain_mlp_graph() -> None:
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from onnx import TensorProto, helper, numpy_helper

    from kimi_fann.analyzer import from_onnx

    rng = np.random.default_rng(0)
    w0, b0, w1, b1 = rng.normal(size=(6, 10)), rng.normal(size=10), rng.normal(size=(3, 10)), rng.normal(size=3)
    inits = [numpy_helper.from_array(a.astype(np.float32), n) for a, n in ((w0, "w0"), (b0, "b0"), (w1, "w1"), (b1, "b1"))]
    nodes = [helper.make_node("MatMul", ["x", "w0"], ["m"]), helper.make_node("Add", ["m", "b0"], ["a"]),
             helper.make_node("Tanh", ["a"], ["h"]), helper.make_node("Gemm", ["h", "w1", "b1"], ["z"], transB=1),
             helper.make_node("Softmax", ["z"], ["p"], axis=1)]
    graph = helper.make_graph(nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 6])],
                              [helper.make_tensor_value_info("p", TensorProto.FLOAT, [None, 3])], inits)
    blob = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()
    net = from_onnx(blob)
    x = rng.normal(size=(50, 6)).astype(np.float32)
    p = ort.InferenceSession(blob, providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    logits = net.run(x)
    softmax = np.exp(logits - logits.max(1, keepdims=True))
    np.testing.assert_allclose(softmax / softmax.sum(1, keepdims=True), p, atol=1e-5)

    nodes[2] = helper.make_node("Elu", ["a"], ["h"])
    graph = helper.make_graph(nodes, "mlp", graph.input, graph.output, inits)
    with pytest.raises(ConfigError, match="Elu"):
        from_onnx(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())
    with pytest.raises(FormatError):
        from_onnx(b"\x08\x07not an onnx model at all")


def _onnx_graph(nodes: list[Any], constants: dict[str, np.ndarray], inputs: int = 3) -> bytes:
    from onnx import TensorProto, helper, numpy_helper

    inits = [numpy_helper.from_array(v.astype(np.float32), k) for k, v in constants.items()]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, inputs])],
                              [helper.make_tensor_value_info(nodes[-1].output[0], TensorProto.FLOAT, None)], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


def test_from_onnx_names_what_it_cannot_import(tmp_path) -> None:
    pytest.importorskip("onnx")
    from onnx import helper

    from kimi_fann.analyzer import from_onnx

    w, b = np.ones((3, 2)), np.zeros(2)
    node = helper.make_node
    cases = [
        ([node("Gemm", ["x", "w", "b"], ["z"], alpha=2.0)], {"w": w, "b": b},
         "node 0 (Gemm): a Gemm must read the previous layer with constant weights, alpha = beta = 1"),
        ([node("MatMul", ["x", "x"], ["z"])], {},
         "node 0 (MatMul): a MatMul must read the previous layer with constant weights"),
        ([node("MatMul", ["x", "w"], ["m"]), node("Add", ["m", "x"], ["z"])], {"w": w},
         "node 1 (Add): the bias must be constant"),
        ([node("MatMul", ["x", "w"], ["m"]), node("LeakyRelu", ["m"], ["z"], alpha=0.2)], {"w": w},
         "node 1 (LeakyRelu): LeakyRelu is imported with alpha 0.01 only"),
        ([node("Relu", ["x"], ["z"])], {}, "node 0 (Relu): expected a MatMul or a Gemm"),
        ([node("Gemm", ["x", "w", "b"], ["z"], transB=1)], {"w": w.T, "b": np.zeros(5)},
         "node 1 (end): weights (2, 3) and bias (5,) do not make a layer"),
    ]
    for nodes, constants, message in cases:
        with pytest.raises(ConfigError, match=re.escape(f"<bytes>: {message}; only chains of MatMul+Add or Gemm")):
            from_onnx(_onnx_graph(nodes, constants))
    # a leaky relu of FANN's slope, and a Gemm on weights given as a Constant node
    leaky = from_onnx(_onnx_graph([node("Constant", [], ["w"], value=helper.make_tensor(
        "w", 1, [2, 3], np.ones(6).tolist())), node("Gemm", ["x", "w"], ["m"], transB=1),
        node("LeakyRelu", ["m"], ["z"], alpha=0.01)], {}))
    assert leaky.layers == (3, 2) and leaky.get_activation(1, 0)[0] == "leaky_relu"
    with pytest.raises(kf.errors.FileError, match="missing.onnx"):
        from_onnx(tmp_path / "missing.onnx")


def test_from_onnx_without_onnx_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from kimi_fann.analyzer import from_onnx

    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportError, match=r"ONNX import needs the onnx package: pip install 'kimi-fann\[onnx\]'"):
        from_onnx(b"")
