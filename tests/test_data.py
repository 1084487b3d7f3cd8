"""TrainingData: construction, FANN .data files, and FANN's operations."""

from __future__ import annotations

import numpy as np
import pytest

import kimi_fann as kf
from kimi_fann import errors

from fannsets import fann_dataset


def test_construction_converts_and_owns_its_arrays() -> None:
    x = np.arange(6, dtype=np.int64).reshape(3, 2)
    y = np.array([0.5, 1.5, 2.5])
    data = kf.TrainingData(x, y)
    assert data.inputs.dtype == np.float32 and data.inputs.flags.c_contiguous
    assert data.outputs.shape == (3, 1)
    x[0, 0] = 100
    assert data.inputs[0, 0] == 0
    f32 = np.ones((2, 2), dtype=np.float32)
    owned = kf.TrainingData(f32, [[1], [2]])
    f32[0, 0] = 5
    assert owned.inputs[0, 0] == 1


@pytest.mark.parametrize(
    "inputs, outputs, error",
    [
        ([[1, 2], [3, 4]], [[1]], errors.ShapeError),
        ([[[1]]], [[1]], errors.ShapeError),
        ([["a"]], [[1]], errors.ShapeError),
        ([[1, np.nan]], [[1]], errors.NumericError),
        ([[1, 2]], [[np.inf]], errors.NumericError),
        ([[1e39]], [[1]], errors.NumericError),  # finite in float64, infinite in float32
        (np.zeros((2, 0)), [[1], [2]], errors.ShapeError),
    ],
)
def test_bad_arrays_are_rejected(inputs: object, outputs: object, error: type) -> None:
    with pytest.raises(error):
        kf.TrainingData(inputs, outputs)


def test_file_round_trip_is_exact(tmp_path) -> None:
    rng = np.random.default_rng(1)
    data = kf.TrainingData(rng.normal(size=(20, 3)), rng.integers(0, 2, size=(20, 2)))
    data.inputs[0, 0] = -0.0
    path = tmp_path / "d.data"
    data.save(path)
    back = kf.TrainingData.load(path)
    assert back.inputs.tobytes() == data.inputs.tobytes()
    assert back.outputs.tobytes() == data.outputs.tobytes()
    assert path.read_text().splitlines()[0] == "20 3 2"


def test_reads_fann_benchmark_files() -> None:
    train, test = fann_dataset("thyroid")
    assert (len(train), train.num_input, train.num_output) == (3600, 21, 3)
    assert len(test) == 3600


@pytest.mark.parametrize(
    "text, line, fragment",
    [
        ("", 1, "number of pairs"),
        ("2 2 1\n1 1\n1\n0 0\n", 5, "output value"),
        ("1 2 1\n1 x\n1\n", 2, "input value"),
        ("1 1 1\n1\n1 2\n", 3, "unexpected text"),
        ("1 0 1\n\n1\n", 1, "at least 1"),
        ("99999999 99999 99999\n1\n", 1, "more than the remaining"),
        ("1 1 1\n1e50\n1\n", 2, "not a finite"),
    ],
)
def test_malformed_files_name_file_and_line(tmp_path, text: str, line: int, fragment: str) -> None:
    path = tmp_path / "bad.data"
    path.write_text(text)
    with pytest.raises(errors.FormatError) as info:
        kf.TrainingData.load(path)
    message = str(info.value)
    assert str(path) in message
    assert f"line {line}:" in message
    assert fragment in message


def test_missing_file_is_a_file_error(tmp_path) -> None:
    with pytest.raises(errors.FileError, match="cannot read"):
        kf.TrainingData.load(tmp_path / "absent.data")
    with pytest.raises(OSError):
        kf.TrainingData.load(tmp_path / "absent.data")


