"""Small data sets shipped inside the package (FANN's benchmark sets), and the demo's teacher."""

from __future__ import annotations

import gzip
from importlib import resources
from typing import Any

from ..data import TrainingData

__all__ = ["load", "teacher", "NAMES"]

#: Data sets available offline, each a (train, test) pair of FANN .data files.
NAMES: tuple[str, ...] = ("diabetes", "thyroid", "two-spiral")


def _read(name: str) -> bytes:
    folder = resources.files(__name__)
    plain = folder.joinpath(name)
    if plain.is_file():
        return plain.read_bytes()
    return gzip.decompress(folder.joinpath(name + ".gz").read_bytes())


def load(name: str) -> tuple[TrainingData, TrainingData]:
    """The (train, test) split of a bundled data set.

    - ``diabetes``: PROBEN1's Pima Indians diabetes set as FANN ships it: 8 inputs scaled to
      [0, 1], 2 one-hot outputs, 384 training and 384 test pairs.
    - ``thyroid``: PROBEN1's thyroid set as FANN ships it: 21 inputs in [0, 1], 3 one-hot
      classes (92.5% of the pairs in the third), 3600 training and 3600 test pairs.
    - ``two-spiral``: the two interlocked spirals of Lang and Witbrock as FANN ships them (the
      classic cascade-correlation benchmark): 2 inputs in [0, 1], 1 output (0 or 1), 193
      training and 193 test pairs.

    Parameters
    ----------
    name : str
        One of :data:`NAMES`.

    Returns
    -------
    (TrainingData, TrainingData)
        The training and test pairs.

    Raises
    ------
    ConfigError
        For an unknown name.

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
    return (
        TrainingData.from_fann_text(_read(f"{name}.train"), source=f"{name}.train"),
        TrainingData.from_fann_text(_read(f"{name}.test"), source=f"{name}.test"),
    )


def teacher() -> Any:
    """The float network ``kimi-fann demo`` distils: 21-256-128-3 (38,915 parameters) trained
    with RPROP on ``thyroid`` (``tools/make_demo_teacher.py`` made it).

    Returns
    -------
    Network

    Examples
    --------
    >>> from kimi_fann import datasets
    >>> datasets.teacher().layers
    (21, 256, 128, 3)
    """
    from .. import kfn

    return kfn.loads(resources.files(__name__).joinpath("thyroid-teacher.kfn").read_bytes(),
                     source="thyroid-teacher.kfn")
