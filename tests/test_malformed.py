"""Hostile and degenerate inputs: every loader and every run/route entry point either raises a
kimi_fann.errors exception (naming what was expected) or returns the documented result. Nothing
may crash the interpreter; the sanitizer CI job runs this file under ASan+UBSan.

Documented results checked here:
- a zero-row batch gives a zero-row result of the right width;
- read-only, non-contiguous, Fortran-ordered, byte-swapped, integer and bool arrays are accepted
  (converted, never written to);
- NaN or infinity in float inputs raises NumericError; finite values beyond a fixed-point
  network's range saturate.
"""

from __future__ import annotations

import re
import struct
import zlib

import numpy as np
import pytest
from kfnforge import rewrite

import kimi_fann as kf
from kimi_fann import kfn
from kimi_fann.errors import FileError, FormatError, KimiFannError, NumericError, ShapeError

RNG = np.random.default_rng(1234)
CALIB = RNG.normal(size=(64, 4)).astype(np.float32)


def _models() -> dict[str, object]:
    net = kf.Network([4, 5, 2], seed=3)
    router = kf.Router(RNG.normal(size=(6, 4)), top_k=2)
    return {
        "network": net,
        "q8": net.quantize(CALIB),
        "q16": net.quantize(CALIB, activation_bits=16),
        "fann_fixed": net.to_fixed(),
        "router": router,
        "router_q8": kf.Router(RNG.normal(size=(6, 4)), top_k=3, gate_bits=8),
        "router_sigmoid": kf.Router(RNG.normal(size=(6, 4)), bias=np.zeros(6), top_k=2, scoring="sigmoid"),
        "mixture": kf.MixtureOfExperts(router, [kf.Network([4, 3, 2], seed=i) for i in range(6)]),
    }


MODELS = _models()


def _call(name: str, inputs: object, **kwargs: object) -> object:
    model = MODELS[name]
    if isinstance(model, kf.Router):
        return model.route(inputs, **kwargs)
    return model.run(inputs, **kwargs)  # type: ignore[attr-defined]


def _first(result: object) -> np.ndarray:
    return result[0] if isinstance(result, tuple) else result  # type: ignore[return-value,index]


def _width(name: str) -> int:
    model = MODELS[name]
    return model.top_k if isinstance(model, kf.Router) else model.num_output  # type: ignore[attr-defined]


# ---- run and route: arrays of every kind ----


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("threads", [None, 1, 3])
def test_zero_row_batch_gives_zero_rows(name: str, threads: int | None) -> None:
    result = _first(_call(name, np.zeros((0, 4), dtype=np.float32), threads=threads))
    assert result.shape == (0, _width(name))


