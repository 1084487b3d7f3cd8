"""Fixed-point networks, two kinds of one abstract :class:`FixedNetwork`:

- :class:`FannFixedNetwork`: FANN's FANN_FIX_2.0, bit-exact with libfixedfann 2.2;
- :class:`QuantizedNetwork`: kimi-fann's own Q8 / Q16 engine (from ``Network.quantize``).
"""

from __future__ import annotations

import abc
import os
from typing import Any

import numpy as np

from . import _core
from ._arrays import aligned, as_matrix
from ._core import resolve_threads as resolve
from ._io import PathLike, is_container, read_bytes, save_container, write_atomic
from .descriptions import ACTIVATIONS, QuantizationReport, QuantizedSpec, Topology
from .errors import ConfigError, ShapeError
from .simd import path_number

__all__ = ["FixedNetwork", "FannFixedNetwork", "QuantizedNetwork", "FIXED_ACTIVATIONS"]

#: Activations libfixedfann 2.2 computes in fixed point (it reports an error for the others).
FIXED_ACTIVATIONS: tuple[str, ...] = tuple(
    name for code, name in enumerate(ACTIVATIONS) if _core.fixed_activation_supported(code))


def _raw_inputs(inputs: Any, columns: int, lo: int, hi: int, what: str) -> tuple[np.ndarray, bool]:
    """(int32 C-contiguous 2-D array, was_1d) of integer inputs within [lo, hi]; ShapeError for
    anything else (another dtype or shape, or a value outside the model's input range)."""
    array = np.asarray(inputs)
    if array.dtype.kind not in "iu":
        raise ShapeError(f"run_raw takes integers, got dtype {array.dtype}; use run() for floats")
    single = array.ndim == 1
    matrix = array.reshape(1, -1) if single else array
    if matrix.ndim != 2 or matrix.shape[1] != columns:
        raise ShapeError(f"inputs must have {columns} values per row, got shape {array.shape}")
    if matrix.size and (matrix.min() < lo or matrix.max() > hi):
        raise ShapeError(f"{what} inputs must lie in [{lo}, {hi}]")
    return aligned(matrix, np.int32), single


