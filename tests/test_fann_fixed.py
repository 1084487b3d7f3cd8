"""FANN fixed point held against the real libfixedfann 2.2 and fann_save_to_fixed."""

from __future__ import annotations

import numpy as np
import pytest

import kimi_fann as kf
from kimi_fann import errors

import fannref

pytestmark = pytest.mark.skipif(
    not (fannref.available() and fannref.fixed_available()), reason="libfann 2.2 is not installed"
)

SUPPORTED = ["linear", "threshold", "threshold_symmetric", "sigmoid", "sigmoid_stepwise", "sigmoid_symmetric",
             "sigmoid_symmetric_stepwise", "linear_piece", "linear_piece_symmetric"]
STRUCTURES = ["standard", "sparse", "shortcut"]


def float_net(structure: str, layers: list[int], seed: int, weight: float) -> fannref.FloatNet:
    fann = {"standard": lambda: fannref.FloatNet.standard(layers),
            "sparse": lambda: fannref.FloatNet.sparse(0.6, layers),
            "shortcut": lambda: fannref.FloatNet.shortcut(layers)}[structure]()
    fannref.FloatNet.seed(seed)
    fann.randomize_weights(-weight, weight)
    return fann


@pytest.mark.parametrize("structure", STRUCTURES)
@pytest.mark.parametrize("activation", SUPPORTED)
def test_run_raw_equals_libfixedfann(tmp_path, structure: str, activation: str) -> None:
    code = kf.ACTIVATIONS.index(activation)
    for trial, weight in enumerate([0.3, 2.0, 20.0]):  # decimal points from 15 down to about 8
        rng = np.random.default_rng([code, STRUCTURES.index(structure), trial])
        layers = [int(n) for n in rng.integers(1, 10, size=int(rng.integers(3, 5)))]
        fann = float_net(structure, layers, trial, weight)
        fann.set_activation_function_hidden(code)
        fann.set_activation_function_output(code)
        fann.set_activation_steepness_hidden(float(rng.uniform(0.3, 1.2)))
        fann.set_activation_steepness_output(float(rng.uniform(0.3, 1.2)))
        theirs_path = tmp_path / "theirs_fixed.net"
        decimal_point = fann.save_to_fixed(str(theirs_path))
        float_path = tmp_path / "float.net"
        fann.save(str(float_path))
        ours = kf.Network.load(float_path)
        # The same file as fann_save_to_fixed, byte for byte.
        mine_path = tmp_path / "mine_fixed.net"
        assert ours.save_fixed(mine_path) == decimal_point
        assert mine_path.read_bytes() == theirs_path.read_bytes()
        fixed = kf.FixedNetwork.load(theirs_path)
        assert fixed.to_fann_text() == theirs_path.read_bytes()
        lib = fannref.FixedNet.load(str(theirs_path))
        m = fixed.multiplier
        x = rng.integers(-m, m + 1, size=(30, layers[0]), dtype=np.int32)
        np.testing.assert_array_equal(fixed.run_raw(x), lib.run_batch(x),
                                      err_msg=f"layers {layers}, dp {decimal_point}")


def test_fixed_follows_the_float_network_roughly(tmp_path) -> None:
    net = kf.Network([6, 10, 3], hidden="sigmoid_symmetric", output="sigmoid", seed=2)
    net.randomize_weights(-1, 1, seed=3)
    fixed = net.to_fixed()
    x = np.random.default_rng(0).uniform(-1, 1, (200, 6))
    # The stepwise sigmoids are coarse (FANN's own fixed point is off by a few hundredths).
    assert np.abs(fixed.run(x) - net.run(x)).max() < 0.08


def test_unsupported_activations_are_refused_with_the_reason() -> None:
    net = kf.Network([2, 3, 1], hidden="elliot", output="sigmoid")
    fixed = net.to_fixed()
    with pytest.raises(errors.ConfigError, match="elliot"):
        fixed.run_raw([1, 2])


def test_fixed_files_and_inputs_are_checked(tmp_path) -> None:
    fixed = kf.Network([2, 3, 1]).to_fixed()
    with pytest.raises(errors.ShapeError, match="integers"):
        fixed.run_raw([0.5, 0.25])
    with pytest.raises(errors.ShapeError):
        fixed.run_raw([[1, 2, 3]])
    with pytest.raises(errors.ShapeError):
        fixed.run_raw([2**40, 0])
    text = fixed.to_fann_text()
    with pytest.raises(errors.FormatError, match="fixed-point"):
        kf.Network.from_fann_text(text)
    with pytest.raises(errors.FormatError, match="float network"):
        kf.FixedNetwork.from_fann_text(kf.Network([2, 1]).to_fann_text())
    with pytest.raises(errors.FormatError, match="decimal_point"):
        kf.FixedNetwork.from_fann_text(text.replace(b"decimal_point=15", b"decimal_point=31"))
    with pytest.raises(TypeError):
        kf.FixedNetwork()
