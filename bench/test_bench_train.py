"""One RPROP epoch on FANN's thyroid set (3600 pairs, 21-16-3): kimi-fann beside libfann and a
vectorised numpy iRPROP-. onnxruntime has no training in its inference package."""

from __future__ import annotations

import pytest

import kimi_fann as kf

import peers
from fannsets import fann_dataset


@pytest.fixture(scope="module")
def thyroid() -> kf.TrainingData:
    return fann_dataset("thyroid")[0]


def fresh_net() -> kf.Network:
    net = kf.Network([21, 16, 3], hidden="sigmoid_symmetric", output="sigmoid", seed=3)
    net.training_algorithm = "rprop"
    return net


@pytest.mark.parametrize("engine", ["kimi_fann", "numpy", "libfann"])
def test_rprop_epoch(benchmark, thyroid: kf.TrainingData, engine: str, tmp_path) -> None:
    net = fresh_net()
    benchmark.group = "rprop epoch thyroid 21-16-3"
    benchmark.extra_info["engine"] = engine
    if engine == "kimi_fann":
        benchmark(net.train_epoch, thyroid)
    elif engine == "numpy":
        epoch = peers.numpy_rprop_epoch(net)
        benchmark(epoch, thyroid.inputs, thyroid.outputs)
    else:
        fann = peers.libfann_net(net, tmp_path)
        if fann is None:
            pytest.skip("libfann is not installed")
        import fannref

        data = fannref.TrainData.from_arrays(thyroid.inputs, thyroid.outputs)
        benchmark(fann.train_epoch, data)
        data.close()