@pytest.mark.parametrize("name", MODELS)
def test_layouts_and_dtypes_give_the_same_result(name: str) -> None:
    x = RNG.normal(size=(7, 4)).astype(np.float32)
    expected = _call(name, x)
    wide = np.zeros((7, 8), dtype=np.float32)
    wide[:, ::2] = x
    readonly = x.copy()
    readonly.flags.writeable = False
    variants = {
        "non-contiguous": wide[:, ::2],
        "fortran": np.asfortranarray(x),
        "read-only": readonly,
        "float64": x.astype(np.float64),
        "byte-swapped": x.astype(">f4"),
        "reversed rows": x[::-1][::-1],
        "list": x.tolist(),
    }
    for label, variant in variants.items():
        got = _call(name, variant)
        for a, b in zip(got if isinstance(got, tuple) else (got,),
                        expected if isinstance(expected, tuple) else (expected,)):
            np.testing.assert_array_equal(a, b, err_msg=label)
    assert not readonly.flags.writeable
    ints = _first(_call(name, np.ones((2, 4), dtype=np.int64)))
    bools = _first(_call(name, np.ones((2, 4), dtype=bool)))
    np.testing.assert_array_equal(ints, bools)


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf, 1e300])
@pytest.mark.parametrize("batch", [1, 600])
def test_non_finite_inputs_raise_numeric_error(name: str, bad: float, batch: int) -> None:
    x = np.zeros((batch, 4))
    x[batch // 2, 2] = bad
    with pytest.raises(NumericError):
        _call(name, x)
    with np.errstate(over="ignore"):
        x32 = x.astype(np.float32)  # 1e300 becomes inf
    with pytest.raises(NumericError):
        _call(name, x32)  # the float32 fast path straight into C


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize(
    "inputs",
    [
        np.zeros((0,), dtype=np.float32),
        np.zeros((3, 3), dtype=np.float32),
        np.zeros((3, 5), dtype=np.float32),
        np.zeros((2, 2, 4), dtype=np.float32),
        np.float32(1.0),
        np.zeros((2, 4), dtype=np.complex64),
        np.array([["a", "b", "c", "d"]]),
        np.array([[None] * 4], dtype=object),
        np.zeros((2, 4), dtype="datetime64[s]"),
    ],
    ids=["empty-1d", "too-few", "too-many", "3d", "scalar", "complex", "str", "object", "datetime"],
)
def test_wrong_shapes_and_dtypes_raise_shape_error(name: str, inputs: object) -> None:
    with pytest.raises(ShapeError):
        _call(name, inputs)


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("threads", [0, -1, 1.5, True, "2"])
def test_bad_thread_counts_raise(name: str, threads: object) -> None:
    with pytest.raises(KimiFannError):
        _call(name, np.zeros((2, 4), dtype=np.float32), threads=threads)


@pytest.mark.parametrize("name", ["q8", "q16", "fann_fixed"])
def test_large_finite_inputs_saturate(name: str) -> None:
    y = MODELS[name].run(np.full((3, 4), 3e38, dtype=np.float32))  # type: ignore[attr-defined]
    assert y.shape == (3, 2) and np.isfinite(y).all()


@pytest.mark.parametrize("name", ["q8", "q16", "fann_fixed"])
def test_run_raw_checks_dtype_range_and_layout(name: str) -> None:
    model = MODELS[name]
    assert model.run_raw(np.zeros((0, 4), dtype=np.int32)).shape == (0, 2)  # type: ignore[attr-defined]
    strided = np.zeros((3, 8), dtype=np.int32)[:, ::2]
    np.testing.assert_array_equal(model.run_raw(strided), model.run_raw(np.zeros((3, 4), np.int32)))  # type: ignore[attr-defined]
    for bad in (np.zeros((2, 4)), np.full((2, 4), 2**40), np.full((2, 4), 2**63, dtype=np.uint64),
                np.zeros((2, 2, 4), dtype=np.int32), np.zeros((2, 3), dtype=np.int32)):
        with pytest.raises(ShapeError):
            model.run_raw(bad)  # type: ignore[attr-defined]


def test_training_and_weights_reject_bad_values() -> None:
    net = kf.Network([4, 5, 2], seed=3)
    with pytest.raises(NumericError):
        kf.TrainingData([[np.nan, 0, 0, 0]], [[0, 0]])
    with pytest.raises(NumericError):
        net.weights = np.full(net.total_connections, np.inf)
    with pytest.raises(ShapeError):
        net.weights = np.zeros(3)
    with pytest.raises(NumericError):
        net.set_activation("sigmoid", steepness=float("nan"))
    empty = kf.TrainingData(np.zeros((0, 4)), np.zeros((0, 2)))
    assert len(empty) == 0
    with pytest.raises(KimiFannError):
        net.train_epoch(empty)
    with pytest.raises(KimiFannError):
        net.quantize(np.zeros((0, 4)))
    with pytest.raises(NumericError):
        net.quantize(np.full((4, 4), np.nan))
    with pytest.raises(NumericError):
        kf.Router(np.full((3, 4), np.nan))
    with pytest.raises(NumericError):
        kf.Router(np.ones((3, 4)), bias=[np.inf, 0, 0])
    with pytest.raises(ShapeError):
        kf.Router(np.ones((0, 4)))


# ---- FANN .net, float and fixed ----

# sigmoid_symmetric hidden neurons (activation 5), which the patterns below look for
_OLD_DEFAULTS = {"hidden": "sigmoid_symmetric", "output": "sigmoid", "steepness": 0.5}
FLOAT_TEXT = kf.Network([3, 4, 2], seed=5, **_OLD_DEFAULTS).to_fann_text()
FIXED_TEXT = kf.Network([3, 4, 2], seed=5, **_OLD_DEFAULTS).to_fixed().to_fann_text()


def _sub(text: bytes, pattern: str, replacement: str) -> bytes:
    out, count = re.subn(pattern.encode(), replacement.encode(), text, count=1)
    assert count == 1, pattern
    return out


@pytest.mark.parametrize("loader, text", [(kf.Network.from_fann_text, FLOAT_TEXT),
                                          (kf.FixedNetwork.from_fann_text, FIXED_TEXT)], ids=["float", "fixed"])
def test_truncated_net_files_raise_format_error(loader, text: bytes) -> None:  # type: ignore[no-untyped-def]
    for cut in range(0, len(text) - 1, max(1, len(text) // 150)):
        with pytest.raises(FormatError):
            loader(text[:cut])


FLOAT_CASES = {
    "nan weight": (r"\(0, [-0-9.e+]+\)", "(0, nan)"),
    "inf weight": (r"\(0, [-0-9.e+]+\)", "(0, inf)"),
    "overflowing weight": (r"\(0, [-0-9.e+]+\)", "(0, 1e39)"),
    "nan steepness": (r"\(4, 5, [-0-9.e+]+\)", "(4, 5, nan)"),
    "huge layer": (r"layer_sizes=4 ", "layer_sizes=4294967295 "),
    "huge total": (r"layer_sizes=4 5 ", "layer_sizes=4 100000000 "),
    "negative layer": (r"layer_sizes=4 ", "layer_sizes=-4 "),
    "too many layers": (r"num_layers=3", "num_layers=1000000000"),
    "no layers": (r"num_layers=3", "num_layers=0"),
    "layer count mismatch": (r"num_layers=3", "num_layers=4"),
    "connection past the end": (r"\(4, 5, ", "(300000, 5, "),
    "connection to a later neuron": (r"\(0, ([-0-9.e+]+)\)", r"(99999, \1)"),
    "unknown activation": (r"\(4, 5, ", "(4, 99, "),
    "bad magic": (r"FANN_FLO_2.1", "FANN_FLO_9.9"),
    "binary garbage": (r"learning_rate=", "learning_rate=\x00\xff"),
}


@pytest.mark.parametrize("case", FLOAT_CASES)
def test_malformed_float_net_raises_format_error(case: str) -> None:
    pattern, replacement = FLOAT_CASES[case]
    with pytest.raises(FormatError, match="line"):
        kf.Network.from_fann_text(_sub(FLOAT_TEXT, pattern, replacement))


FIXED_CASES = {
    "decimal point too large": (r"decimal_point=\d+", "decimal_point=31"),
    "decimal point negative": (r"decimal_point=\d+", "decimal_point=-1"),
    "decimal point huge": (r"decimal_point=\d+", "decimal_point=99999999999999999999"),
    "float weight": (r"\(0, -?\d+\)", "(0, 0.5)"),
    "huge weight": (r"\(0, -?\d+\)", "(0, 99999999999)"),
    "huge layer": (r"layer_sizes=4 ", "layer_sizes=4294967295 "),
    "connection past the end": (r"\(4, 5, ", "(300000, 5, "),
}


@pytest.mark.parametrize("case", FIXED_CASES)
def test_malformed_fixed_net_raises_format_error(case: str) -> None:
    pattern, replacement = FIXED_CASES[case]
    with pytest.raises(FormatError, match="line"):
        kf.FixedNetwork.from_fann_text(_sub(FIXED_TEXT, pattern, replacement))


def test_extreme_fixed_values_run_without_crashing() -> None:
    """Largest weights and inputs: libfixedfann's arithmetic wraps; ours must not crash."""
    text = re.sub(rb"\((\d+), -?\d+\)", rb"(\1, 2147483647)", FIXED_TEXT)
    net = kf.FixedNetwork.from_fann_text(text)
    for value in (2**31 - 1, -(2**31), 0):
        y = net.run_raw(np.full((2, 3), value, dtype=np.int32))
        assert y.shape == (2, 2) and y.dtype == np.int32
    zero_point = kf.FixedNetwork.from_fann_text(re.sub(rb"decimal_point=\d+", b"decimal_point=0", FIXED_TEXT))
    assert zero_point.run([0.5, 0.5, 0.5]).shape == (2,)


def test_missing_and_unreadable_files_raise_file_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    for loader in (kf.Network.load, kf.FixedNetwork.load, kf.TrainingData.load, kf.load):
        with pytest.raises(FileError):
            loader(tmp_path / "absent")
        with pytest.raises(FileError):
            loader(tmp_path)  # a directory
        with pytest.raises(OSError):
            loader(tmp_path / "absent")


# ---- FANN .data ----

DATA_CASES = {
    "empty": b"",
    "huge counts": b"4294967295 4294967295 4294967295\n1\n1\n",
    "huge product": b"100000000 1000 1000\n1\n1\n",
    "nan": b"1 1 1\nnan\n1\n",
    "inf output": b"1 1 1\n1\ninf\n",
    "overflow": b"1 1 1\n1e39\n1\n",
    "zero inputs": b"1 0 1\n\n1\n",
    "too few values": b"2 1 1\n1\n1\n",
    "trailing data": b"1 1 1\n1\n1\n5 5 5\n",
    "negative count": b"-1 1 1\n1\n1\n",
    "binary": b"\x00\xff\x01",
    "non-ascii": "1 1 1\n\u00e9\n1\n".encode(),
    "missing header field": b"1 1\n1\n1\n",
}


@pytest.mark.parametrize("case", DATA_CASES)
def test_malformed_data_raises_format_error(case: str) -> None:
    with pytest.raises(FormatError, match="line"):
        kf.TrainingData.from_fann_text(DATA_CASES[case])


def test_truncated_data_raises_format_error() -> None:
    text = kf.TrainingData(RNG.normal(size=(5, 3)), RNG.normal(size=(5, 2))).to_fann_text()
    for cut in range(len(text) - 1):
        if text[:cut].rstrip() == text.rstrip():
            continue
        try:
            data = kf.TrainingData.from_fann_text(text[:cut])
        except FormatError:
            continue
        # a cut inside the last number leaves a shorter but valid number
        assert data.inputs.shape == (5, 3) and data.outputs.shape == (5, 2)


def test_zero_pair_data_is_an_empty_set() -> None:
    data = kf.TrainingData.from_fann_text(b"0 3 2\n")
    assert data.inputs.shape == (0, 3) and data.outputs.shape == (0, 2)


# ---- .kfn ----

_PREFIX = struct.Struct("<4sHHIII")


def _section(name: str, **fields: object):  # type: ignore[no-untyped-def]
    def change(header: dict) -> None:
        for entry in header["sections"]:
            if entry["name"] == name:
                entry.update(fields)
    return change


@pytest.mark.parametrize("name", MODELS)
def test_truncated_kfn_raises_format_error(name: str) -> None:
    blob = kfn.dumps(MODELS[name])
    for cut in range(0, len(blob) - 1, max(1, len(blob) // 120)):
        with pytest.raises(FormatError):
            kfn.loads(blob[:cut])


@pytest.mark.parametrize("name", MODELS)
def test_every_flipped_byte_of_kfn_is_caught_or_harmless(name: str) -> None:
    blob = bytearray(kfn.dumps(MODELS[name], compress="deflate"))
    for i in range(0, len(blob), max(1, len(blob) // 200)):
        damaged = bytearray(blob)
        damaged[i] ^= 0x5A
        try:
            kfn.loads(bytes(damaged))
        except FormatError:
            continue
        # only padding between sections may change unnoticed


KFN_CASES = {
    "bad magic": lambda b: b"XXXX" + b[4:],
    "future major version": lambda b: b[:4] + struct.pack("<H", 99) + b[6:],
    "header longer than file": lambda b: b[:12] + struct.pack("<I", 0xFFFFFFF0) + b[16:],
    "unknown flag": lambda b: b[:8] + struct.pack("<I", 0x80) + b[12:],
    "header crc": lambda b: b[:16] + struct.pack("<I", 0) + b[20:],
    "huge shape": lambda b: rewrite(b, _section("weights", shape=[2**31, 2**31])),
    "negative shape": lambda b: rewrite(b, _section("weights", shape=[-1])),
    "shape of bools": lambda b: rewrite(b, _section("weights", shape=[True])),
    "deep shape": lambda b: rewrite(b, _section("weights", shape=[1] * 20)),
    "wrong dtype": lambda b: rewrite(b, _section("weights", dtype="<f8")),
    "object dtype": lambda b: rewrite(b, _section("weights", dtype="|O")),
    "offset past end": lambda b: rewrite(b, _section("weights", offset=2**40)),
    "misaligned offset": lambda b: rewrite(b, _section("weights", offset=3)),
    "negative length": lambda b: rewrite(b, _section("weights", length=-4)),
    "string length": lambda b: rewrite(b, _section("weights", length="52")),
    "wrong count": lambda b: rewrite(b, _section("weights", shape=[3])),
    "unknown encoding": lambda b: rewrite(b, _section("weights", encoding="lz4")),
    "missing section": lambda b: rewrite(b, lambda h: h["sections"].pop()),
    "repeated section": lambda b: rewrite(b, lambda h: h["sections"].append(dict(h["sections"][0]))),
    "sections not a list": lambda b: rewrite(b, lambda h: h.update(sections={})),
    "unknown model type": lambda b: rewrite(b, lambda h: h["model"].update(type="transformer")),
    "model not a dict": lambda b: rewrite(b, lambda h: h.update(model=[])),
}


@pytest.mark.parametrize("case", KFN_CASES)
def test_malformed_kfn_raises_format_error(case: str) -> None:
    blob = kfn.dumps(MODELS["network"])
    with pytest.raises(FormatError, match="<bytes>"):
        kfn.loads(KFN_CASES[case](blob))


def test_kfn_header_that_is_not_json_or_too_deep() -> None:
    blob = kfn.dumps(MODELS["network"])
    for text in (b"\xff\xfe not json", b"[" * 100000 + b"]" * 100000, b"null", b'{"sections": [], "model": {}}'):
        prefix = _PREFIX.pack(b"KFN\x00", 1, 0, 0, len(text), zlib.crc32(text))
        with pytest.raises(FormatError):
            kfn.loads(prefix + text + blob[_PREFIX.size:])


@pytest.mark.parametrize("name", ["q8", "q16", "mixture", "router_q8"])
def test_kfn_with_every_section_zeroed_raises_or_loads(name: str) -> None:
    """Zeroed arrays (CRC fixed up): the C validation must refuse impossible values."""
    blob = kfn.dumps(MODELS[name])

    def zero_all(header: dict) -> None:
        for entry in header["sections"]:
            if entry["encoding"] == "raw":
                entry["crc32"] = zlib.crc32(b"\0" * entry["length"])

    _, _, _, _, length, _ = _PREFIX.unpack_from(blob)
    start = -(-(_PREFIX.size + length) // 64) * 64
    zeroed = blob[:start] + b"\0" * (len(blob) - start)
    try:
        model = kfn.loads(rewrite(zeroed, zero_all))
    except KimiFannError:
        return
    _first(_call_model(model))


def _call_model(model: object) -> object:
    x = np.zeros((3, 4), dtype=np.float32)
    return model.route(x) if isinstance(model, kf.Router) else model.run(x)  # type: ignore[attr-defined]


# ---- regressions found by fuzzing (tools/ci/fuzz.sh); they fail only under the sanitizers ----


@pytest.mark.parametrize("empty", [b"", "", bytearray(), memoryview(b"")], ids=["bytes", "str", "bytearray", "view"])
def test_empty_input_to_every_parser(empty: object) -> None:
    """Fuzz finding: empty text reached the C scanner as a NULL pointer plus zero (UBSan)."""
    for parse in (kf.Network.from_fann_text, kf.FixedNetwork.from_fann_text, kf.TrainingData.from_fann_text):
        with pytest.raises(FormatError):
            parse(empty)  # type: ignore[arg-type]
    if not isinstance(empty, str):
        with pytest.raises(FormatError):
            kfn.loads(empty)  # type: ignore[arg-type]
