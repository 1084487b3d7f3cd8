"""Typed, frozen descriptions of models: what passes between the modules of kimi-fann.

- :class:`Topology`: the structure of a float or FANN fixed-point network, neuron by neuron as in
  a FANN ``.net`` file, with :meth:`Topology.dense_layers`, a view of it as dense matrices
  (:class:`DenseLayer`).
- :class:`QuantizedSpec` and :class:`QuantizedLayer`: everything a Q8/Q16 network is made of.
- :class:`QuantizationReport`: what the quantizer measured.

The models make them (``Network.topology``, ``QuantizedNetwork.spec``) and are made from them
(``Network.from_topology``, ``QuantizedNetwork(spec)``); the quantizer, the ``.kfn`` container,
the analyzer, the converters and the distiller read nothing else. The C core checks a
description when a model is built from it. This module imports nothing of the package but the
compiled core.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import _core

__all__ = ["ACTIVATIONS", "ACTIVATION_RANGES", "Topology", "DenseLayer", "QuantizedLayer", "QuantizedSpec",
           "QuantizationReport"]

#: Activation function names; the index is FANN's enum value (18 and up are kimi-fann's own).
ACTIVATIONS: tuple[str, ...] = tuple(_core.activation_names())

#: Output range of the bounded activation functions.
ACTIVATION_RANGES: dict[str, tuple[float, float]] = {
    "sigmoid": (0.0, 1.0), "sigmoid_stepwise": (0.0, 1.0), "sigmoid_symmetric": (-1.0, 1.0),
    "sigmoid_symmetric_stepwise": (-1.0, 1.0), "threshold": (0.0, 1.0), "threshold_symmetric": (-1.0, 1.0),
    "gaussian": (0.0, 1.0), "gaussian_symmetric": (-1.0, 1.0), "gaussian_stepwise": (0.0, 1.0),
    "elliot": (0.0, 1.0), "elliot_symmetric": (-1.0, 1.0), "linear_piece": (0.0, 1.0),
    "linear_piece_symmetric": (-1.0, 1.0), "sin_symmetric": (-1.0, 1.0), "cos_symmetric": (-1.0, 1.0),
    "sin": (0.0, 1.0), "cos": (0.0, 1.0),
}


def _frozen(value: Any, dtype: Any, ndim: int) -> np.ndarray:
    """value as a C-contiguous array of dtype, made read-only (no copy when it already is one)."""
    array = np.ascontiguousarray(value, dtype=dtype)
    if array.ndim != ndim:
        array = array.reshape((-1,) if ndim == 1 else (len(array), -1))
    array.setflags(write=False)
    return array


def _freeze(obj: Any, fields: dict[str, tuple[Any, int]]) -> None:
    for name, (dtype, ndim) in fields.items():
        object.__setattr__(obj, name, _frozen(getattr(obj, name), dtype, ndim))


@dataclass(frozen=True, eq=False)
class DenseLayer:
    """One layer of a network as dense matrices: its neurons' sums are
    ``weights @ inputs + bias``, where ``inputs`` are the values of the layers it reads (the
    previous layer, or every earlier layer of a shortcut network), bias neurons left out.

    Attributes
    ----------
    layer : int
        Its index in the network (1 is the first hidden layer).
    sources : tuple of int
        The layers its columns read, in order; their neurons (bias neurons excluded) are the
        columns.
    weights : numpy.ndarray of float64, shape (outputs, columns)
        Zero where a sparse network has no connection.
    bias : numpy.ndarray of float64, shape (outputs,)
        The weights from bias neurons (whose value is 1), summed.
    connected : numpy.ndarray of bool, shape (outputs, columns)
        Where a connection exists.
    fan_in : numpy.ndarray of int64, shape (outputs,)
        Connections into each neuron, bias included; a neuron without any outputs 1.
    activations : numpy.ndarray of uint8, shape (outputs,)
        Each neuron's activation function (an index into :data:`ACTIVATIONS`).
    steepnesses : numpy.ndarray of float64, shape (outputs,)

    Examples
    --------
    >>> import kimi_fann as kf
    >>> net = kf.Network([2, 3, 1], seed=0)
    >>> first = net.topology.dense_layers(net.weights)[0]
    >>> first.sources, first.weights.shape, first.bias.shape, first.activation
    ((0,), (3, 2), (3,), 'sigmoid_symmetric')
    """

    layer: int
    sources: tuple[int, ...]
    weights: np.ndarray
    bias: np.ndarray
    connected: np.ndarray
    fan_in: np.ndarray
    activations: np.ndarray
    steepnesses: np.ndarray

    def __post_init__(self) -> None:
        _freeze(self, {"weights": (np.float64, 2), "bias": (np.float64, 1), "connected": (bool, 2),
                       "fan_in": (np.int64, 1), "activations": (np.uint8, 1), "steepnesses": (np.float64, 1)})

    @property
    def activation(self) -> str:
        """The layer's activation function, or ``"mixed"`` when its neurons differ."""
        names = {ACTIVATIONS[int(code)] for code in np.unique(self.activations)}
        return names.pop() if len(names) == 1 else "mixed"


