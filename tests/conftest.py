"""Shared fixtures."""

from __future__ import annotations

import pytest

import kimi_fann as kf


@pytest.fixture
def xor() -> kf.TrainingData:
    """XOR with symmetric (-1/1) coding."""
    return kf.TrainingData([[-1, -1], [-1, 1], [1, -1], [1, 1]], [-1, 1, 1, -1])

