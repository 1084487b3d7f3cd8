"""Each model's save picks its format by the file's name; kf.load reads every model format."""

from __future__ import annotations

import numpy as np
import pytest

import kimi_fann as kf
from kimi_fann.errors import ConfigError, FormatError


def test_save_picks_the_format_by_extension(tmp_path) -> None:
    net = kf.Network([3, 4, 2], seed=1)
    net.save(tmp_path / "y.kfn")
    net.save(tmp_path / "y.net")
    assert (tmp_path / "y.kfn").read_bytes()[:4] == b"KFN\x00"
    assert (tmp_path / "y.net").read_bytes().startswith(b"FANN_FLO_2.1")
    fixed = net.to_fixed()
    fixed.save(tmp_path / "f.KFN")
    fixed.save(tmp_path / "f.net")
    q8 = net.quantize(calibration=np.random.default_rng(0).normal(size=(16, 3)))
    q8.save(tmp_path / "x.kfn")
    with pytest.raises(ConfigError, match=r"'.*x\.net': name it \.kfn"):
        q8.save(tmp_path / "x.net")
    for name, kind in [("y.kfn", kf.Network), ("y.net", kf.Network), ("f.KFN", kf.FannFixedNetwork),
                       ("f.net", kf.FannFixedNetwork), ("x.kfn", kf.QuantizedNetwork)]:
        model = kf.load(tmp_path / name)
        assert type(model) is kind, name
        np.testing.assert_allclose(model.run(np.ones((1, 3))), (net if kind is kf.Network else
                                   fixed if kind is kf.FannFixedNetwork else q8).run(np.ones((1, 3))))


def test_load_of_something_else_says_what_it_reads(tmp_path) -> None:
    (tmp_path / "m.txt").write_bytes(b"FANN_SOMETHING_ELSE_2.0\n1 2 3\n")
    with pytest.raises(FormatError, match=r"m\.txt: not a \.kfn file \(bad magic b'FANN'\) \(it is FANN text"):
        kf.load(tmp_path / "m.txt")
    (tmp_path / "m.bin").write_bytes(b"\x89PNG and more bytes here")
    with pytest.raises(FormatError, match=r"m\.bin: not a \.kfn file \(bad magic"):
        kf.load(tmp_path / "m.bin")


def test_data_header_that_contradicts_the_line_layout(tmp_path) -> None:
    """The issue's case: a header of 1257 37 37 on lines that alternate 64 and 10 values (the
    digits set) parses, pairs shifted, unless the layout is checked."""
    rng = np.random.default_rng(0)
    lines = ["1257 37 37"]
    for _ in range(1257):
        lines += [" ".join(f"{v:.3f}" for v in rng.random(64)), " ".join(str(v) for v in rng.integers(0, 2, 10))]
    path = tmp_path / "digits.data"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(FormatError, match=r"digits\.data, line 2: the header declares pairs of 37 inputs and 37 "
                                          r"outputs, but the lines alternate 64 and 10 values \(this line has 64\): "
                                          r'a header of "1257 64 10" would match them'):
        kf.TrainingData.load(path)
    lines[0] = "1257 64 10"
    path.write_text("\n".join(lines) + "\n")
    data = kf.TrainingData.load(path)
    assert (data.num_input, data.num_output, len(data)) == (64, 10, 1257)
    one_pair_a_line = "3 2 1\n1 2 3\n4 5 6\n7 8 9\n10 11 12\n"
    with pytest.raises(FormatError, match="unexpected text after the last of the 3 pairs"):
        kf.TrainingData.from_fann_text(one_pair_a_line)
    assert len(kf.TrainingData.from_fann_text("4 2 1\n1 2 3\n4 5 6\n7 8 9\n10 11 12\n")) == 4