@dataclass(frozen=True, eq=False)
class Topology:
    """The structure of a float or FANN fixed-point network, as a FANN ``.net`` file numbers it.

    Neurons are numbered layer by layer, input layer first. Every layer of a layered network
    ends with a bias neuron (value 1); in a shortcut network only the input layer has one.
    Neuron ``j``'s incoming connections are ``connection_starts[j]`` to
    ``connection_starts[j + 1] - 1``; connection ``k`` reads neuron ``sources[k]`` (with the
    network's weight ``k``). Arrays are taken as they are (converted when their dtype differs)
    and made read-only; the C core checks them when a network is built from them.

    Attributes
    ----------
    layer_starts : numpy.ndarray of uint32, shape (num_layers + 1,)
        First neuron of each layer; the last value is :attr:`stored_neurons`.
    connection_starts : numpy.ndarray of uint32, shape (stored_neurons + 1,)
        First connection of each neuron; the last value is the number of connections.
    sources : numpy.ndarray of uint32, shape (total_connections,)
        The neuron each connection reads.
    activations : numpy.ndarray of uint8, shape (stored_neurons,)
        Each neuron's activation function (an index into :data:`ACTIVATIONS`).
    steepnesses : numpy.ndarray of float32, shape (stored_neurons,)
        Each neuron's steepness (for a FANN fixed-point network, its integer over the
        multiplier).
    shortcut : bool
        True for a shortcut network (``fann_create_shortcut``).
    connection_rate : float
        The connection rate the network was created with (1 for fully connected ones).

    Examples
    --------
    >>> import kimi_fann as kf
    >>> topology = kf.Network([2, 3, 1], seed=0).topology
    >>> topology.layers, topology.layer_starts.tolist(), topology.total_connections
    ((2, 3, 1), [0, 3, 7, 9], 13)
    >>> topology.sources[:3].tolist(), topology.is_fully_connected
    ([0, 1, 2], True)
    """

    layer_starts: np.ndarray
    connection_starts: np.ndarray
    sources: np.ndarray
    activations: np.ndarray
    steepnesses: np.ndarray
    shortcut: bool = False
    connection_rate: float = 1.0

    def __post_init__(self) -> None:
        _freeze(self, {"layer_starts": (np.uint32, 1), "connection_starts": (np.uint32, 1),
                       "sources": (np.uint32, 1), "activations": (np.uint8, 1), "steepnesses": (np.float32, 1)})
        object.__setattr__(self, "shortcut", bool(self.shortcut))
        object.__setattr__(self, "connection_rate", float(self.connection_rate))

    @classmethod
    def fully_connected(cls, layer_starts: Any, activations: Any, steepnesses: Any, *,
                        shortcut: bool = False) -> Topology:
        """The topology in which every neuron reads its whole previous layer, bias included
        (every earlier neuron in a shortcut network), as ``fann_create_standard`` and
        ``fann_create_shortcut`` connect them.

        Parameters
        ----------
        layer_starts : array_like of int
            First neuron of each layer, and the number of neurons at the end.
        activations, steepnesses : array_like
            Per neuron.
        shortcut : bool

        Returns
        -------
        Topology

        Raises
        ------
        ConfigError
            If the layer starts do not describe a network.
        LimitError
            Beyond the library's limits.

        Examples
        --------
        >>> import kimi_fann as kf
        >>> t = kf.Topology.fully_connected([0, 3, 5], [0] * 5, [1.0] * 5)
        >>> t.connection_starts.tolist(), t.sources.tolist()
        ([0, 0, 0, 0, 3, 3], [0, 1, 2])
        """
        starts = np.ascontiguousarray(layer_starts, dtype=np.uint32)
        con_start, sources = _core.full_structure(starts, bool(shortcut))
        return cls(starts, con_start, sources, activations, steepnesses, shortcut=shortcut)

    # ---- sizes ----

    @property
    def num_layers(self) -> int:
        """Layers, input and output included."""
        return len(self.layer_starts) - 1

    @property
    def stored_neurons(self) -> int:
        """All neurons as the file numbers them, bias neurons included (the output layer's unused
        one in a layered network too): the length of the per-neuron arrays."""
        return int(self.layer_starts[-1])

    @property
    def total_neurons(self) -> int:
        """Neurons as ``fann_get_total_neurons`` counts them: :attr:`stored_neurons` without the
        unused bias neuron of a layered network's output layer."""
        return self.stored_neurons - (0 if self.shortcut else 1)

    @property
    def total_connections(self) -> int:
        """All connections (weights)."""
        return len(self.sources)

    @property
    def layers(self) -> tuple[int, ...]:
        """Neurons per layer, bias neurons not counted."""
        sizes = np.diff(self.layer_starts.astype(np.int64))
        return tuple(int(s) - int(self.has_bias(layer)) for layer, s in enumerate(sizes))

    @property
    def num_input(self) -> int:
        """Inputs (the input layer without its bias neuron)."""
        return self.layers[0]

    @property
    def num_output(self) -> int:
        """Outputs."""
        return self.layers[-1]

    def has_bias(self, layer: int) -> bool:
        """Whether the layer ends with a bias neuron.

        Parameters
        ----------
        layer : int

        Returns
        -------
        bool

        Examples
        --------
        >>> import kimi_fann as kf
        >>> t = kf.Network([2, 3, 1], shortcut=True).topology
        >>> t.has_bias(0), t.has_bias(1)
        (True, False)
        """
        return layer == 0 or not self.shortcut

    # ---- neuron and connection views ----

    @property
    def bias_neurons(self) -> np.ndarray:
        """The bias neurons' numbers (int64)."""
        ends = self.layer_starts[1:].astype(np.int64) - 1
        return ends[[self.has_bias(layer) for layer in range(self.num_layers)]]

    @property
    def destinations(self) -> np.ndarray:
        """The neuron each connection feeds (int64), in connection order."""
        counts = np.diff(self.connection_starts.astype(np.int64))
        return np.repeat(np.arange(self.stored_neurons, dtype=np.int64), counts)

    @property
    def layer_of(self) -> np.ndarray:
        """The layer of each neuron (int64)."""
        return np.repeat(np.arange(self.num_layers, dtype=np.int64), np.diff(self.layer_starts.astype(np.int64)))

    def connections_into(self, layer: int) -> np.ndarray:
        """Mask of the connections into a layer's neurons (bias neurons have none).

        Parameters
        ----------
        layer : int

        Returns
        -------
        numpy.ndarray of bool, shape (total_connections,)

        Examples
        --------
        >>> import kimi_fann as kf
        >>> int(kf.Network([2, 3, 1]).topology.connections_into(2).sum())
        4
        """
        lo, hi = self.connection_starts[self.layer_starts[layer]], self.connection_starts[self.layer_starts[layer + 1]]
        mask = np.zeros(self.total_connections, dtype=bool)
        mask[int(lo) : int(hi)] = True
        return mask

    @property
    def is_fully_connected(self) -> bool:
        """Whether the connections are those :meth:`fully_connected` would make."""
        con_start, sources = _core.full_structure(self.layer_starts, self.shortcut)
        return bool(np.array_equal(con_start, self.connection_starts) and np.array_equal(sources, self.sources))

    def dense_layers(self, weights: Any) -> list[DenseLayer]:
        """The layers after the input one as dense matrices, with the network's weights.

        Parameters
        ----------
        weights : array_like, shape (total_connections,)
            In connection order (a float network's ``weights``, or a fixed-point network's in
            float units).

        Returns
        -------
        list of DenseLayer

        Examples
        --------
        >>> import numpy as np, kimi_fann as kf
        >>> net = kf.Network([2, 1], output="linear", steepness=1.0)
        >>> net.weights = [0.5, -0.5, 0.25]
        >>> layer = net.topology.dense_layers(net.weights)[0]
        >>> layer.weights.tolist(), layer.bias.tolist()
        ([[0.5, -0.5]], [0.25])
        """
        w = np.asarray(weights, dtype=np.float64).reshape(-1)
        src, dst = self.sources.astype(np.int64), self.destinations
        layer_of, sizes = self.layer_of, self.layers
        is_bias = np.zeros(self.stored_neurons, dtype=bool)
        is_bias[self.bias_neurons] = True
        out = []
        for layer in range(1, self.num_layers):
            first, count = int(self.layer_starts[layer]), sizes[layer]
            into = self.connections_into(layer)
            s, rows, wl = src[into], dst[into] - first, w[into]
            from_bias = is_bias[s]
            sources = tuple(sorted(set(layer_of[s[~from_bias]].tolist()))) or (layer - 1,)
            column = np.full(self.stored_neurons, -1, dtype=np.int64)
            at = 0
            for k in sources:
                start = int(self.layer_starts[k])
                column[start : start + sizes[k]] = np.arange(at, at + sizes[k])
                at += sizes[k]
            matrix = np.zeros((count, at))
            bias = np.zeros(count)
            connected = np.zeros((count, at), dtype=bool)
            np.add.at(matrix, (rows[~from_bias], column[s[~from_bias]]), wl[~from_bias])
            np.add.at(bias, rows[from_bias], wl[from_bias])
            connected[rows[~from_bias], column[s[~from_bias]]] = True
            fan_in = np.diff(self.connection_starts[first : first + count + 1].astype(np.int64))
            out.append(DenseLayer(layer, sources, matrix, bias, connected, fan_in,
                                  self.activations[first : first + count],
                                  self.steepnesses[first : first + count].astype(np.float64)))
        return out