def test_shuffle_is_seeded_and_keeps_pairs_together() -> None:
    x = np.arange(100, dtype=np.float32).reshape(50, 2)
    a, b = kf.TrainingData(x, x[:, :1] * 3), kf.TrainingData(x, x[:, :1] * 3)
    a.shuffle(seed=5)
    b.shuffle(seed=5)
    np.testing.assert_array_equal(a.inputs, b.inputs)
    np.testing.assert_array_equal(a.outputs[:, 0], a.inputs[:, 0] * 3)
    assert not np.array_equal(a.inputs, x)
    assert sorted(a.inputs[:, 0]) == sorted(x[:, 0])
    c = kf.TrainingData(x, x[:, :1])
    c.shuffle(seed=6)
    assert not np.array_equal(c.inputs, a.inputs)
    with pytest.raises(errors.ConfigError):
        c.shuffle(seed=-1)


def test_subset_merge_and_scale() -> None:
    data = kf.TrainingData(np.arange(10, dtype=float).reshape(5, 2), np.arange(5, dtype=float))
    sub = data.subset(1, 3)
    np.testing.assert_array_equal(sub.inputs, data.inputs[1:4])
    with pytest.raises(errors.ConfigError):
        data.subset(4, 2)
    merged = data.merge(sub)
    assert len(merged) == 8
    np.testing.assert_array_equal(merged.inputs[5:], sub.inputs)
    with pytest.raises(errors.ShapeError):
        data.merge(kf.TrainingData([[1, 2, 3]], [[1]]))
    scaled = data.copy()
    scaled.scale(-1, 1)
    assert scaled.inputs.min() == -1 and scaled.inputs.max() == 1
    assert scaled.outputs.min() == -1 and scaled.outputs.max() == 1
    np.testing.assert_allclose(scaled.inputs, data.inputs / 4.5 - 1, atol=1e-6)
    flat = kf.TrainingData([[1, 1], [1, 1]], [[0], [1]])
    with pytest.raises(errors.NumericError):
        flat.scale_inputs(0, 1)


def test_from_callback_builds_pairs_in_order_and_checks_them() -> None:
    calls: list[tuple[int, int, int]] = []

    def pair(i: int, n_in: int, n_out: int) -> tuple[list[float], float]:
        calls.append((i, n_in, n_out))
        return [i, 2 * i, 0.5], -i  # a number stands for a one-value row

    data = kf.TrainingData.from_callback(4, 3, 1, pair)
    assert calls == [(i, 3, 1) for i in range(4)]
    np.testing.assert_array_equal(data.inputs, [[i, 2 * i, 0.5] for i in range(4)])
    np.testing.assert_array_equal(data.outputs, [[-i] for i in range(4)])
    assert data.inputs.dtype == data.outputs.dtype == np.float32
    assert len(kf.TrainingData.from_callback(0, 2, 1, pair)) == 0 and len(calls) == 4
    with pytest.raises(errors.ShapeError, match="inputs of pair 0 must have 2 values"):
        kf.TrainingData.from_callback(2, 2, 1, lambda i, n_in, n_out: ([1, 2, 3], [1]))
    with pytest.raises(errors.ShapeError, match="outputs of pair 1"):
        kf.TrainingData.from_callback(2, 1, 2, lambda i, n_in, n_out: ([0], [[1, 2]] if i else [1, 2]))
    with pytest.raises(errors.NumericError, match="outputs of pair 0"):
        kf.TrainingData.from_callback(1, 1, 1, lambda i, n_in, n_out: ([0], [np.inf]))
    with pytest.raises(errors.ConfigError, match="must return \\(inputs, outputs\\)"):
        kf.TrainingData.from_callback(1, 1, 1, lambda i, n_in, n_out: [0])
    for counts in ((-1, 1, 1), (1, 0, 1), (1, 1, 0), (1.5, 1, 1), (True, 1, 1)):
        with pytest.raises(errors.ConfigError):
            kf.TrainingData.from_callback(*counts, pair)  # type: ignore[arg-type]
    with pytest.raises(errors.ConfigError, match="callable"):
        kf.TrainingData.from_callback(1, 1, 1, None)  # type: ignore[arg-type]
