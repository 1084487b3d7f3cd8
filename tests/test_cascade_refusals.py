"""Cascade training's refusals, each with its reason, and FannRandom copies (test_cascade.py holds
the training itself, against libfann)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import kimi_fann as kf
from kimi_fann.cli import main
from kimi_fann.errors import ConfigError

DATA = kf.TrainingData(np.random.default_rng(0).uniform(-1, 1, (20, 2)), np.random.default_rng(1).uniform(0, 1, (20, 1)))


@pytest.mark.parametrize("kwargs, message", [
    (dict(max_neurons=0), "max_neurons must be a positive integer, got 0"),
    (dict(max_neurons=1 << 32), "max_neurons must be below 2\\*\\*32, got 4294967296"),
    (dict(neurons_between_reports=-1), "neurons_between_reports must be a non-negative integer, got -1"),
    (dict(desired_error="small"), "desired_error must be a number, got 'small'"),
    (dict(random=np.random.default_rng(0)), "random must be a kf.FannRandom or None, got Generator"),
])
def test_cascade_train_refusals(kwargs: dict, message: str) -> None:
    net = kf.Network([2, 1], shortcut=True)
    before = net.to_fann_text()
    with pytest.raises(ConfigError, match=message):
        net.cascade_train(DATA, **{"max_neurons": 3, "desired_error": 0.01, **kwargs})
    assert net.to_fann_text() == before  # nothing grown


def test_fann_random_copies_continue_the_same_stream() -> None:
    random = kf.FannRandom(7)
    random.rand_array(3)
    shallow, deep = copy.copy(random), copy.deepcopy(random)
    expected = random.rand_array(4)  # the original's next numbers
    assert shallow.rand_array(4).tolist() == expected.tolist() == deep.rand_array(4).tolist()
    # streams of their own: drawing from the copies did not move the original
    assert random.rand_array(2).tolist() == kf.FannRandom(7).rand_array(9)[7:].tolist()
    with pytest.raises(ConfigError, match="n must be a non-negative integer, got -1"):
        random.rand_array(-1)


def test_train_command_cascade_refusals(tmp_path, capsys) -> None:
    path = tmp_path / "d.data"
    DATA.save(path)
    for args, reason in ((["--hidden", "3"], "--hidden does not apply to --cascade: the network grows its own "
                                             "hidden neurons"),
                         (["--max-out-epochs", "-1"], "cascade_max_out_epochs must be a non-negative integer, got -1")):
        assert main(["train", str(path), "--cascade", *args]) == 1
        assert capsys.readouterr().err.strip() == f"kimi-fann train: error: {reason}"
