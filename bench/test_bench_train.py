"""One RPROP epoch on FANN's thyroid set (3600 pairs, 21-16-3) and on a generated set of 20,000
pairs (64-32-10): kimi-fann beside libfann and a vectorised numpy iRPROP-. onnxruntime has no
training in its inference package."""

from __future__ import annotations

import numpy as np
import pytest

import kimi_fann as kf

import peers
from fannsets import fann_dataset


@pytest.fixture(scope="module")
def thyroid() -> kf.TrainingData:
    return fann_dataset("thyroid")[0]


@pytest.fixture(scope="module")
def wide() -> kf.TrainingData:
    """20,000 pairs of 64 inputs and 10 outputs: targets from a fixed random two-layer teacher."""
    rng = np.random.default_rng(64)
    x = rng.standard_normal((20_000, 64)).astype(np.float32)
    hidden = np.tanh(x @ rng.standard_normal((64, 16)).astype(np.float32) / 8)
    y = (hidden @ rng.standard_normal((16, 10)).astype(np.float32) > 0).astype(np.float32)
    return kf.TrainingData(x, y)


CASES = {"thyroid 21-16-3": [21, 16, 3], "20000 x 64-32-10": [64, 32, 10]}


def fresh_net(layers: list[int]) -> kf.Network:
    net = kf.Network(layers, hidden="sigmoid_symmetric", output="sigmoid", seed=3)
    net.training_algorithm = "rprop"
    return net


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("engine", ["kimi_fann", "numpy", "libfann"])
def test_rprop_epoch(benchmark, request, case: str, engine: str, tmp_path) -> None:
    data = request.getfixturevalue("thyroid" if case.startswith("thyroid") else "wide")
    net = fresh_net(CASES[case])
    benchmark.group = f"rprop epoch {case}"
    benchmark.extra_info["engine"] = engine
    if engine == "kimi_fann":
        benchmark(net.train_epoch, data)
    elif engine == "numpy":
        epoch = peers.numpy_rprop_epoch(net)
        benchmark(epoch, data.inputs, data.outputs)
    else:
        fann = peers.libfann_net(net, tmp_path)
        if fann is None:
            pytest.skip("libfann is not installed")
        import fannref

        fann_data = fannref.TrainData.from_arrays(data.inputs, data.outputs)
        benchmark(fann.train_epoch, fann_data)
        fann_data.close()
