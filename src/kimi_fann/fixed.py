"""Fixed-point networks: FANN's FANN_FIX_2.0 (bit-exact with libfixedfann 2.2) and kimi-fann's
own Q8 / Q16 engine (from Network.quantize)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from . import _core
from ._arrays import as_matrix
from ._io import PathLike, read_bytes, write_atomic
from ._threads import FAST_ROWS, one_thread, resolve, run_split
from .errors import ConfigError, ShapeError
from .quantize import QuantizationReport, build
from .simd import path_number

__all__ = ["FixedNetwork", "FIXED_ACTIVATIONS"]

#: Activations libfixedfann 2.2 computes in fixed point (it reports an error for the others).
FIXED_ACTIVATIONS: tuple[str, ...] = (
    "linear", "threshold", "threshold_symmetric", "sigmoid", "sigmoid_stepwise", "sigmoid_symmetric",
    "sigmoid_symmetric_stepwise", "linear_piece", "linear_piece_symmetric",
)
_NAMES = tuple(_core.activation_names())


class FixedNetwork:
    """A network run in integer arithmetic: FANN's fixed point, or kimi-fann's Q8 / Q16.

    - ``format == "fann"``: what ``fann_save_to_fixed`` writes (from :meth:`Network.to_fixed` or
      :meth:`load`). :meth:`run_raw` returns exactly the integers libfixedfann 2.2's
      ``fann_run`` returns, including its truncating products and stepwise sigmoids.
    - ``format == "q8"`` / ``"q16"``: from :meth:`Network.quantize`. uint8 (Q8) or int16 (Q16)
      activations, int8 or int16 weights with a scale per output neuron, int32 accumulators
      proven not to overflow, integer-only requantization, and activation tables exact to one
      output step. The integers are identical on every SIMD path. Inputs beyond the calibrated
      range saturate. :attr:`report` holds the quantizer's measurements.

    Examples
    --------
    >>> import numpy as np, kimi_fann as kf
    >>> net = kf.Network([2, 3, 1], hidden="sigmoid_symmetric", output="sigmoid_symmetric", seed=0)
    >>> fixed = net.to_fixed()
    >>> fixed.format, fixed.decimal_point, fixed.multiplier
    ('fann', 15, 32768)
    >>> bool(np.abs(fixed.run([1.0, -0.5]) - net.run([1.0, -0.5])).max() < 0.02)
    True
    >>> x = np.random.default_rng(0).uniform(-1, 1, (100, 2))
    >>> q = net.quantize(calibration=x)
    >>> q.format, q.run_raw([0, 255]).dtype
    ('q8', dtype('int32'))
    >>> bool(q.report.max_abs_error < 0.02)
    True
    """

    __slots__ = ("_net", "_format", "_state", "_report")

    def __init__(self) -> None:
        raise TypeError("create a FixedNetwork with Network.to_fixed(), Network.quantize() or FixedNetwork.load()")

    @classmethod
    def _wrap(cls, net: Any, format: str = "fann", state: dict | None = None,
              report: QuantizationReport | None = None) -> FixedNetwork:
        self = object.__new__(cls)
        self._net, self._format, self._state, self._report = net, format, state, report
        return self

    # ---- files ----

    @classmethod
    def load(cls, path: PathLike) -> FixedNetwork:
        """Read a FANN_FIX_2.0 ``.net`` file (as libfixedfann's ``fann_create_from_file``).

        Parameters
        ----------
        path : str or os.PathLike

        Returns
        -------
        FixedNetwork
            With ``format == "fann"``.

        Raises
        ------
        FormatError
            If the file is malformed (or a float .net file); the message names file and line.
        FileError
            If the file cannot be read.

        Examples
        --------
        >>> import pathlib, tempfile, kimi_fann as kf
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "fixed.net"
        >>> _ = kf.Network([2, 3, 1], seed=0).save_fixed(path)
        >>> kf.FixedNetwork.load(path).layers
        (2, 3, 1)
        """
        return cls.from_fann_text(read_bytes(path), source=os.fspath(path))

    @classmethod
    def from_fann_text(cls, text: bytes | str, *, source: str = "<text>") -> FixedNetwork:
        """A FANN fixed-point network from FANN_FIX_2.0 text.

        Parameters
        ----------
        text : bytes or str
        source : str
            Name used in error messages.

        Returns
        -------
        FixedNetwork

        Raises
        ------
        FormatError
            If the text is malformed.

        Examples
        --------
        >>> import kimi_fann as kf
        >>> text = kf.Network([2, 1], seed=0).to_fixed().to_fann_text()
        >>> kf.FixedNetwork.from_fann_text(text).num_input
        2
        """
        raw = text.encode() if isinstance(text, str) else bytes(text)
        return cls._wrap(_core.FixNet.parse_fann(raw, source))

    def _fann_only(self, what: str) -> None:
        if self._format != "fann":
            raise ConfigError(f"{what} is for FANN fixed-point networks; this one is {self._format}")

    def to_fann_text(self) -> bytes:
        """FANN_FIX_2.0 text, as ``fann_save_to_fixed`` writes it (FANN format only).

        Returns
        -------
        bytes

        Raises
        ------
        ConfigError
            For a Q8/Q16 network.

        Examples
        --------
        >>> import kimi_fann as kf
        >>> kf.Network([2, 1]).to_fixed().to_fann_text().splitlines()[0]
        b'FANN_FIX_2.0'
        """
        self._fann_only("to_fann_text")
        return self._net.format_fann()

    def save(self, path: PathLike) -> None:
        """Write a FANN_FIX_2.0 file, atomically (FANN format only).

        Q8/Q16 networks go into ``.kfn`` files (:func:`kimi_fann.save`) or pickle.

        Parameters
        ----------
        path : str or os.PathLike

        Returns
        -------
        None

        Raises
        ------
        ConfigError
            For a Q8/Q16 network.
        FileError
            If the file cannot be written.

        Examples
        --------
        >>> import pathlib, tempfile, kimi_fann as kf
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "fixed.net"
        >>> kf.Network([2, 1]).to_fixed().save(path)
        >>> path.read_text().startswith("FANN_FIX_2.0")
        True
        """
        write_atomic(path, self.to_fann_text())

    def __getstate__(self) -> dict:
        if self._format == "fann":
            return {"format": "fann", "fann": self.to_fann_text()}
        return {"format": self._format, "state": self._state, "report": self._report}

    def __setstate__(self, state: dict) -> None:
        if state["format"] == "fann":
            self._net, self._format, self._state, self._report = (
                _core.FixNet.parse_fann(state["fann"], "<pickle>"), "fann", None, None)
        else:
            self._net, self._format = build(state["state"]), state["format"]
            self._state, self._report = state["state"], state["report"]

    # ---- structure ----

    @property
    def format(self) -> str:
        """``"fann"``, ``"q8"`` or ``"q16"``."""
        return self._format

    @property
    def report(self) -> QuantizationReport | None:
        """The quantizer's measurements (Q8/Q16 networks), else None."""
        return self._report

    @property
    def layers(self) -> tuple[int, ...]:
        """Neurons per layer, bias neurons not counted."""
        if self._format == "fann":
            return tuple(self._net.layer_sizes())
        weights = [layer[0] for layer in self._state["layers"]]
        return (int(weights[0].shape[1]), *(int(w.shape[0]) for w in weights))

    @property
    def num_input(self) -> int:
        """Number of inputs."""
        return int(self._net.num_input)

    @property
    def num_output(self) -> int:
        """Number of outputs."""
        return int(self._net.num_output)

    @property
    def decimal_point(self) -> int:
        """Fractional bits of every value (FANN format only)."""
        self._fann_only("decimal_point")
        return int(self._net.decimal_point)

    @property
    def multiplier(self) -> int:
        """The integer that stands for 1.0, ``1 << decimal_point`` (FANN format only)."""
        self._fann_only("multiplier")
        return int(self._net.multiplier)

    @property
    def input_quantization(self) -> tuple[np.ndarray, np.ndarray]:
        """(scale, zero) per input of a Q8/Q16 network, with raw = floor(x / scale + 0.5) + zero."""
        if self._format == "fann":
            return np.full(self.num_input, 1.0 / self.multiplier), np.zeros(self.num_input, dtype=np.int32)
        return (1.0 / self._state["input_inv_scale"]).astype(np.float64), self._state["input_zero"].copy()

    @property
    def output_quantization(self) -> tuple[float, int]:
        """(scale, zero) of the outputs, with value = scale * (raw - zero)."""
        if self._format == "fann":
            return 1.0 / self.multiplier, 0
        return self._state["output_scale"], self._state["output_zero"]

    def __repr__(self) -> str:
        detail = f"decimal_point={self.decimal_point}" if self._format == "fann" else \
            f"weight_bits={self._state['weight_bits']}"
        return f"FixedNetwork(layers={list(self.layers)}, format={self._format!r}, {detail})"

    # ---- running ----

    def run_raw(self, inputs: Any, *, threads: int | None = None, simd: str | None = None) -> np.ndarray:
        """Run integer inputs, return int32 outputs: one sample (1-D) or a batch (2-D).

        Parameters
        ----------
        inputs : array_like of integers, shape (num_input,) or (n, num_input)
            FANN format: value x stands for x / multiplier, and the outputs are exactly
            libfixedfann's. Q8: 0..255; Q16: -32768..32767 (see :attr:`input_quantization`).
        threads : int, optional
            As in :meth:`run`.
        simd : str, optional
            A SIMD path for Q8/Q16 (None: the active one). Neither option changes a single
            integer of the result.

        Returns
        -------
        numpy.ndarray of int32, shape (num_output,) or (n, num_output)

        Raises
        ------
        ShapeError
            For float inputs, a wrong number of columns, or values outside the format's range.
        ConfigError
            For an unknown or unsupported SIMD path, or a FANN network with activations
            libfixedfann cannot run.

        Examples
        --------
        >>> import kimi_fann as kf
        >>> fixed = kf.Network([2, 3, 1], seed=0).to_fixed()
        >>> fixed.run_raw([fixed.multiplier, 0]).dtype
        dtype('int32')
        """
        array = np.asarray(inputs)
        if array.dtype.kind not in "iu":
            raise ShapeError(f"run_raw takes integers, got dtype {array.dtype}; use run() for floats")
        single = array.ndim == 1
        matrix = array.reshape(1, -1) if single else array
        if matrix.ndim != 2 or matrix.shape[1] != self.num_input:
            raise ShapeError(f"inputs must have {self.num_input} values per row, got shape {array.shape}")
        lo, hi = (-(2**31), 2**31 - 1) if self._format == "fann" else \
            ((0, 255) if self._format == "q8" else (-32768, 32767))
        if matrix.size and (matrix.min() < lo or matrix.max() > hi):
            raise ShapeError(f"{self._format} inputs must lie in [{lo}, {hi}]")
        x = np.ascontiguousarray(matrix, dtype=np.int32)
        y = np.empty((x.shape[0], self.num_output), dtype=np.int32)
        count = resolve(threads, x.shape[0])
        if self._format == "fann":
            try:
                run_split(self._net.run, x, y, count)
            except ConfigError as exc:
                raise ConfigError(self._unsupported_reason()) from exc
        else:
            path = path_number(simd)
            run_split(lambda xs, ys: self._net.run_raw(xs, ys, path), x, y, count)
        return y[0] if single else y

    def run(self, inputs: Any, *, threads: int | None = None, simd: str | None = None) -> np.ndarray:
        """Run float inputs, return float32 outputs, with integer arithmetic inside.

        Parameters
        ----------
        inputs : array_like, shape (num_input,) or (n, num_input)
            Rounded to the nearest representable value; values beyond the calibrated range
            (Q8/Q16) or the int32 range (FANN) saturate.
        threads : int, optional
            Threads for a batch (None: all cores for batches of a few thousand rows and more);
            the results do not depend on it.
        simd : str, optional
            A SIMD path for Q8/Q16 (None: the active one).

        Returns
        -------
        numpy.ndarray of float32, shape (num_output,) or (n, num_output)

        Raises
        ------
        ShapeError
            If the inputs do not have ``num_input`` columns.
        NumericError
            If an input is NaN or infinite.
        ConfigError
            For an unknown or unsupported SIMD path.

        Examples
        --------
        >>> import numpy as np, kimi_fann as kf
        >>> net = kf.Network([2, 3, 1], seed=0)
        >>> q16 = net.quantize(calibration=np.random.default_rng(0).uniform(-1, 1, (50, 2)), activation_bits=16)
        >>> bool(abs(q16.run([0.5, -0.5]) - net.run([0.5, -0.5]))[0] < 0.01)
        True
        """
        if self._format != "fann" and (threads is None or one_thread(threads)):  # the common case without calls
            # float32 C-contiguous input small enough for one thread: straight into C
            fast = self._net.run_fast(inputs, 0 if simd is None else path_number(simd),
                                      FAST_ROWS if threads is None else -1)
            if fast is not None:
                return fast
        x, single = as_matrix(inputs, self.num_input, "inputs")
        count = resolve(threads, x.shape[0])
        if self._format == "fann":
            scaled = np.clip(np.rint(x.astype(np.float64) * self.multiplier), -(2**31), 2**31 - 1)
            y = self.run_raw(scaled.astype(np.int32), threads=count).astype(np.float32) / np.float32(self.multiplier)
        else:
            y = np.empty((x.shape[0], self.num_output), dtype=np.float32)
            path = path_number(simd)
            run_split(lambda xs, ys: self._net.run(xs, ys, path), x, y, count)
        return y[0] if single else y

    def _unsupported_reason(self) -> str:
        activations = self._net.activations()
        for neuron, code in enumerate(activations):
            if _NAMES[code] not in FIXED_ACTIVATIONS and neuron >= self.num_input + 1:
                return (f"neuron {neuron} uses {_NAMES[code]}, which libfixedfann cannot run in fixed point "
                        f"(supported: {', '.join(FIXED_ACTIVATIONS)})")
        return "a stepwise sigmoid neuron has steepness 0 (libfixedfann would divide by zero)"