class FixedNetwork(abc.ABC):
    """A network run in integer arithmetic: one of two kinds.

    - :class:`FannFixedNetwork` (``format == "fann"``): what ``fann_save_to_fixed`` writes,
      from :meth:`Network.to_fixed` or :meth:`FixedNetwork.load`; run exactly as libfixedfann
      2.2 runs it.
    - :class:`QuantizedNetwork` (``format`` ``"q8"`` or ``"q16"``): from
      :meth:`Network.quantize`; kimi-fann's integer engine.

    Both run float inputs (:meth:`run`) and integer ones (:meth:`run_raw`), and say how their
    integers stand for values (:attr:`input_quantization`, :attr:`output_quantization`).

    Examples
    --------
    >>> import numpy as np, kimi_fann as kf
    >>> net = kf.Network([2, 3, 1], hidden="sigmoid_symmetric", output="sigmoid_symmetric", seed=0)
    >>> fixed = net.to_fixed()
    >>> isinstance(fixed, kf.FixedNetwork), fixed.format, fixed.decimal_point
    (True, 'fann', 15)
    >>> q = net.quantize(calibration=np.random.default_rng(0).uniform(-1, 1, (100, 2)))
    >>> isinstance(q, kf.FixedNetwork), q.format, q.run_raw([0, 255]).dtype
    (True, 'q8', dtype('int32'))
    """

    __slots__ = ("_net",)  # the compiled network (kimi_fann._core.FixNet or QNet)

    # ---- files ----

    @classmethod
    def load(cls, path: PathLike) -> FannFixedNetwork:
        """Read a FANN_FIX_2.0 ``.net`` file (as libfixedfann's ``fann_create_from_file``).

        Q8/Q16 networks live in ``.kfn`` files: :func:`kimi_fann.load`.

        Parameters
        ----------
        path : str or os.PathLike

        Returns
        -------
        FannFixedNetwork

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
        return FannFixedNetwork.from_fann_text(read_bytes(path), source=os.fspath(path))

    @classmethod
    def from_fann_text(cls, text: bytes | str, *, source: str = "<text>") -> FannFixedNetwork:
        """A FANN fixed-point network from FANN_FIX_2.0 text.

        Parameters
        ----------
        text : bytes or str
        source : str
            Name used in error messages.

        Returns
        -------
        FannFixedNetwork

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
        return FannFixedNetwork(_core.FixNet.parse_fann(raw, source))

    @abc.abstractmethod
    def save(self, path: PathLike) -> None:
        """Write the network to a FANN_FIX_2.0 file (a :class:`QuantizedNetwork` refuses: it is
        saved in a ``.kfn`` file by :func:`kimi_fann.save`).

        Parameters
        ----------
        path : str or os.PathLike

        Returns
        -------
        None

        Examples
        --------
        >>> import pathlib, tempfile, kimi_fann as kf
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "fixed.net"
        >>> kf.Network([2, 1]).to_fixed().save(path)
        >>> kf.FixedNetwork.load(path).num_input
        2
        """

    # ---- structure ----

    @property
    @abc.abstractmethod
    def format(self) -> str:
        """``"fann"``, ``"q8"`` or ``"q16"``."""

    @property
    def report(self) -> QuantizationReport | None:
        """The quantizer's measurements (a :class:`QuantizedNetwork` made by
        :meth:`Network.quantize`), else None."""
        return None

    @property
    @abc.abstractmethod
    def layers(self) -> tuple[int, ...]:
        """Neurons per layer, bias neurons not counted."""

    @property
    def num_input(self) -> int:
        """Number of inputs."""
        return int(self._net.num_input)

    @property
    def num_output(self) -> int:
        """Number of outputs."""
        return int(self._net.num_output)

    @property
    @abc.abstractmethod
    def input_quantization(self) -> tuple[np.ndarray, np.ndarray]:
        """(scale, zero) per input, with raw = floor(x / scale + 0.5) + zero."""

    @property
    @abc.abstractmethod
    def output_quantization(self) -> tuple[float, int]:
        """(scale, zero) of the outputs, with value = scale * (raw - zero)."""

    # ---- running ----

    @abc.abstractmethod
    def run_raw(self, inputs: Any, *, threads: int | None = None, simd: str | None = None) -> np.ndarray:
        """Run integer inputs, return int32 outputs: one sample (1-D) or a batch (2-D).

        Parameters
        ----------
        inputs : array_like of integers, shape (num_input,) or (n, num_input)
            FANN fixed point: value x stands for x / multiplier, and the outputs are exactly
            libfixedfann's. Q8: 0..255; Q16: -32768..32767 (see :attr:`input_quantization`).
        threads : int, optional
            As in :meth:`run`.
        simd : str, optional
            A SIMD path for Q8/Q16 (None: the active one). Neither option changes a single
            integer of the result.

        Returns
        -------
        numpy.ndarray of int32, shape (num_output,) or (n, num_output)

        Examples
        --------
        >>> import kimi_fann as kf
        >>> fixed = kf.Network([2, 3, 1], seed=0).to_fixed()
        >>> fixed.run_raw([fixed.multiplier, 0]).dtype
        dtype('int32')
        """

    @abc.abstractmethod
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

        Examples
        --------
        >>> import numpy as np, kimi_fann as kf
        >>> net = kf.Network([2, 3, 1], seed=0)
        >>> q16 = net.quantize(calibration=np.random.default_rng(0).uniform(-1, 1, (50, 2)), activation_bits=16)
        >>> bool(abs(q16.run([0.5, -0.5]) - net.run([0.5, -0.5]))[0] < 0.01)
        True
        """


class FannFixedNetwork(FixedNetwork):
    """A FANN_FIX_2.0 network: integers with :attr:`decimal_point` fractional bits, run exactly
    as libfixedfann 2.2's ``fann_run`` runs them (truncating products, its stepwise sigmoids).
    Activations libfixedfann cannot run (elliot, gaussian, sin, cos, relu) are refused when
    the network runs.

    Made by :meth:`Network.to_fixed`, :meth:`FixedNetwork.load` and
    :meth:`FixedNetwork.from_fann_text`.

    Parameters
    ----------
    core : kimi_fann._core.FixNet
        The compiled network it owns.

    Examples
    --------
    >>> import numpy as np, kimi_fann as kf
    >>> net = kf.Network([2, 3, 1], hidden="sigmoid_symmetric", output="sigmoid_symmetric", seed=0)
    >>> fixed = net.to_fixed()
    >>> type(fixed).__name__, fixed.decimal_point, fixed.multiplier
    ('FannFixedNetwork', 15, 32768)
    >>> bool(np.abs(fixed.run([1.0, -0.5]) - net.run([1.0, -0.5])).max() < 0.02)
    True
    """

    __slots__ = ()

    def __init__(self, core: _core.FixNet) -> None:
        if not isinstance(core, _core.FixNet):
            raise ConfigError(f"a FannFixedNetwork owns a compiled FixNet, got {type(core).__name__}; make one with "
                              "Network.to_fixed() or FixedNetwork.load()")
        self._net = core

    def __reduce__(self) -> tuple[Any, ...]:
        return FixedNetwork.from_fann_text, (self.to_fann_text(),)

    # ---- files ----

    def to_fann_text(self) -> bytes:
        """FANN_FIX_2.0 text, as ``fann_save_to_fixed`` writes it.

        Returns
        -------
        bytes

        Examples
        --------
        >>> import kimi_fann as kf
        >>> kf.Network([2, 1]).to_fixed().to_fann_text().splitlines()[0]
        b'FANN_FIX_2.0'
        """
        return self._net.format_fann()

    def save(self, path: PathLike) -> None:
        """Write a FANN_FIX_2.0 file, atomically; for a name ending in ``.kfn``, the native
        container (:func:`kimi_fann.save`). The format follows the name.

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
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "fixed.net"
        >>> kf.Network([2, 1]).to_fixed().save(path)
        >>> path.read_text().startswith("FANN_FIX_2.0")
        True
        """
        if is_container(path):
            save_container(path, self)
            return
        write_atomic(path, self.to_fann_text())

    # ---- structure ----

    @property
    def format(self) -> str:
        """``"fann"``."""
        return "fann"

    @property
    def layers(self) -> tuple[int, ...]:
        """Neurons per layer, bias neurons not counted."""
        return self.topology.layers

    @property
    def decimal_point(self) -> int:
        """Fractional bits of every value."""
        return int(self._net.decimal_point)

    @property
    def multiplier(self) -> int:
        """The integer that stands for 1.0, ``1 << decimal_point``."""
        return int(self._net.multiplier)

    @property
    def topology(self) -> Topology:
        """The structure (steepnesses in float units: their integers over :attr:`multiplier`)."""
        structure = self._net.structure()
        structure["steepnesses"] = structure["steepnesses"] / np.float64(self.multiplier)
        return Topology(**structure)

    @property
    def weights(self) -> np.ndarray:
        """A copy of the weights as stored (int32, value times :attr:`multiplier`), in FANN's
        connection order."""
        out = np.empty(self._net.total_connections, dtype=np.int32)
        self._net.read_weights(out)
        return out

    @property
    def input_quantization(self) -> tuple[np.ndarray, np.ndarray]:
        """(scale, zero) per input: 1 / multiplier and 0."""
        return np.full(self.num_input, 1.0 / self.multiplier), np.zeros(self.num_input, dtype=np.int32)

    @property
    def output_quantization(self) -> tuple[float, int]:
        """(scale, zero) of the outputs: 1 / multiplier and 0."""
        return 1.0 / self.multiplier, 0

    def __repr__(self) -> str:
        return f"FixedNetwork(layers={list(self.layers)}, format='fann', decimal_point={self.decimal_point})"

    # ---- running ----

    def run_raw(self, inputs: Any, *, threads: int | None = None, simd: str | None = None) -> np.ndarray:
        """Run integer inputs (value x stands for x / multiplier), return exactly libfixedfann's
        int32 outputs: one sample (1-D) or a batch (2-D).

        Parameters
        ----------
        inputs : array_like of integers, shape (num_input,) or (n, num_input)
        threads : int, optional
            As in :meth:`run`.
        simd : str, optional
            Accepted for symmetry with :class:`QuantizedNetwork`; FANN fixed point has one path.

        Returns
        -------
        numpy.ndarray of int32, shape (num_output,) or (n, num_output)

        Raises
        ------
        ShapeError
            For float inputs, a wrong number of columns, or values outside the int32 range.
        ConfigError
            For a network with activations libfixedfann cannot run (the message names the
            neuron and the function).

        Examples
        --------
        >>> import kimi_fann as kf
        >>> fixed = kf.Network([2, 3, 1], seed=0).to_fixed()
        >>> fixed.run_raw([fixed.multiplier, 0]).dtype
        dtype('int32')
        """
        x, single = _raw_inputs(inputs, self.num_input, -(2**31), 2**31 - 1, "fann")
        y = np.empty((x.shape[0], self.num_output), dtype=np.int32)
        self._net.run(x, y, resolve(threads, x.shape[0]))
        return y[0] if single else y

    def run(self, inputs: Any, *, threads: int | None = None, simd: str | None = None) -> np.ndarray:
        """Run float inputs, rounded to the nearest multiple of 1 / multiplier (values beyond the
        int32 range saturate), and return the outputs in float32.

        Parameters
        ----------
        inputs : array_like, shape (num_input,) or (n, num_input)
        threads : int, optional
            Threads for a batch (None: all cores for batches of a few thousand rows and more);
            the results do not depend on it.
        simd : str, optional
            Accepted for symmetry with :class:`QuantizedNetwork`.

        Returns
        -------
        numpy.ndarray of float32, shape (num_output,) or (n, num_output)

        Raises
        ------
        ShapeError
            If the inputs do not have ``num_input`` columns.
        NumericError
            If an input is NaN or infinite; the message names the row.

        Examples
        --------
        >>> import kimi_fann as kf
        >>> fixed = kf.Network([2, 3, 1], seed=0).to_fixed()
        >>> fixed.run([0.5, -0.5]).dtype
        dtype('float32')
        """
        x, single = as_matrix(inputs, self.num_input, "inputs")
        y = np.empty((x.shape[0], self.num_output), dtype=np.float32)
        # Each input times the multiplier in double, rounded half to even, saturated to int32;
        # each output over the multiplier: as libfixedfann's callers scale them.
        self._net.run_scaled(x, y, resolve(threads, x.shape[0]))
        return y[0] if single else y


class QuantizedNetwork(FixedNetwork):
    """kimi-fann's integer engine: Q8 (uint8 activations, int8 weights) or Q16 (int16
    activations, int8 or int16 weights), from :meth:`Network.quantize` or from its description.

    A scale per output neuron, int32 accumulators the core proves cannot overflow, integer-only
    requantization, and activation tables exact to one output step; the integers are identical
    on every SIMD path. Inputs beyond the calibrated range saturate. Saved in ``.kfn`` files
    (:func:`kimi_fann.save`) or pickles.

    Parameters
    ----------
    spec : QuantizedSpec
        What the network is made of; the C core checks it (ranges, sizes, the proof that no
        accumulator can overflow).
    report : QuantizationReport, optional
        The quantizer's measurements, kept beside the network.

    Raises
    ------
    ConfigError
        If the core refuses the description.
    ShapeError
        If its arrays disagree in size.

    Examples
    --------
    >>> import numpy as np, kimi_fann as kf
    >>> net = kf.Network([2, 3, 1], seed=0)
    >>> q16 = net.quantize(calibration=np.random.default_rng(0).uniform(-1, 1, (50, 2)), activation_bits=16)
    >>> type(q16).__name__, q16.format, q16.spec.weight_bits
    ('QuantizedNetwork', 'q16', 8)
    >>> bool(abs(q16.run([0.5, -0.5]) - net.run([0.5, -0.5]))[0] < 0.01)
    True
    >>> bool(q16.report.max_abs_error < 0.01)
    True
    """

    __slots__ = ("_spec", "_report")

    def __init__(self, spec: QuantizedSpec, report: QuantizationReport | None = None) -> None:
        if not isinstance(spec, QuantizedSpec):
            raise ConfigError(f"a QuantizedNetwork is made from a QuantizedSpec, got {type(spec).__name__}")
        self._net = _core.QNet(spec)
        self._spec, self._report = spec, report

    def __reduce__(self) -> tuple[Any, ...]:
        return QuantizedNetwork, (self._spec, self._report)

    def save(self, path: PathLike) -> None:
        """Write the network to a ``.kfn`` file (:func:`kimi_fann.save`); Q8/Q16 networks have
        no FANN text form, so any other name raises ConfigError saying so.

        Parameters
        ----------
        path : str or os.PathLike

        Returns
        -------
        None

        Raises
        ------
        ConfigError
            For a name that does not end in ``.kfn``.

        Examples
        --------
        >>> import pathlib, tempfile, numpy as np, kimi_fann as kf
        >>> q = kf.Network([2, 1]).quantize(calibration=np.zeros((2, 2)))
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "q8.kfn"
        >>> q.save(path)
        >>> kf.load(path).format
        'q8'
        >>> try:
        ...     q.save("q8.net")
        ... except kf.errors.ConfigError as exc:
        ...     print("name it .kfn" in str(exc))
        True
        """
        if is_container(path):
            save_container(path, self)
            return
        raise ConfigError(f"a {self.format} network is saved in a .kfn file, not in a FANN .net file like "
                          f"{os.fspath(path)!r}: name it .kfn (or call kimi_fann.save(path, model))")

    # ---- structure ----

    @property
    def core(self) -> _core.QNet:
        """The compiled network (:mod:`kimi_fann._core`) this object owns: what a mixture of
        experts links to. Read only; not needed to use the network."""
        return self._net

    @property
    def spec(self) -> QuantizedSpec:
        """The description the network was made from."""
        return self._spec

    @property
    def format(self) -> str:
        """``"q8"`` or ``"q16"``."""
        return self._spec.format

    @property
    def report(self) -> QuantizationReport | None:
        """The quantizer's measurements, or None."""
        return self._report

    @property
    def layers(self) -> tuple[int, ...]:
        """Neurons per layer."""
        return self._spec.layer_sizes

    @property
    def input_quantization(self) -> tuple[np.ndarray, np.ndarray]:
        """(scale, zero) per input, with raw = floor(x / scale + 0.5) + zero."""
        return (1.0 / self._spec.input_inv_scale).astype(np.float64), self._spec.input_zero.copy()

    @property
    def output_quantization(self) -> tuple[float, int]:
        """(scale, zero) of the outputs, with value = scale * (raw - zero)."""
        return self._spec.output_scale, self._spec.output_zero

    def __repr__(self) -> str:
        return f"FixedNetwork(layers={list(self.layers)}, format={self.format!r}, weight_bits={self._spec.weight_bits})"

    # ---- running ----

    def run_raw(self, inputs: Any, *, threads: int | None = None, simd: str | None = None) -> np.ndarray:
        """Run quantized inputs (Q8: 0..255; Q16: -32768..32767; see :attr:`input_quantization`)
        and return the quantized outputs, int32: one sample (1-D) or a batch (2-D).

        Parameters
        ----------
        inputs : array_like of integers, shape (num_input,) or (n, num_input)
        threads : int, optional
            As in :meth:`run`.
        simd : str, optional
            A SIMD path (None: the active one). Neither option changes a single integer.

        Returns
        -------
        numpy.ndarray of int32, shape (num_output,) or (n, num_output)

        Raises
        ------
        ShapeError
            For float inputs, a wrong number of columns, or values outside the range.
        ConfigError
            For an unknown or unsupported SIMD path.

        Examples
        --------
        >>> import numpy as np, kimi_fann as kf
        >>> q = kf.Network([2, 1]).quantize(calibration=np.zeros((2, 2)))
        >>> q.run_raw([[0, 255], [128, 128]]).shape
        (2, 1)
        """
        x, single = _raw_inputs(inputs, self.num_input, *self._spec.input_range, self.format)
        y = np.empty((x.shape[0], self.num_output), dtype=np.int32)
        path = path_number(simd)
        self._net.run_raw(x, y, path, resolve(threads, x.shape[0]))
        return y[0] if single else y

    def run(self, inputs: Any, *, threads: int | None = None, simd: str | None = None) -> np.ndarray:
        """Run float inputs, return float32 outputs, with integer arithmetic inside.

        Parameters
        ----------
        inputs : array_like, shape (num_input,) or (n, num_input)
            Values beyond the calibrated range saturate.
        threads : int, optional
            Threads for a batch (None: all cores for batches of a few thousand rows and more);
            the results do not depend on it.
        simd : str, optional
            A SIMD path (None: the active one).

        Returns
        -------
        numpy.ndarray of float32, shape (num_output,) or (n, num_output)

        Raises
        ------
        ShapeError
            If the inputs do not have ``num_input`` columns.
        NumericError
            If an input is NaN or infinite; the message names the row.
        ConfigError
            For an unknown or unsupported SIMD path.

        Examples
        --------
        >>> import numpy as np, kimi_fann as kf
        >>> q = kf.Network([2, 1]).quantize(calibration=np.zeros((2, 2)))
        >>> q.run(np.zeros((3, 2))).shape
        (3, 1)
        """
        fast = self._net.run_fast(inputs, threads, simd)  # a float32 buffer straight into C
        if fast is not None:
            return fast
        x, single = as_matrix(inputs, self.num_input, "inputs", core_checks=True)
        y = np.empty((x.shape[0], self.num_output), dtype=np.float32)
        path = path_number(simd)
        self._net.run(x, y, path, resolve(threads, x.shape[0]))
        return y[0] if single else y
