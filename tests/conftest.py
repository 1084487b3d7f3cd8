"""Shared fixtures: FANN's benchmark data sets that ship with the tests."""

from __future__ import annotations

from pathlib import Path

import pytest

import kimi_fann as kf

DATA_DIR = Path(__file__).parent / "data"


@pytest.fixture
def xor() -> kf.TrainingData:
    """XOR with symmetric (-1/1) coding."""
    return kf.TrainingData([[-1, -1], [-1, 1], [1, -1], [1, 1]], [-1, 1, 1, -1])


def fann_dataset(name: str) -> tuple[kf.TrainingData, kf.TrainingData]:
    """(train, test) of one of FANN's benchmark sets copied under tests/data."""
    return kf.TrainingData.load(DATA_DIR / f"{name}.train"), kf.TrainingData.load(DATA_DIR / f"{name}.test")
