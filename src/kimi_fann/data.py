"""Training data: pairs of input and desired output rows, as FANN's struct fann_train_data."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np

from . import _core
from ._arrays import as_matrix, as_seed
from ._io import PathLike, read_bytes, write_atomic
from .errors import ConfigError, ShapeError

__all__ = ["TrainingData"]


class TrainingData:
    """Input and desired output rows for training and testing networks.

    Parameters
    ----------
    inputs : array_like, shape (n, num_input)
        One row per sample. Any real dtype; stored as float32.
    outputs : array_like, shape (n, num_output) or (n,)
        Desired outputs; a 1-D array is one output per sample.

    Raises
    ------
    ShapeError
        If the arrays are not 2-D or their row counts differ.
    NumericError
        If a value is NaN or infinite.

    Examples
    --------
    >>> import numpy as np, kimi_fann as kf
    >>> data = kf.TrainingData([[0, 0], [0, 1], [1, 0], [1, 1]], [0, 1, 1, 0])
    >>> len(data), data.num_input, data.num_output
    (4, 2, 1)
    """

    __slots__ = ("_inputs", "_outputs")

    def __init__(self, inputs: Any, outputs: Any) -> None:
        x, _ = as_matrix(inputs, None, "inputs")
        y_raw = np.asarray(outputs)
        if y_raw.ndim == 1 and x.shape[0] != 1:
            y_raw = y_raw.reshape(-1, 1)
        y, _ = as_matrix(y_raw, None, "outputs")
        if x.shape[0] != y.shape[0]:
            raise ShapeError(f"inputs have {x.shape[0]} rows but outputs have {y.shape[0]}")
        if x.shape[1] == 0 or y.shape[1] == 0:
            raise ShapeError(f"rows need at least one input and one output, got {x.shape[1]} and {y.shape[1]}")
        # Own the memory: the C core trains on these buffers in place.
        self._inputs = x if x.base is None and x is not inputs else x.copy()
        self._outputs = y if y.base is None and y is not outputs else y.copy()

    @classmethod
    def _from_arrays(cls, x: np.ndarray, y: np.ndarray) -> TrainingData:
        data = cls.__new__(cls)
        data._inputs = x
        data._outputs = y
        return data

    @classmethod
    def from_callback(cls, num_data: int, num_input: int, num_output: int,
                      callback: Callable[[int, int, int], tuple[Any, Any]]) -> TrainingData:
        """Pairs made one at a time by a function (``fann_create_train_from_callback``).

        Parameters
        ----------
        num_data : int
            Number of pairs (0 or more).
        num_input, num_output : int
            Inputs and outputs per pair (1 or more).
        callback : callable
            ``callback(position, num_input, num_output)`` returns pair ``position``'s inputs and
            desired outputs (FANN's callback writes them into two arrays instead): sequences of
            ``num_input`` and ``num_output`` real numbers (a number where one is wanted). Called
            for positions 0 to ``num_data - 1``, in order.

        Returns
        -------
        TrainingData

        Raises
        ------
        ConfigError
            If a count is not an integer in range, or the callback does not return two
            sequences.
        ShapeError
            If a returned row does not have ``num_input`` or ``num_output`` values (the message
            names the position).
        NumericError
            If a value is NaN or infinite.

        Examples
        --------
        >>> import kimi_fann as kf
        >>> data = kf.TrainingData.from_callback(3, 2, 1, lambda i, n_in, n_out: ([i, -i], [i % 2]))
        >>> data.inputs.tolist(), data.outputs.ravel().tolist()
        ([[0.0, 0.0], [1.0, -1.0], [2.0, -2.0]], [0.0, 1.0, 0.0])
        """
        for name, value, low in (("num_data", num_data, 0), ("num_input", num_input, 1), ("num_output", num_output, 1)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise ConfigError(f"{name} must be an integer of at least {low}, got {value!r}")
        if not callable(callback):
            raise ConfigError(f"callback must be callable, got {type(callback).__name__}")
        x = np.empty((int(num_data), int(num_input)), dtype=np.float32)
        y = np.empty((int(num_data), int(num_output)), dtype=np.float32)
        for i in range(int(num_data)):
            pair = callback(i, int(num_input), int(num_output))
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise ConfigError(f"callback must return (inputs, outputs), got {type(pair).__name__} for pair {i}")
            for rows, values, name in ((x, pair[0], "inputs"), (y, pair[1], "outputs")):
                row = np.atleast_1d(np.asarray(values))
                if row.ndim != 1:
                    raise ShapeError(f"{name} of pair {i} must be one row of {rows.shape[1]} values, got shape {row.shape}")
                rows[i] = as_matrix(row, rows.shape[1], f"{name} of pair {i}")[0][0]
        return cls._from_arrays(x, y)

    # ---- files ----

    @classmethod
    def load(cls, path: PathLike) -> TrainingData:
        """Read a FANN ``.data`` file (``fann_read_train_from_file``).

        Parameters
        ----------
        path : str or os.PathLike

        Returns
        -------
        TrainingData

        Raises
        ------
        FormatError
            If the file is malformed; the message names the file and line of the first problem.
        FileError
            If the file cannot be read.

        Examples
        --------
        >>> import kimi_fann as kf, pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "xor.data"
        >>> _ = path.write_text("2 2 1\\n0 0\\n0\\n1 1\\n0\\n")
        >>> kf.TrainingData.load(path).inputs.tolist()
        [[0.0, 0.0], [1.0, 1.0]]
        """
        return cls.from_fann_text(read_bytes(path), source=os.fspath(path))

    @classmethod
    def from_fann_text(cls, text: bytes | str, *, source: str = "<text>") -> TrainingData:
        """Parse FANN ``.data`` text.

        Parameters
        ----------
        text : bytes or str
            A header line ``pairs inputs outputs``, then for each pair a line of inputs and a
            line of outputs.
        source : str
            Name used in error messages.

        Returns
        -------
        TrainingData

        Raises
        ------
        FormatError
            If the text is malformed; the message names ``source`` and the line.

        Examples
        --------
        >>> import kimi_fann as kf
        >>> kf.TrainingData.from_fann_text("1 2 1\\n0.5 1\\n1\\n").inputs.tolist()
        [[0.5, 1.0]]
        """
        raw = text.encode() if isinstance(text, str) else bytes(text)
        n, n_in, n_out, inputs, outputs = _core.parse_data(raw, source)
        x = np.frombuffer(inputs, dtype=np.float32).reshape(n, n_in)
        y = np.frombuffer(outputs, dtype=np.float32).reshape(n, n_out)
        return cls._from_arrays(x, y)

    def to_fann_text(self) -> bytes:
        """This data set as FANN ``.data`` text, each value in the shortest decimal that reads back
        as the same float.

        Returns
        -------
        bytes

        Examples
        --------
        >>> import kimi_fann as kf
        >>> kf.TrainingData([[0.5, 1]], [1]).to_fann_text()
        b'1 2 1\\n0.5 1 \\n1 \\n'
        """
        return _core.format_data(self._inputs, self._outputs)

    def save(self, path: PathLike) -> None:
        """Write a FANN ``.data`` file (``fann_save_train``), atomically: a crash never leaves
        half a file.

        Parameters
        ----------
        path : str or os.PathLike

        Returns
        -------
        None

        Raises
        ------
        FileError
            If the file cannot be written.

        Examples
        --------
        >>> import pathlib, tempfile, kimi_fann as kf
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "pairs.data"
        >>> kf.TrainingData([[0, 1]], [1]).save(path)
        >>> len(kf.TrainingData.load(path))
        1
        """
        write_atomic(path, self.to_fann_text())

    # ---- contents ----

    @property
    def inputs(self) -> np.ndarray:
        """The input rows, float32 of shape (n, num_input) (the data set's own array)."""
        return self._inputs

    @property
    def outputs(self) -> np.ndarray:
        """The desired output rows, float32 of shape (n, num_output) (the data set's own array)."""
        return self._outputs

    @property
    def num_input(self) -> int:
        """Inputs per pair (``fann_num_input_train_data``)."""
        return int(self._inputs.shape[1])

    @property
    def num_output(self) -> int:
        """Outputs per pair (``fann_num_output_train_data``)."""
        return int(self._outputs.shape[1])

    def __len__(self) -> int:
        return int(self._inputs.shape[0])

    def __repr__(self) -> str:
        return f"TrainingData(n={len(self)}, num_input={self.num_input}, num_output={self.num_output})"

    def copy(self) -> TrainingData:
        """A copy that shares no memory with this one (``fann_duplicate_train_data``).

        Returns
        -------
        TrainingData

        Examples
        --------
        >>> import kimi_fann as kf
        >>> data = kf.TrainingData([[0.0]], [1.0])
        >>> twin = data.copy()
        >>> twin.inputs[0, 0] = 5
        >>> data.inputs.tolist()
        [[0.0]]
        """
        return TrainingData._from_arrays(self._inputs.copy(), self._outputs.copy())

    # copy.copy too: the pairs change in place (shuffle, scale), so no two data sets share them
    def __copy__(self) -> TrainingData:
        return self.copy()

    def __deepcopy__(self, memo: dict) -> TrainingData:
        return self.copy()

    def __getstate__(self) -> tuple[np.ndarray, np.ndarray]:
        return self._inputs, self._outputs

    def __setstate__(self, state: tuple[np.ndarray, np.ndarray]) -> None:
        # own, writable and aligned arrays again (pickle's and Dask's out-of-band buffers are
        # views of a byte stream, read-only or starting at any byte)
        self._inputs, self._outputs = (np.require(a, np.float32, ["C", "A", "W", "O"]) for a in state)

    # ---- FANN's operations ----

    def shuffle(self, *, seed: int = 0) -> None:
        """Permute the pairs in place, the same way for the same seed (``fann_shuffle_train_data``).

        Parameters
        ----------
        seed : int
            Seed of the permutation.

        Returns
        -------
        None

        Examples
        --------
        >>> import kimi_fann as kf
        >>> data = kf.TrainingData([[0], [1], [2], [3]], [0, 1, 2, 3])
        >>> data.shuffle(seed=1)
        >>> sorted(data.inputs.ravel().tolist()), bool((data.inputs == data.outputs).all())
        ([0.0, 1.0, 2.0, 3.0], True)
        """
        _core.shuffle_data(self._inputs, self._outputs, as_seed(seed))

    def subset(self, start: int, length: int) -> TrainingData:
        """A copy of ``length`` pairs from ``start`` (``fann_subset_train_data``).

        Parameters
        ----------
        start, length : int

        Returns
        -------
        TrainingData

        Raises
        ------
        ConfigError
            If the range is outside the data set.

        Examples
        --------
        >>> import kimi_fann as kf
        >>> data = kf.TrainingData([[0], [1], [2]], [0, 1, 2])
        >>> data.subset(1, 2).inputs.ravel().tolist()
        [1.0, 2.0]
        """
        if start < 0 or length < 0 or start + length > len(self):
            raise ConfigError(f"subset [{start}, {start + length}) is outside the {len(self)} pairs")
        end = start + length
        return TrainingData._from_arrays(self._inputs[start:end].copy(), self._outputs[start:end].copy())

    def subset_rows(self, rows: Any) -> TrainingData:
        """A copy of the pairs at the given row indices (or boolean mask).

        Parameters
        ----------
        rows : array_like of int or bool

        Returns
        -------
        TrainingData

        Raises
        ------
        ConfigError
            If an index is outside the data set.

        Examples
        --------
        >>> import kimi_fann as kf
        >>> data = kf.TrainingData([[0], [1], [2]], [0, 1, 2])
        >>> data.subset_rows([2, 0]).inputs.ravel().tolist()
        [2.0, 0.0]
        """
        index = np.asarray(rows)
        if index.size == 0 and index.dtype.kind not in "iub":  # [] is an empty list of rows
            index = index.astype(np.intp)
        try:
            return TrainingData._from_arrays(self._inputs[index].copy(), self._outputs[index].copy())
        except IndexError as exc:
            raise ConfigError(f"rows are outside the {len(self)} pairs: {exc}") from exc

    def merge(self, other: TrainingData) -> TrainingData:
        """This data set followed by other's pairs, as a new data set (``fann_merge_train_data``).

        Parameters
        ----------
        other : TrainingData
            Pairs of the same sizes.

        Returns
        -------
        TrainingData

        Raises
        ------
        ConfigError
            If ``other`` is not a TrainingData.
        ShapeError
            If its sizes differ.

        Examples
        --------
        >>> import kimi_fann as kf
        >>> a, b = kf.TrainingData([[0]], [0]), kf.TrainingData([[1], [2]], [1, 2])
        >>> len(a.merge(b))
        3
        """
        if not isinstance(other, TrainingData):
            raise ConfigError(f"can only merge TrainingData, got {type(other).__name__}")
        if (other.num_input, other.num_output) != (self.num_input, self.num_output):
            raise ShapeError(
                f"cannot merge data of {other.num_input} inputs/{other.num_output} outputs into "
                f"{self.num_input}/{self.num_output}"
            )
        return TrainingData._from_arrays(
            np.concatenate([self._inputs, other._inputs]), np.concatenate([self._outputs, other._outputs])
        )

    def scale_inputs(self, low: float, high: float) -> None:
        """Map all inputs linearly onto [low, high] in place, one range for the whole block
        (``fann_scale_input_train_data``).

        Parameters
        ----------
        low, high : float

        Returns
        -------
        None

        Examples
        --------
        >>> import kimi_fann as kf
        >>> data = kf.TrainingData([[0, 5], [10, 0]], [0, 1])
        >>> data.scale_inputs(-1, 1)
        >>> data.inputs.tolist()
        [[-1.0, 0.0], [1.0, -1.0]]
        """
        _core.scale_data(self._inputs, low, high)

    def scale_outputs(self, low: float, high: float) -> None:
        """Map all outputs onto [low, high] in place (``fann_scale_output_train_data``).

        Parameters
        ----------
        low, high : float

        Returns
        -------
        None

        Examples
        --------
        >>> import kimi_fann as kf
        >>> data = kf.TrainingData([[0], [1]], [0, 4])
        >>> data.scale_outputs(0, 1)
        >>> data.outputs.ravel().tolist()
        [0.0, 1.0]
        """
        _core.scale_data(self._outputs, low, high)

    def scale(self, low: float, high: float) -> None:
        """Scale inputs and outputs in place, each block on its own (``fann_scale_train_data``).

        Parameters
        ----------
        low, high : float

        Returns
        -------
        None

        Examples
        --------
        >>> import kimi_fann as kf
        >>> data = kf.TrainingData([[0], [2]], [0, 4])
        >>> data.scale(-1, 1)
        >>> data.inputs.ravel().tolist(), data.outputs.ravel().tolist()
        ([-1.0, 1.0], [-1.0, 1.0])
        """
        self.scale_inputs(low, high)
        self.scale_outputs(low, high)

