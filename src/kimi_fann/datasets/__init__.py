"""Small data sets shipped inside the package (FANN's benchmark sets)."""

from __future__ import annotations

from importlib import resources

from ..data import TrainingData

__all__ = ["load", "NAMES"]

#: Data sets available offline: (train, test) pairs in FANN .data format.
NAMES: tuple[str, ...] = ("diabetes",)


def load(name: str) -> tuple[TrainingData, TrainingData]:
    """The (train, test) split of a bundled data set.

    ``diabetes`` is PROBEN1's Pima Indians diabetes set as FANN ships it: 8 inputs scaled to
    [0, 1], 2 one-hot outputs, 384 training and 384 test pairs.

    Examples
    --------
    >>> from kimi_fann import datasets
    >>> train, test = datasets.load("diabetes")
    >>> len(train), train.num_input, train.num_output
    (384, 8, 2)
    """
    if name not in NAMES:
        from ..errors import ConfigError

        raise ConfigError(f"unknown data set {name!r}; available: {', '.join(NAMES)}")
    folder = resources.files(__name__)
    return (
        TrainingData.from_fann_text(folder.joinpath(f"{name}.train").read_bytes(), source=f"{name}.train"),
        TrainingData.from_fann_text(folder.joinpath(f"{name}.test").read_bytes(), source=f"{name}.test"),
    )
