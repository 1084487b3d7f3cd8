"""Property tests: round trips hold for any data, parsers survive any bytes."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import kimi_fann as kf
from kimi_fann import errors

finite32 = st.floats(width=32, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(np.float32, st.tuples(st.integers(1, 8), st.integers(1, 5)), elements=finite32),
    st.integers(1, 4),
)
def test_data_text_round_trip_is_exact(inputs: np.ndarray, n_out: int) -> None:
    outputs = np.resize(inputs[:, 0], (inputs.shape[0], n_out))
    data = kf.TrainingData(inputs, outputs)
    back = kf.TrainingData.from_fann_text(data.to_fann_text())
    assert back.inputs.tobytes() == data.inputs.tobytes()
    assert back.outputs.tobytes() == data.outputs.tobytes()


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_crash_the_parsers(blob: bytes) -> None:
    for parse in (kf.TrainingData.from_fann_text, kf.Network.from_fann_text, kf.FixedNetwork.from_fann_text):
        try:
            parse(blob)
        except errors.FormatError:
            pass


VALID = kf.Network([3, 4, 2], connection_rate=0.7, seed=1).to_fann_text()


@settings(max_examples=300, deadline=None)
@given(st.integers(0, len(VALID) - 1), st.integers(0, 255), st.booleans())
def test_corrupted_net_files_fail_cleanly(at: int, byte: int, delete: bool) -> None:
    text = VALID[:at] + (b"" if delete else bytes([byte])) + VALID[at + 1 :]
    try:
        net = kf.Network.from_fann_text(text)
    except (errors.FormatError, errors.LimitError):
        return
    # Whatever still parses is a working network.
    assert net.run(np.zeros(net.num_input)).shape == (net.num_output,)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(1, 9), min_size=2, max_size=5),
    st.sampled_from([1.0, 0.6]),
    st.booleans(),
    st.integers(0, 2**32),
)
def test_net_text_round_trip_for_any_structure(layers: list[int], rate: float, shortcut: bool, seed: int) -> None:
    if shortcut:
        rate = 1.0
    net = kf.Network(layers, connection_rate=rate, shortcut=shortcut, seed=seed)
    back = kf.Network.from_fann_text(net.to_fann_text())
    assert back.to_fann_text() == net.to_fann_text()
    x = np.linspace(-1, 1, layers[0], dtype=np.float32)
    np.testing.assert_array_equal(back.run(x), net.run(x))


FIXED = kf.Network([3, 4, 2], connection_rate=0.7, seed=1).to_fixed().to_fann_text()


@settings(max_examples=300, deadline=None)
@given(st.integers(0, len(FIXED) - 1), st.integers(0, 255), st.booleans())
def test_corrupted_fixed_files_fail_cleanly(at: int, byte: int, delete: bool) -> None:
    text = FIXED[:at] + (b"" if delete else bytes([byte])) + FIXED[at + 1 :]
    try:
        net = kf.FixedNetwork.from_fann_text(text)
    except (errors.FormatError, errors.LimitError):
        return
    try:
        out = net.run_raw(np.zeros(net.num_input, dtype=np.int32))
    except errors.ConfigError:  # e.g. an activation libfixedfann cannot run
        return
    assert out.shape == (net.num_output,)