@dataclass(frozen=True, eq=False)
class QuantizedLayer:
    """One layer of a Q8/Q16 network: ``out = table(requant(weights @ a + bias))``.

    Attributes
    ----------
    weights : numpy.ndarray of int16, shape (n_out, n_in)
        int8 values when the network's ``weight_bits`` is 8.
    bias : numpy.ndarray of int32, shape (n_out,)
        In accumulator units, the zero points folded in.
    multiplier : numpy.ndarray of int32, shape (n_out,)
    shift : numpy.ndarray of uint8, shape (n_out,)
        Requantization: ``(acc * multiplier + 2^(shift - 1)) >> shift``.
    t0 : int
        The activation table's first knot, in requantized units.
    seg_shift : int
        log2 of the knot spacing (0: a direct table of outputs).
    knots : numpy.ndarray of int32
        The table's values, in output units times 2^8.
    out_lo, out_hi : int
        The clamp of the layer's integer outputs.
    activation : str
        The activation function the table computes (``"unknown"`` for models saved before it
        was recorded).
    output_scale : float or None
        The layer's outputs in float units are ``output_scale * (q - output_zero)``; None when
        not known (a hidden layer of a model saved without its quantizer's report).
    output_zero : int or None

    Examples
    --------
    >>> import numpy as np, kimi_fann as kf
    >>> q = kf.Network([3, 4, 2], seed=0).quantize(calibration=np.zeros((4, 3)))
    >>> layer = q.spec.layers[0]
    >>> layer.weights.shape, layer.activation, (layer.out_lo, layer.out_hi)
    ((4, 3), 'sigmoid_symmetric', (0, 255))
    """

    weights: np.ndarray
    bias: np.ndarray
    multiplier: np.ndarray
    shift: np.ndarray
    t0: int
    seg_shift: int
    knots: np.ndarray
    out_lo: int
    out_hi: int
    activation: str = "unknown"
    output_scale: float | None = None
    output_zero: int | None = None

    def __post_init__(self) -> None:
        _freeze(self, {"weights": (np.int16, 2), "bias": (np.int32, 1), "multiplier": (np.int32, 1),
                       "shift": (np.uint8, 1), "knots": (np.int32, 1)})
        for name in ("t0", "seg_shift", "out_lo", "out_hi"):
            object.__setattr__(self, name, int(getattr(self, name)))
        object.__setattr__(self, "activation", str(self.activation))
        if self.output_scale is not None:
            object.__setattr__(self, "output_scale", float(self.output_scale))
        if self.output_zero is not None:
            object.__setattr__(self, "output_zero", int(self.output_zero))

    @property
    def n_in(self) -> int:
        """Inputs of the layer (columns of the weights)."""
        return int(self.weights.shape[1])

    @property
    def n_out(self) -> int:
        """Outputs of the layer (rows of the weights)."""
        return int(self.weights.shape[0])


