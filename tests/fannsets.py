"""FANN's benchmark data sets copied under tests/data (train/test splits in .data format)."""

from __future__ import annotations

from pathlib import Path

import kimi_fann as kf

DATA_DIR = Path(__file__).parent / "data"
NAMES = ("thyroid", "mushroom", "building", "gene")
#: Smaller sets, training pairs only (cascade parity runs them in libfann too).
SMALL_NAMES = ("diabetes", "two-spiral", "parity8", "robot", "soybean")


def fann_dataset(name: str) -> tuple[kf.TrainingData, kf.TrainingData]:
    """(train, test) of one of FANN's benchmark sets."""
    return kf.TrainingData.load(DATA_DIR / f"{name}.train"), kf.TrainingData.load(DATA_DIR / f"{name}.test")


def fann_train_path(name: str) -> Path:
    """The training file of one of FANN's benchmark sets (NAMES or SMALL_NAMES)."""
    return DATA_DIR / f"{name}.train"
