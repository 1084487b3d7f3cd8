"""Cascade-correlation training (FANN's Cascade2) from the same starting network with the same
rand() stream, kimi-fann beside libfann 2.2 (fann_cascadetrain_on_data): the same work to the
bit (both grow the same network, checked in each round). Diabetes (384 pairs, 8-2) and mushroom
(4062 pairs, 125-2), two neurons with the default 80 candidates, at most 50 epochs per phase."""

from __future__ import annotations

import pytest

import kimi_fann as kf

import fannref
from fannsets import fann_train_path

CASES = {"diabetes 384 x 8-2": "diabetes", "mushroom 4062 x 125-2": "mushroom"}
NEURONS, SEED = 2, 7


def start(name: str, folder) -> str:
    """A shortcut network without hidden neurons, saved: both libraries start from this file."""
    data = kf.TrainingData.load(fann_train_path(name))
    net = kf.Network([data.num_input, data.num_output], output="sigmoid_symmetric", shortcut=True, seed=SEED)
    net.cascade_max_out_epochs = 50
    net.cascade_max_cand_epochs = 50
    path = folder / f"{name}-start.net"
    net.save(path)
    return str(path)


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("engine", ["kimi_fann", "libfann"])
def test_cascade_train(benchmark, case: str, engine: str, tmp_path) -> None:
    name = CASES[case]
    path = start(name, tmp_path)
    benchmark.group = f"cascade {case}"
    benchmark.extra_info["engine"] = engine
    if engine == "kimi_fann":
        data = kf.TrainingData.load(fann_train_path(name))

        def setup():
            return (kf.Network.load(path), data), {}

        def grow(net, data):
            net.cascade_train(data, max_neurons=NEURONS, desired_error=0.0, random=kf.FannRandom(SEED))
            return net

        benchmark.pedantic(grow, setup=setup, rounds=3 if name == "diabetes" else 1)
        return
    if not fannref.available():
        pytest.skip("libfann is not installed")
    fann_data = fannref.TrainData.load(fann_train_path(name))
    grown = []

    def setup_fann():
        fann = fannref.FloatNet.load(path)
        fannref.srand(SEED)
        grown.append(fann)
        return (fann,), {}

    benchmark.pedantic(lambda fann: fann.cascadetrain_on_data(fann_data, NEURONS, 0, 0.0), setup=setup_fann,
                       rounds=3 if name == "diabetes" else 1)
    grown[-1].save(str(tmp_path / "libfann.net"))
    ours = kf.Network.load(path)
    ours.cascade_train(kf.TrainingData.load(fann_train_path(name)), max_neurons=NEURONS, desired_error=0.0,
                       random=kf.FannRandom(SEED))
    assert ours.to_fann_text() == (tmp_path / "libfann.net").read_bytes()