@dataclass(frozen=True, eq=False)
class QuantizedSpec:
    """Everything a Q8/Q16 network is made of: input quantization, layers, output quantization.

    Inputs are quantized per feature, ``a = clamp(floor(x * input_inv_scale + 0.5) +
    input_zero)``, and outputs read as ``output_scale * (q - output_zero)``.

    Attributes
    ----------
    activation_bits : int
        8 (Q8: activations 0..255) or 16 (Q16: -32768..32767).
    weight_bits : int
        8, or 16 (Q16 only).
    input_inv_scale : numpy.ndarray of float32, shape (num_input,)
    input_zero : numpy.ndarray of int32, shape (num_input,)
    output_scale : float
    output_zero : int
    layers : tuple of QuantizedLayer
    shortcut : bool
        True when each layer reads the inputs and every earlier layer's outputs, in that order
        (a shortcut network, such as one grown by cascade training); False when it reads the
        previous layer's outputs only.

    Examples
    --------
    >>> import numpy as np, kimi_fann as kf
    >>> q = kf.Network([3, 4, 2], seed=0).quantize(calibration=np.zeros((4, 3)))
    >>> spec = q.spec
    >>> spec.format, spec.layer_sizes, spec.input_range
    ('q8', (3, 4, 2), (0, 255))
    >>> kf.QuantizedNetwork(spec).run([0.0, 0.0, 0.0]).tolist() == q.run([0.0, 0.0, 0.0]).tolist()
    True
    """

    activation_bits: int
    weight_bits: int
    input_inv_scale: np.ndarray
    input_zero: np.ndarray
    output_scale: float
    output_zero: int
    layers: tuple[QuantizedLayer, ...]
    shortcut: bool = False

    def __post_init__(self) -> None:
        _freeze(self, {"input_inv_scale": (np.float32, 1), "input_zero": (np.int32, 1)})
        for name in ("activation_bits", "weight_bits", "output_zero"):
            object.__setattr__(self, name, int(getattr(self, name)))
        object.__setattr__(self, "output_scale", float(self.output_scale))
        object.__setattr__(self, "layers", tuple(self.layers))
        object.__setattr__(self, "shortcut", bool(self.shortcut))

    @property
    def format(self) -> str:
        """``"q8"`` or ``"q16"``."""
        return f"q{self.activation_bits}"

    @property
    def num_input(self) -> int:
        """Inputs."""
        return len(self.input_zero)

    @property
    def num_output(self) -> int:
        """Outputs (the last layer's)."""
        return self.layers[-1].n_out if self.layers else 0

    @property
    def layer_sizes(self) -> tuple[int, ...]:
        """Neurons per layer, inputs first."""
        return (self.num_input, *(layer.n_out for layer in self.layers))

    @property
    def input_range(self) -> tuple[int, int]:
        """The range of the integer activations (and of run_raw's inputs)."""
        return (0, 255) if self.activation_bits == 8 else (-32768, 32767)


@dataclass
class QuantizationReport:
    """What the quantizer measured on the calibration inputs.

    Attributes
    ----------
    activation_bits, weight_bits : int
    max_abs_error, mean_abs_error : float
        Output error of the fixed-point network against the float one.
    accumulator_headroom : float
        Smallest ratio over all rows of 2^31 to the proven accumulator bound (>= 1).
    layers : list of dict
        Per layer: shape, activation, weight scale range, table knots, output scale.

    Examples
    --------
    >>> import numpy as np, kimi_fann as kf
    >>> net = kf.Network([3, 4, 1], seed=0)
    >>> report = net.quantize(calibration=np.random.default_rng(0).normal(size=(64, 3))).report
    >>> report.activation_bits, report.weight_bits, bool(report.accumulator_headroom >= 1)
    (8, 8, True)
    """

    activation_bits: int
    weight_bits: int
    max_abs_error: float
    mean_abs_error: float
    accumulator_headroom: float
    layers: list[dict[str, Any]] = field(default_factory=list)
