"""Float networks with FANN 2.2's semantics: create, run, train, test, save and load."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, overload

import numpy as np

from . import _core
from ._arrays import aligned, as_matrix, as_seed
from ._core import resolve_threads as resolve
from ._io import PathLike, is_container, read_bytes, save_container, write_atomic
from .cascade import CascadeHistory, CascadeStep, FannRandom
from .data import TrainingData
from .descriptions import ACTIVATIONS, Topology
from .errors import ConfigError, LimitError, ShapeError
from .fixed import FannFixedNetwork, QuantizedNetwork

__all__ = ["Network", "ACTIVATIONS", "TRAINING_ALGORITHMS"]
#: Training algorithm names, in FANN's enum order.
TRAINING_ALGORITHMS: tuple[str, ...] = ("incremental", "batch", "rprop", "quickprop", "sarprop")
_ERROR_FUNCTIONS = ("linear", "tanh")
_STOP_FUNCTIONS = ("mse", "bit")
_PARAM_INDEX = {name: i for i, name in enumerate(_core.param_names())}

Layer = int | Literal["hidden", "output"]
Callback = Callable[[int, float, int], Any]


class _FloatParam:
    """A numeric training parameter stored in the C network (and in its .net file)."""

    def __init__(self, doc: str) -> None:
        self.__doc__ = doc

    def __set_name__(self, owner: type, name: str) -> None:
        self._index = _PARAM_INDEX[name]
        self._name = name

    @overload
    def __get__(self, obj: None, owner: type) -> _FloatParam: ...
    @overload
    def __get__(self, obj: Network, owner: type) -> float: ...
    def __get__(self, obj: Network | None, owner: type) -> Any:
        if obj is None:
            return self
        return obj._net.get_param(self._index)

    def __set__(self, obj: Network, value: float) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise ConfigError(f"{self._name} must be a number, got {value!r}")
        obj._net.set_param(self._index, float(value))


class _IntParam(_FloatParam):
    """A count (epochs, groups) stored in the C network."""

    def __get__(self, obj: Network | None, owner: type) -> Any:
        if obj is None:
            return self
        return int(obj._net.get_param(self._index))


class _ChoiceParam:
    """An enumerated parameter, read and written by name."""

    def __init__(self, choices: tuple[str, ...], doc: str) -> None:
        self._choices = choices
        self.__doc__ = doc

    def __set_name__(self, owner: type, name: str) -> None:
        self._index = _PARAM_INDEX[name]
        self._name = name

    @overload
    def __get__(self, obj: None, owner: type) -> _ChoiceParam: ...
    @overload
    def __get__(self, obj: Network, owner: type) -> str: ...
    def __get__(self, obj: Network | None, owner: type) -> Any:
        if obj is None:
            return self
        return self._choices[int(obj._net.get_param(self._index))]

    def __set__(self, obj: Network, value: str) -> None:
        if value not in self._choices:
            raise ConfigError(f"{self._name} must be one of {', '.join(self._choices)}; got {value!r}")
        obj._net.set_param(self._index, float(self._choices.index(value)))


def _activation_index(name: str) -> int:
    if name not in ACTIVATIONS:
        raise ConfigError(f"unknown activation function {name!r}; expected one of: {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS.index(name)


class Network:
    """A feed-forward network with FANN 2.2's semantics, in float32.

    Every layer but the output one feeds a bias neuron (value 1) to the next; each neuron
    computes ``f(steepness * sum(w * x))``. The structure, the weights and the training
    parameters are those of a FANN ``.net`` file, which :meth:`save` and :meth:`load` read and
    write exactly as libfann 2.2 does.

    Given only ``layers`` (and ``connection_rate`` or ``shortcut``), the network is the one
    ``fann_create_standard``, ``fann_create_sparse`` or ``fann_create_shortcut`` creates:
    sigmoid_stepwise neurons of steepness 0.5, FANN's training parameters, weights uniform in
    [-0.1, 0.1]. ``hidden``, ``output`` and ``steepness`` are the ``fann_set_activation_*``
    calls that usually follow the creation.

    Threads: any number of threads may run one network at once. A change (training, cascade
    training, weights, activations, scaling, parameters) waits for the runs in progress, and runs
    started meanwhile wait for it: no run sees half of a change, and two threads training one
    network take turns epoch by epoch (see the threads guide, ``docs/threads.md``).

    Parameters
    ----------
    layers : sequence of int
        Neurons per layer, input first and output last (bias neurons not counted).
    hidden, output : str, optional
        Activation function of the hidden layers and of the output layer (see
        :data:`ACTIVATIONS`), set as ``fann_set_activation_function_hidden`` and ``_output``
        set it (the layers' bias neurons included). None keeps FANN's sigmoid_stepwise.
    steepness : float, optional
        Steepness of every hidden and output neuron, set as
        ``fann_set_activation_steepness_hidden`` and ``_output`` set it. None keeps FANN's 0.5.
    connection_rate : float
        In (0, 1]; below 1 makes a sparse network (``fann_create_sparse``).
    shortcut : bool
        Connect each layer to all earlier layers (``fann_create_shortcut``).
    seed : int
        Seed of the initial weights (uniform in [-0.1, 0.1]) and of later random draws.

    Raises
    ------
    ConfigError
        If ``layers`` has fewer than two positive sizes, an activation name is unknown,
        ``connection_rate`` is outside (0, 1], or a shortcut network is asked to be sparse.

    Examples
    --------
    >>> import numpy as np, kimi_fann as kf
    >>> kf.Network([2, 3, 1]).get_activation(1, 0)  # fann_create_standard's neurons
    ('sigmoid_stepwise', 0.5)
    >>> net = kf.Network([2, 4, 1], hidden="sigmoid_symmetric", output="sigmoid_symmetric", seed=1)
    >>> xor = kf.TrainingData([[-1, -1], [-1, 1], [1, -1], [1, 1]], [-1, 1, 1, -1])
    >>> history = net.train(xor, max_epochs=500, target_error=1e-3)
    >>> bool(history[-1] <= 1e-3)
    True
    >>> np.sign(net.run([[1, -1], [1, 1]])).ravel().tolist()
    [1.0, -1.0]
    """

    learning_rate = _FloatParam("Learning rate of incremental, batch and Quickprop training (0.7).")
    learning_momentum = _FloatParam("Momentum of incremental training (0).")
    training_algorithm = _ChoiceParam(
        TRAINING_ALGORITHMS, "Algorithm of train_epoch, one of " + ", ".join(TRAINING_ALGORITHMS) + " (rprop).")
    train_error_function = _ChoiceParam(_ERROR_FUNCTIONS, "Error function, 'linear' or 'tanh' (tanh).")
    train_stop_function = _ChoiceParam(_STOP_FUNCTIONS, "What train() compares with target_error, 'mse' or 'bit' (mse).")
    bit_fail_limit = _FloatParam("An output is a failed bit when ``abs(desired - actual)`` reaches this (0.35).")
    quickprop_decay = _FloatParam("Quickprop weight decay (-0.0001).")
    quickprop_mu = _FloatParam("Quickprop maximum growth factor (1.75).")
    rprop_increase_factor = _FloatParam("RPROP step increase factor (1.2).")
    rprop_decrease_factor = _FloatParam("RPROP step decrease factor (0.5).")
    rprop_delta_min = _FloatParam("RPROP minimum step (0).")
    rprop_delta_max = _FloatParam("RPROP maximum step (50).")
    rprop_delta_zero = _FloatParam("RPROP initial step (0.1).")
    sarprop_weight_decay_shift = _FloatParam("SARPROP weight decay shift (-6.644).")
    sarprop_step_error_threshold_factor = _FloatParam("SARPROP step error threshold factor (0.1).")
    sarprop_step_error_shift = _FloatParam("SARPROP step error shift (1.385).")
    sarprop_temperature = _FloatParam("SARPROP temperature (0.015).")
    cascade_output_change_fraction = _FloatParam(
        "Cascade: a change of the output error by this fraction counts as progress (0.01).")
    cascade_output_stagnation_epochs = _IntParam(
        "Cascade: output training stops after this many epochs without progress (12).")
    cascade_candidate_change_fraction = _FloatParam(
        "Cascade: a change of the best candidate score by this fraction counts as progress (0.01).")
    cascade_candidate_stagnation_epochs = _IntParam(
        "Cascade: candidate training stops after this many epochs without progress (12).")
    cascade_max_out_epochs = _IntParam("Cascade: most epochs of one output training (150).")
    cascade_min_out_epochs = _IntParam("Cascade: fewest epochs of one output training before stagnation stops it (50).")
    cascade_max_cand_epochs = _IntParam("Cascade: most epochs of one candidate training (150).")
    cascade_min_cand_epochs = _IntParam(
        "Cascade: fewest epochs of one candidate training before stagnation stops it (50).")
    cascade_num_candidate_groups = _IntParam(
        "Cascade: candidates per activation function and steepness, each from other random weights (2).")
    cascade_candidate_limit = _FloatParam(
        "Cascade: candidate training stops when the best score passes this multiple of the error (1000).")
    cascade_weight_multiplier = _FloatParam(
        "Cascade: the installed neuron's output weights are its candidate's times this (0.4).")

    def __init__(
        self,
        layers: Sequence[int],
        *,
        hidden: str | None = None,
        output: str | None = None,
        steepness: float | None = None,
        connection_rate: float = 1.0,
        shortcut: bool = False,
        seed: int = 0,
    ) -> None:
        sizes = list(layers)
        if len(sizes) < 2 or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1 for s in sizes):
            raise ConfigError(f"layers must be at least two positive integers, got {layers!r}")
        if not (isinstance(connection_rate, (int, float, np.integer, np.floating)) and 0 < connection_rate <= 1):
            raise ConfigError(f"connection_rate must be in (0, 1], got {connection_rate!r}")
        if shortcut and connection_rate < 1:
            raise ConfigError("shortcut networks are fully connected: connection_rate must be 1")
        _check_limits(sizes, bool(shortcut), float(connection_rate))
        hidden_index = None if hidden is None else _activation_index(hidden)
        output_index = None if output is None else _activation_index(output)
        self._rng = np.random.default_rng(as_seed(seed))
        # fann_create_*: sigmoid_stepwise and 0.5 in every neuron but the bias ones (linear, 0)
        self._net = _core.Net.create(sizes, bool(shortcut), float(connection_rate), self._next_seed())
        self._attach(self._net)
        last = len(sizes) - 1
        for layer in range(1, last + 1):  # then the fann_set_activation_* calls asked for
            index = output_index if layer == last else hidden_index
            if index is not None:
                self._net.set_activation(layer, -1, index)
            if steepness is not None:
                self._net.set_steepness(layer, -1, float(steepness))

    def _attach(self, net: _core.Net) -> None:
        self._net = net
        self._trainer: _core.Trainer | None = None
        self._mse = 0.0
        self._bit_fail = 0
        if not hasattr(self, "_rng"):
            self._rng = np.random.default_rng(0)

    @classmethod
    def _wrap(cls, net: _core.Net) -> Network:
        self = cls.__new__(cls)
        self._attach(net)
        return self

    @classmethod
    def from_topology(cls, topology: Topology, weights: Any, *, scaling: Any = None,
                      source: str = "<topology>") -> Network:
        """A network from its structure and weights, checked by the C core as a parsed file is.

        Training parameters are FANN's defaults (see :meth:`set_training_parameters`).

        Parameters
        ----------
        topology : Topology
        weights : array_like, shape (total_connections,)
        scaling : array_like, optional
            Scaling parameters in the layout of :meth:`scaling_parameters`.
        source : str
            Name used in error messages.

        Returns
        -------
        Network

        Raises
        ------
        FormatError
            If the structure, the weights or the scaling parameters are inconsistent.
        ConfigError
            If topology is not a Topology.

        Examples
        --------
        >>> import numpy as np, kimi_fann as kf
        >>> net = kf.Network([2, 3, 1], seed=1)
        >>> twin = kf.Network.from_topology(net.topology, net.weights)
        >>> np.array_equal(twin.run([0.5, 0.5]), net.run([0.5, 0.5]))
        True
        """
        if not isinstance(topology, Topology):
            raise ConfigError(f"expected a Topology, got {type(topology).__name__}")
        w = aligned(np.reshape(weights, -1), np.float32)
        sc = None if scaling is None else aligned(np.reshape(scaling, -1), np.float32)
        return cls._wrap(_core.Net.assemble(topology, w, sc, source))

    def _next_seed(self) -> int:
        return int(self._rng.integers(0, 2**63))

    def _reset_training(self) -> None:
        if self._trainer is not None:
            self._trainer.reset()

    # ---- structure ----

    @property
    def layers(self) -> tuple[int, ...]:
        """Neurons per layer, bias neurons not counted."""
        return tuple(self._net.layer_sizes())

    @property
    def topology(self) -> Topology:
        """The structure: neurons, connections, activation functions and steepnesses."""
        return Topology(**self._net.structure())

    @property
    def core(self) -> _core.Net:
        """The compiled network (:mod:`kimi_fann._core`) this object owns: what a mixture of
        experts links to. Read only; not needed to use the network."""
        return self._net

    @property
    def num_input(self) -> int:
        """Number of inputs (``fann_get_num_input``)."""
        return int(self._net.num_input)

    @property
    def num_output(self) -> int:
        """Number of outputs (``fann_get_num_output``)."""
        return int(self._net.num_output)

    @property
    def total_neurons(self) -> int:
        """Neurons as ``fann_get_total_neurons`` counts them: every layer's neurons and bias
        neurons, except the bias neuron that a layered network keeps, unused, in its output layer.

        11 for ``[2, 3, 4]`` (3 + 4 + 4), 15 for ``[2, 3, 4, 5]`` with ``shortcut=True`` (whose
        only bias neuron is the input layer's). :attr:`stored_neurons` counts the unused one too.

        Examples
        --------
        >>> import kimi_fann as kf
        >>> kf.Network([2, 3, 4]).total_neurons, kf.Network([2, 3, 4, 5], shortcut=True).total_neurons
        (11, 15)
        """
        return self.stored_neurons - (0 if self.shortcut else 1)

    @property
    def stored_neurons(self) -> int:
        """Neurons as a ``.net`` file lists them and :meth:`connections` numbers them: every bias
        neuron included, the output layer's unused one in a layered network too (so one more than
        :attr:`total_neurons` there, the same in a shortcut network). The size of an array indexed
        by neuron number.

        Examples
        --------
        >>> import kimi_fann as kf
        >>> net = kf.Network([2, 3, 4])
        >>> net.stored_neurons, len(net.topology.activations)
        (12, 12)
        """
        return int(self._net.total_neurons)

    @property
    def layer_biases(self) -> tuple[int, ...]:
        """Bias neurons per layer, as ``fann_get_bias_array`` reports them: 1 for every layer but
        the output one in a layered network, 1 for the input layer only in a shortcut network.

        Examples
        --------
        >>> import kimi_fann as kf
        >>> kf.Network([2, 3, 1]).layer_biases, kf.Network([2, 3, 1], shortcut=True).layer_biases
        ((1, 1, 0), (1, 0, 0))
        """
        n = len(self.layers)
        return (1,) + (0,) * (n - 1) if self.shortcut else (1,) * (n - 1) + (0,)

    @property
    def total_connections(self) -> int:
        """Number of weights."""
        return int(self._net.total_connections)

    @property
    def connection_rate(self) -> float:
        """The connection rate the network was created with (1 for fully connected)."""
        return float(self._net.connection_rate)

    @property
    def shortcut(self) -> bool:
        """True for a shortcut network (``fann_get_network_type`` is ``FANN_NETTYPE_SHORTCUT``)."""
        return bool(self._net.shortcut)

    def __repr__(self) -> str:
        return (
            f"Network(layers={list(self.layers)}, connections={self.total_connections}, "
            f"shortcut={self.shortcut}, training_algorithm={self.training_algorithm!r})"
        )

    # ---- training parameters as numbers ----

    def training_parameters(self) -> dict[str, float]:
        """Every training parameter by name, as the .net file stores it (an enumeration such as
        ``training_algorithm`` by its number).

        Returns
        -------
        dict of str to float

        Examples
        --------
        >>> import kimi_fann as kf
        >>> params = kf.Network([2, 1]).training_parameters()
        >>> params["learning_rate"] == kf.Network([2, 1]).learning_rate, params["training_algorithm"]
        (True, 2.0)
        """
        with self._net.reading():  # all of one moment
            return {name: self._net.get_param(i) for name, i in _PARAM_INDEX.items()}

    def set_training_parameters(self, values: Mapping[str, float]) -> None:
        """Set training parameters by name, as :meth:`training_parameters` gives them.

        Parameters
        ----------
        values : mapping of str to float

        Returns
        -------
        None

        Raises
        ------
        ConfigError
            For an unknown name, or a value out of its range.
        NumericError
            For a value that is not finite.

        Examples
        --------
        >>> import kimi_fann as kf
        >>> net = kf.Network([2, 1])
        >>> net.set_training_parameters({"training_algorithm": 3, "learning_rate": 0.5})
        >>> net.training_algorithm, net.learning_rate
        ('quickprop', 0.5)
        """
        unknown = [name for name in values if name not in _PARAM_INDEX]
        if unknown:
            raise ConfigError(f"unknown training parameter {unknown[0]!r}")
        with self._net.writing():  # runs and pickles see all of them or none
            for name, value in values.items():
                self._net.set_param(_PARAM_INDEX[name], float(value))

    @property
    def cascade_activation_functions(self) -> tuple[str, ...]:
        """The cascade-correlation candidate activation functions (kept in .net files); assign
        a sequence of names (:data:`ACTIVATIONS`, at most 64).

        Examples
        --------
        >>> import kimi_fann as kf
        >>> net = kf.Network([2, 1])
        >>> len(net.cascade_activation_functions)
        10
        >>> net.cascade_activation_functions = ["sigmoid", "elliot"]
        >>> net.cascade_activation_functions
        ('sigmoid', 'elliot')
        """
        return tuple(ACTIVATIONS[f] for f in self._net.get_cascade()[0])

    @cascade_activation_functions.setter
    def cascade_activation_functions(self, names: Sequence[str]) -> None:
        functions = [_activation_index(n) for n in names]
        with self._net.writing():
            self._net.set_cascade(functions, self._net.get_cascade()[1])

    @property
    def cascade_activation_steepnesses(self) -> tuple[float, ...]:
        """The cascade-correlation candidate steepnesses (kept in .net files); assign a sequence
        of finite numbers (at most 64).

        Examples
        --------
        >>> import kimi_fann as kf
        >>> net = kf.Network([2, 1])
        >>> net.cascade_activation_steepnesses
        (0.25, 0.5, 0.75, 1.0)
        >>> net.cascade_activation_steepnesses = [0.5]
        >>> net.cascade_activation_steepnesses
        (0.5,)
        """
        return tuple(self._net.get_cascade()[1])

    @cascade_activation_steepnesses.setter
    def cascade_activation_steepnesses(self, values: Sequence[float]) -> None:
        steepnesses = [float(v) for v in values]
        with self._net.writing():
            self._net.set_cascade(self._net.get_cascade()[0], steepnesses)

    def _layer_indices(self, layer: Layer | None) -> list[int]:
        n = len(self.layers)
        if layer is None:
            return list(range(1, n))
        if layer == "hidden":
            return list(range(1, n - 1))
        if layer == "output":
            return [n - 1]
        if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or not 1 <= layer < n:
            raise ConfigError(f"layer must be 'hidden', 'output' or an integer in [1, {n - 1}], got {layer!r}")
        return [int(layer)]

    def set_activation(
        self,
        function: str | None = None,
        *,
        steepness: float | None = None,
        layer: Layer | None = None,
        neuron: int | None = None,
    ) -> None:
        """Set the activation function and/or steepness of neurons.

        As in FANN, setting a whole layer also sets its bias neuron
        (``fann_set_activation_function_hidden`` / ``_output`` / ``_layer``, and
        ``fann_set_activation_steepness*``).

        Parameters
        ----------
        function : str, optional
            A name from :data:`ACTIVATIONS`; None keeps the functions.
        steepness : float, optional
            The new steepness; None keeps the steepness.
        layer : {"hidden", "output"} or int, optional
            ``"hidden"``, ``"output"``, a layer index (1 is the first hidden layer) or None for
            every layer but the input one.
        neuron : int, optional
            One neuron of ``layer`` (which must then be a single layer); None for all of them.

        Returns
        -------
        None

        Raises
        ------
        ConfigError
            If neither function nor steepness is given, the function name is unknown, or the
            layer or neuron does not exist.

        Examples
        --------
        >>> import kimi_fann as kf
        >>> net = kf.Network([3, 5, 2])
        >>> net.set_activation("elliot", steepness=0.7, layer=1)
        >>> net.set_activation("linear", layer="output", neuron=1)
        >>> net.get_activation(2, 1)
        ('linear', 0.5)
        """
        if function is None and steepness is None:
            raise ConfigError("give an activation function, a steepness, or both")
        index = None if function is None else _activation_index(function)
        layers = self._layer_indices(layer)
        if neuron is not None and len(layers) != 1:
            raise ConfigError("neuron needs a single layer")
        target = -1 if neuron is None else int(neuron)
        for l in layers:
            if neuron is not None and not 0 <= target < self.layers[l]:
                raise ConfigError(f"layer {l} has neurons 0..{self.layers[l] - 1}, got neuron {neuron!r}")
        with self._net.writing():  # every layer changes before the next run
            for l in layers:
                if index is not None:
                    self._net.set_activation(l, target, index)
                if steepness is not None:
                    self._net.set_steepness(l, target, float(steepness))

    def get_activation(self, layer: int, neuron: int) -> tuple[str, float]:
        """The activation function and steepness of one neuron.

        Parameters
        ----------
        layer : int
            Layer index, 1 for the first hidden layer (``"hidden"`` and ``"output"`` work too).
        neuron : int
            Neuron within the layer.

        Returns
        -------
        tuple of (str, float)
            The function's name (``fann_get_activation_function``) and the steepness
            (``fann_get_activation_steepness``).

        Raises
        ------
        ConfigError
            If the layer does not exist.

        Examples
        --------
        >>> import kimi_fann as kf
        >>> kf.Network([2, 3, 1], output="linear").get_activation(2, 0)
        ('linear', 0.5)
        """
        index, steepness = self._net.get_activation(self._layer_indices(layer)[0], int(neuron))
        return ACTIVATIONS[index], float(steepness)

    # ---- weights ----

    @property
    def weights(self) -> np.ndarray:
        """A copy of all weights (float32), in FANN's connection order; assign to replace them.

        Assigning takes any array of :attr:`total_connections` real numbers
        (``fann_set_weight_array``) and resets the training state (RPROP steps, slopes).

        Examples
        --------
        >>> import kimi_fann as kf
        >>> net = kf.Network([2, 1])
        >>> net.weights = [0.5, -0.5, 0.0]
        >>> net.weights.tolist()
        [0.5, -0.5, 0.0]
        """
        out = np.empty(self.total_connections, dtype=np.float32)
        self._net.read_weights(out)
        return out

    @weights.setter
    def weights(self, values: Any) -> None:
        given = np.asarray(values)
        if given.size != self.total_connections:
            raise ShapeError(f"the network has {self.total_connections} weights; got {given.size} values "
                             f"(shape {given.shape})")
        w, _ = as_matrix(given.reshape(1, -1), self.total_connections, "weights")
        with self._net.writing():
            self._net.write_weights(w.ravel())
            self._reset_training()

    def connections(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every connection, as ``fann_get_connection_array`` lists them.

        Neurons are numbered as in a .net file: inputs, then each layer, bias neurons included.

        Returns
        -------
        from_neuron, to_neuron : numpy.ndarray of uint32
            Source and destination neuron of each connection.
        weight : numpy.ndarray of float32
            Its weight (a copy, as :attr:`weights`).

        Examples
        --------
        >>> import kimi_fann as kf
        >>> src, dst, w = kf.Network([2, 1]).connections()
        >>> src.tolist(), dst.tolist()
        ([0, 1, 2], [3, 3, 3])
        """
        topology = self.topology
        return topology.sources.copy(), topology.destinations.astype(np.uint32), self.weights

    def randomize_weights(self, low: float = -0.1, high: float = 0.1, *, seed: int | None = None) -> None:
        """Draw every weight uniformly from [low, high] (``fann_randomize_weights``).

        Parameters
        ----------
        low, high : float
            The range.
        seed : int, optional
            Seed of the draw; None takes the next one from the network's own generator.

        Returns
        -------
        None

        Raises
        ------
        ConfigError
            If the range is empty or not finite.

        Examples
        --------
        >>> import kimi_fann as kf
        >>> net = kf.Network([4, 8, 2])
        >>> net.randomize_weights(-0.5, 0.5, seed=3)
        >>> bool(abs(net.weights).max() <= 0.5)
        True
        """
        with self._net.writing():
            self._net.randomize_weights(float(low), float(high), self._next_seed() if seed is None else as_seed(seed))
            self._reset_training()

    def init_weights(self, data: TrainingData, *, seed: int | None = None) -> None:
        """Nguyen-Widrow initialisation from the data's input range (``fann_init_weights``).

        Parameters
        ----------
        data : TrainingData
            Pairs whose inputs set the range.
        seed : int, optional
            Seed of the draw; None takes the next one from the network's own generator.

        Returns
        -------
        None

        Raises
        ------
        ConfigError
            If ``data`` is not a TrainingData.

        Examples
        --------
        >>> import kimi_fann as kf
        >>> net = kf.Network([2, 3, 1])
        >>> net.init_weights(kf.TrainingData([[0, 0], [1, 1]], [0, 1]), seed=1)
        """
        _check_data(data, what="initialising the weights")
        with self._net.writing():
            self._net.init_weights(data.inputs, self._next_seed() if seed is None else as_seed(seed))
            self._reset_training()

    # ---- running ----

    def run(self, inputs: Any, *, threads: int | None = None) -> np.ndarray:
        """Outputs for one sample or a batch (``fann_run``), float32.

        A batch runs in C with the GIL released, split across threads; every sample gives the
        same floats whatever the split.

        Parameters
        ----------
        inputs : array_like, shape (num_input,) or (n, num_input)
            Any real dtype and memory layout.
        threads : int, optional
            Threads for a batch; None uses all cores for large batches.

        Returns
        -------
        numpy.ndarray of float32, shape (num_output,) or (n, num_output)

        Raises
        ------
        ShapeError
            If the inputs do not have ``num_input`` columns.
        NumericError
            If an input is NaN or infinite, or an output is (a sum overflowing float32);
            the message and the ``row`` attribute name the row.

        Examples
        --------
        >>> import numpy as np, kimi_fann as kf
        >>> net = kf.Network([3, 4, 2])
        >>> net.run(np.zeros((5, 3))).shape, net.run([0, 0, 0]).shape
        ((5, 2), (2,))
        """
        fast = self._net.run_fast(inputs, threads)  # a float32 buffer straight into C
        if fast is not None:
            return fast
        x, single = as_matrix(inputs, self.num_input, "inputs", core_checks=True)
        y = np.empty((x.shape[0], self.num_output), dtype=np.float32)
        self._net.run(x, y, resolve(threads, x.shape[0]))
        return y[0] if single else y

    # ---- training ----

    def _trainer_for_training(self) -> _core.Trainer:
        if self._trainer is None:
            self._trainer = _core.Trainer(self._net, self._next_seed())
        return self._trainer

    @property
    def mse(self) -> float:
        """Mean squared error, as ``fann_get_MSE`` reports it: of the last :meth:`train_epoch`
        (or :meth:`train`) or :meth:`test`. Each :meth:`train_sample` adds its pair's error as
        ``fann_train`` does: to the last epoch's pairs, or, after a test or :meth:`reset_mse`, to
        the pairs trained since (libfann would count the test's pairs too). 0 before any.
        Symmetric outputs count half their difference, as in FANN.

        Examples
        --------
        >>> import kimi_fann as kf
        >>> net = kf.Network([1, 1], output="linear")
        >>> net.weights = [0.0, 0.0]  # outputs 0
        >>> net.test(kf.TrainingData([[1.0], [1.0]], [0.5, 1.5]))  # (0.5**2 + 1.5**2) / 2
        1.25
        >>> net.learning_rate = 0.0  # steps of zero: the outputs stay 0
        >>> net.train_sample([1.0], [1.0])
        >>> net.train_sample([1.0], [0.5])
        >>> net.mse  # (1.0**2 + 0.5**2) / 2
        0.625
        """
        return self._mse

    @property
    def bit_fail(self) -> int:
        """Failed bits (outputs off by at least bit_fail_limit), counted over the same pairs as
        :attr:`mse` (``fann_get_bit_fail``)."""
        return self._bit_fail

    def reset_mse(self) -> None:
        """Start :attr:`mse` and :attr:`bit_fail` afresh (``fann_reset_MSE``): the next
        :meth:`train_sample` calls count alone.

        Returns
        -------
        None

        Examples
        --------
        >>> import kimi_fann as kf
        >>> net = kf.Network([2, 1], seed=0)
        >>> net.train_sample([0, 1], [1.0])
        >>> net.mse > 0
        True
        >>> net.reset_mse()
        >>> net.mse, net.bit_fail
        (0.0, 0)
        """
        self._mse, self._bit_fail = 0.0, 0
        if self._trainer is not None:
            self._trainer.reset_mse()

    def train_epoch(self, data: TrainingData) -> float:
        """One epoch of the current :attr:`training_algorithm` over data (``fann_train_epoch``).

        Parameters
        ----------
        data : TrainingData
            Pairs with the network's input and output sizes.

        Returns
        -------
        float
            The epoch's MSE, measured while training (before the update), as FANN does; also
            in :attr:`mse`, and the failed bits in :attr:`bit_fail`.

        Raises
        ------
        ConfigError
            If ``data`` is not a TrainingData.
        ShapeError
            If its sizes do not match the network.

        Examples
        --------
        >>> import kimi_fann as kf
        >>> net = kf.Network([2, 3, 1], seed=0)
        >>> mse = net.train_epoch(kf.TrainingData([[0, 0], [1, 1]], [0, 1]))
        >>> 0 < mse < 1
        True
        """
        _check_data(data, self, what="training")
        net = self._net
        with net.writing():  # runs wait for the epoch; another thread's epoch comes before or after
            self._mse, self._bit_fail = self._trainer_for_training().epoch(net, data.inputs, data.outputs)
            return self._mse

    def train(
        self,
        data: TrainingData,
        *,
        max_epochs: int = 1000,
        target_error: float = 1e-3,
        callback: Callback | None = None,
    ) -> np.ndarray:
        """Train until max_epochs or until the stop function reaches target_error
        (``fann_train_on_data``).

        Parameters
        ----------
        data : TrainingData
            Pairs with the network's input and output sizes.
        max_epochs : int
            Epochs at most.
        target_error : float
            With :attr:`train_stop_function` ``"mse"`` training stops when the epoch's MSE is
            at most this; with ``"bit"``, when its failed bits are.
        callback : callable, optional
            ``callback(epoch, mse, bit_fail)`` runs after every epoch (epochs count from 1);
            returning True stops training (``fann_set_callback``).

        Returns
        -------
        numpy.ndarray of float64
            The MSE of every epoch trained.

        Raises
        ------
        ConfigError
            If max_epochs is not a non-negative integer, target_error is not finite, or data
            is not a TrainingData.
        ShapeError
            If the data's sizes do not match the network.

        Examples
        --------
        >>> import kimi_fann as kf
        >>> net = kf.Network([2, 3, 1], seed=0)
        >>> data = kf.TrainingData([[0, 0], [0, 1], [1, 0], [1, 1]], [0, 1, 1, 1])
        >>> history = net.train(data, max_epochs=50, target_error=0.01)
        >>> len(history) <= 50 and bool(history[-1] < history[0])
        True
        """
        if isinstance(max_epochs, bool) or not isinstance(max_epochs, (int, np.integer)) or max_epochs < 0:
            raise ConfigError(f"max_epochs must be a non-negative integer, got {max_epochs!r}")
        if not np.isfinite(target_error):
            raise ConfigError(f"target_error must be finite, got {target_error!r}")
        history = []
        for epoch in range(1, int(max_epochs) + 1):
            mse = self.train_epoch(data)
            history.append(mse)
            reached = (self._bit_fail if self.train_stop_function == "bit" else mse) <= target_error
            if callback is not None and callback(epoch, mse, self._bit_fail) is True:
                break
            if reached:
                break
        return np.asarray(history, dtype=np.float64)

    def train_sample(self, inputs: Any, desired: Any) -> None:
        """One incremental backpropagation step on one pair (``fann_train``), whatever the
        :attr:`training_algorithm`; the pair's error adds to :attr:`mse` and :attr:`bit_fail` as
        ``fann_train`` adds it to ``fann_get_MSE``.

        Parameters
        ----------
        inputs : array_like, shape (num_input,)
        desired : array_like, shape (num_output,)

        Returns
        -------
        None

        Raises
        ------
        ShapeError
            If a size does not match the network.
        NumericError
            If a value is NaN or infinite.

        Examples
        --------
        >>> import kimi_fann as kf
        >>> net = kf.Network([2, 3, 1], seed=0)
        >>> before = net.run([1, 0])[0]
        >>> net.train_sample([1, 0], [1.0])
        >>> bool(net.run([1, 0])[0] > before)
        True
        """
        x, _ = as_matrix(np.asarray(inputs).reshape(1, -1), self.num_input, "inputs")
        y, _ = as_matrix(np.asarray(desired).reshape(1, -1), self.num_output, "desired")
        net = self._net
        with net.writing():
            self._mse, self._bit_fail = self._trainer_for_training().sample(net, x[0], y[0])

    def test(self, data: TrainingData) -> float:
        """MSE of the network on data, without training (``fann_test_data``).

        Parameters
        ----------
        data : TrainingData
            Pairs with the network's input and output sizes.

        Returns
        -------
        float
            The mean squared error; :attr:`mse` and :attr:`bit_fail` are set too.

        Raises
        ------
        ConfigError
            If ``data`` is not a TrainingData.
        ShapeError
            If its sizes do not match the network.

        Examples
        --------
        >>> import kimi_fann as kf
        >>> net = kf.Network([1, 1], output="linear")
        >>> net.weights = [1.0, 0.0]
        >>> net.test(kf.TrainingData([[2.0]], [1.0]))  # output 0.5 * 2, as desired
        0.0
        """
        _check_data(data, self, what="testing")
        self._mse, self._bit_fail = self._net.test(data.inputs, data.outputs)
        if self._trainer is not None:
            self._trainer.reset_mse()  # later train_sample errors count from here
        return self._mse

    # ---- cascade training ----

    @property
    def cascade_num_candidates(self) -> int:
        """Candidates trained per added neuron: activation functions x steepnesses x candidate
        groups (``fann_get_cascade_num_candidates``; 80 by default)."""
        return (len(self.cascade_activation_functions) * len(self.cascade_activation_steepnesses)
                * self.cascade_num_candidate_groups)

    def cascade_train(
        self,
        data: TrainingData,
        *,
        max_neurons: int,
        desired_error: float,
        neurons_between_reports: int = 0,
        random: FannRandom | None = None,
        callback: Callback | None = None,
    ) -> CascadeHistory:
        """Grow hidden neurons by cascade-correlation (FANN's Cascade2, ``fann_cascadetrain_on_data``).

        The network must be a shortcut network (``shortcut=True``, usually without hidden
        layers). Each round trains the output connections, then trains
        :attr:`cascade_num_candidates` candidate neurons (every
        :attr:`cascade_activation_functions` x :attr:`cascade_activation_steepnesses` x
        :attr:`cascade_num_candidate_groups`) to match the remaining error, and installs the best
        one in a new layer before the outputs; after the last round the outputs are trained once
        more. Both phases step with :attr:`training_algorithm` (``"rprop"``, ``"quickprop"`` or
        ``"sarprop"``) and its parameters; the output phase uses :attr:`train_error_function`;
        :attr:`train_stop_function` says what ``desired_error`` bounds; the ``cascade_*``
        attributes set the epochs, stagnation, candidate limit and weight multiplier. The
        network is replaced by the grown one (its structure, weights and layers change; training
        state is reset; a mixture of experts built from it before keeps the network it linked to).

        With ``random=kf.FannRandom(seed)`` the result is libfann's to the bit: the same neurons,
        weights and MSE after every neuron, and a ``.net`` file byte-identical to what a C
        program saves after ``srand(seed); fann_cascadetrain_on_data(ann, data, max_neurons, 0,
        desired_error)`` on glibc, from the same starting network.

        Parameters
        ----------
        data : TrainingData
            Pairs with the network's input and output sizes.
        max_neurons : int
            Hidden neurons to add at most (>= 1).
        desired_error : float
            Growth stops when the stop function (MSE, or failed bits) reaches this (>= 0).
        neurons_between_reports : int
            0: the callback runs after every round; N: where libfann reports (every N neurons,
            the first and last rounds, and when the desired error is reached).
        random : FannRandom, optional
            The stream the candidate weights (and SARPROP's noise) are drawn from, moved on by
            the run; None draws from the network's own seeded generator.
        callback : callable, optional
            ``callback(neurons, mse, bit_fail)`` after a round's output training; returning True
            stops the growth (the outputs are then trained once more, as libfann does).

        Returns
        -------
        CascadeHistory
            The MSE after every round, the neurons and epochs in all, the final MSE; the final
            MSE and failed bits are also in :attr:`mse` and :attr:`bit_fail`.

        Raises
        ------
        ConfigError
            For a network that is not shortcut, max_neurons < 1, a negative desired_error, a
            training algorithm cascade training cannot use (incremental, batch), threshold
            output neurons, no candidates, a candidate activation FANN does not train
            (threshold, threshold_symmetric, relu, leaky_relu), or data or random of the wrong
            type.
        ShapeError
            If the data's sizes do not match the network, or it has no pairs.
        NumericError
            If desired_error or a data value is not finite.
        LimitError
            If max_neurons more neurons would pass the library's limits (1024 layers).

        Examples
        --------
        >>> import numpy as np, kimi_fann as kf
        >>> x = np.linspace(-1, 1, 64, dtype=np.float32).reshape(-1, 1)
        >>> data = kf.TrainingData(x, np.sin(3 * x))
        >>> net = kf.Network([1, 1], output="linear", shortcut=True, seed=0)
        >>> history = net.cascade_train(data, max_neurons=4, desired_error=1e-4, random=kf.FannRandom(1))
        >>> net.layers[1:-1] == (1,) * history.neurons, history.mse < history.steps[0].mse
        (True, True)
        """
        _check_data(data, self, what="cascade training")
        if isinstance(max_neurons, bool) or not isinstance(max_neurons, (int, np.integer)) or max_neurons < 1:
            raise ConfigError(f"max_neurons must be a positive integer, got {max_neurons!r}")
        if isinstance(neurons_between_reports, bool) or not isinstance(neurons_between_reports, (int, np.integer)) \
                or neurons_between_reports < 0:
            raise ConfigError(f"neurons_between_reports must be a non-negative integer, got {neurons_between_reports!r}")
        if isinstance(desired_error, bool) or not isinstance(desired_error, (int, float, np.integer, np.floating)):
            raise ConfigError(f"desired_error must be a number, got {desired_error!r}")
        if random is not None and not isinstance(random, FannRandom):
            raise ConfigError(f"random must be a kf.FannRandom or None, got {type(random).__name__}")
        if max_neurons > 0xFFFFFFFF:
            raise ConfigError(f"max_neurons must be below 2**32, got {max_neurons!r}")
        stream = random.core if random is not None else _core.Random(self._next_seed(), False)
        steps: list[CascadeStep] = []
        stopped = [False]

        def report(r: tuple[int, int, float, int, int, float]) -> bool:
            steps.append(CascadeStep.from_report(r))
            if callback is not None and callback(int(r[0]), float(r[2]), int(r[3])) is True:
                stopped[0] = True
            return stopped[0]

        # The core grows a copy of the network; runs (and the callback) use this one meanwhile,
        # and the grown one replaces it whole, once no run holds it.
        old = self._net
        grown, final = _core.cascade_train(old, data.inputs, data.outputs, int(max_neurons),
                                           int(neurons_between_reports), float(desired_error), stream, report)
        with old.writing():
            self._trainer, self._mse, self._bit_fail = None, float(final[2]), int(final[3])
            self._net = grown  # last: a reader that takes the new network's lock sees the rest
        return CascadeHistory(tuple(steps), int(final[0]), int(final[1]), float(final[2]), int(final[3]), stopped[0])

    def cascade_train_on_file(
        self,
        path: PathLike,
        *,
        max_neurons: int,
        desired_error: float,
        neurons_between_reports: int = 0,
        random: FannRandom | None = None,
        callback: Callback | None = None,
    ) -> CascadeHistory:
        """:meth:`cascade_train` on a FANN ``.data`` file (``fann_cascadetrain_on_file``).

        Parameters
        ----------
        path : str or os.PathLike
            The training data file.
        max_neurons, desired_error, neurons_between_reports, random, callback
            As for :meth:`cascade_train`.

        Returns
        -------
        CascadeHistory

        Raises
        ------
        FormatError
            If the file is malformed.
        FileError
            If it cannot be read.

        Examples
        --------
        >>> import pathlib, tempfile, kimi_fann as kf
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "xor.data"
        >>> kf.TrainingData([[-1, -1], [-1, 1], [1, -1], [1, 1]], [-1, 1, 1, -1]).save(path)
        >>> net = kf.Network([2, 1], output="sigmoid_symmetric", shortcut=True, seed=2)
        >>> history = net.cascade_train_on_file(path, max_neurons=3, desired_error=1e-3)
        >>> history.neurons <= 3
        True
        """
        return self.cascade_train(TrainingData.load(path), max_neurons=max_neurons, desired_error=desired_error,
                                  neurons_between_reports=neurons_between_reports, random=random, callback=callback)

    # ---- scaling ----

    def set_scaling(
        self,
        data: TrainingData,
        *,
        input_range: tuple[float, float] | None = (-1.0, 1.0),
        output_range: tuple[float, float] | None = (-1.0, 1.0),
    ) -> None:
        """Compute scaling parameters from data (``fann_set_scaling_params``).

        Each input and output column is standardised by its mean and deviation, then mapped so
        that one deviation spans the given range. The parameters are saved in the .net file.

        Parameters
        ----------
        data : TrainingData
            Pairs with the network's input and output sizes.
        input_range, output_range : tuple of (float, float) or None
            Target ranges; None leaves that side as it is
            (``fann_set_input_scaling_params`` / ``fann_set_output_scaling_params``).

        Returns
        -------
        None

        Raises
        ------
        ConfigError
            If both ranges are None or data is not a TrainingData.
        ShapeError
            If the data's sizes do not match the network.

        Examples
        --------
        >>> import kimi_fann as kf
        >>> net = kf.Network([1, 1])
        >>> net.set_scaling(kf.TrainingData([[0.0], [10.0]], [0.0, 1.0]))
        >>> net.has_scaling, net.scale_input([[0.0], [10.0]]).ravel().tolist()
        (True, [-1.0, 1.0])
        """
        _check_data(data, self, what="computing scaling parameters")
        if input_range is None and output_range is None:
            raise ConfigError("give input_range, output_range or both")
        which = 2 if input_range is not None and output_range is not None else (0 if output_range is None else 1)
        lo_in, hi_in = input_range or (-1.0, 1.0)
        lo_out, hi_out = output_range or (-1.0, 1.0)
        self._net.set_scaling(data.inputs, data.outputs, which, lo_in, hi_in, lo_out, hi_out)

    def clear_scaling(self) -> None:
        """Reset scaling parameters to the identity-like defaults (``fann_clear_scaling_params``).

        Returns
        -------
        None

        Examples
        --------
        >>> import kimi_fann as kf
        >>> net = kf.Network([1, 1])
        >>> net.clear_scaling()
        """
        self._net.clear_scaling()

    @property
    def has_scaling(self) -> bool:
        """True when the network carries scaling parameters (saved in its .net file)."""
        return bool(self._net.has_scaling)

    def scaling_parameters(self) -> np.ndarray | None:
        """The scaling parameters in .net file order, or None when the network has none.

        Returns
        -------
        numpy.ndarray of float32, shape (4 * (num_input + num_output),) or None
            The mean, deviation, new minimum and factor of every input, then the same four of
            every output (what :meth:`from_topology` takes back).

        Examples
        --------
        >>> import kimi_fann as kf
        >>> net = kf.Network([1, 1])
        >>> net.scaling_parameters() is None
        True
        >>> net.set_scaling(kf.TrainingData([[0.0], [2.0]], [0.0, 1.0]))
        >>> net.scaling_parameters()[:2].tolist()  # the input's mean and deviation
        [1.0, 1.0]
        """
        values = np.empty(4 * (self.num_input + self.num_output), dtype=np.float32)
        with self._net.reading():
            if not self._net.has_scaling:
                return None
            self._net.read_scaling(values)
        return values

    def _scaled(self, values: Any, op: int, columns: int, name: str) -> np.ndarray:
        out, single = as_matrix(values, columns, name)
        if isinstance(values, np.ndarray) and np.shares_memory(out, values):
            out = out.copy()  # scaling works in place; never on the caller's array
        self._net.scale(op, out)
        return out[0] if single else out

    def scale_input(self, inputs: Any) -> np.ndarray:
        """Inputs mapped by the scaling parameters (``fann_scale_input``), as a new array.

        Parameters
        ----------
        inputs : array_like, shape (num_input,) or (n, num_input)

        Returns
        -------
        numpy.ndarray of float32, the same shape

        Raises
        ------
        ShapeError
            If the inputs do not have ``num_input`` columns.

        Examples
        --------
        >>> import kimi_fann as kf
        >>> net = kf.Network([1, 1])
        >>> net.set_scaling(kf.TrainingData([[0.0], [4.0]], [0.0, 1.0]))
        >>> net.scale_input([2.0]).tolist()
        [0.0]
        """
        return self._scaled(inputs, 0, self.num_input, "inputs")

    def scale_output(self, outputs: Any) -> np.ndarray:
        """Desired outputs mapped by the scaling parameters (``fann_scale_output``), as a new array.

        Parameters
        ----------
        outputs : array_like, shape (num_output,) or (n, num_output)

        Returns
        -------
        numpy.ndarray of float32, the same shape

        Raises
        ------
        ShapeError
            If the outputs do not have ``num_output`` columns.

        Examples
        --------
        >>> import kimi_fann as kf
        >>> net = kf.Network([1, 1])
        >>> net.set_scaling(kf.TrainingData([[0.0], [1.0]], [0.0, 4.0]))
        >>> net.scale_output([2.0]).tolist()
        [0.0]
        """
        return self._scaled(outputs, 1, self.num_output, "outputs")

    def descale_input(self, inputs: Any) -> np.ndarray:
        """The inverse of :meth:`scale_input` (``fann_descale_input``), as a new array.

        Parameters
        ----------
        inputs : array_like, shape (num_input,) or (n, num_input)

        Returns
        -------
        numpy.ndarray of float32, the same shape

        Raises
        ------
        ShapeError
            If the inputs do not have ``num_input`` columns.

        Examples
        --------
        >>> import kimi_fann as kf
        >>> net = kf.Network([1, 1])
        >>> net.set_scaling(kf.TrainingData([[0.0], [4.0]], [0.0, 1.0]))
        >>> net.descale_input(net.scale_input([3.0])).tolist()
        [3.0]
        """
        return self._scaled(inputs, 2, self.num_input, "inputs")

    def descale_output(self, outputs: Any) -> np.ndarray:
        """The inverse of :meth:`scale_output`: network outputs back in data units
        (``fann_descale_output``).

        Parameters
        ----------
        outputs : array_like, shape (num_output,) or (n, num_output)

        Returns
        -------
        numpy.ndarray of float32, the same shape

        Raises
        ------
        ShapeError
            If the outputs do not have ``num_output`` columns.

        Examples
        --------
        >>> import kimi_fann as kf
        >>> net = kf.Network([1, 1])
        >>> net.set_scaling(kf.TrainingData([[0.0], [1.0]], [0.0, 4.0]))
        >>> net.descale_output([0.0]).tolist()
        [2.0]
        """
        return self._scaled(outputs, 3, self.num_output, "outputs")

    def scale_data(self, data: TrainingData) -> TrainingData:
        """A scaled copy of data (``fann_scale_train``, which scales in place).

        Parameters
        ----------
        data : TrainingData

        Returns
        -------
        TrainingData
            Inputs through :meth:`scale_input`, outputs through :meth:`scale_output`.

        Raises
        ------
        ShapeError
            If the data's sizes do not match the network.

        Examples
        --------
        >>> import kimi_fann as kf
        >>> data = kf.TrainingData([[0.0], [4.0]], [0.0, 1.0])
        >>> net = kf.Network([1, 1])
        >>> net.set_scaling(data)
        >>> net.scale_data(data).inputs.ravel().tolist()
        [-1.0, 1.0]
        """
        return TrainingData(self.scale_input(data.inputs), self.scale_output(data.outputs))

    def descale_data(self, data: TrainingData) -> TrainingData:
        """A descaled copy of data (``fann_descale_train``, which works in place).

        Parameters
        ----------
        data : TrainingData

        Returns
        -------
        TrainingData
            Inputs through :meth:`descale_input`, outputs through :meth:`descale_output`.

        Raises
        ------
        ShapeError
            If the data's sizes do not match the network.

        Examples
        --------
        >>> import kimi_fann as kf
        >>> data = kf.TrainingData([[0.0], [4.0]], [0.0, 1.0])
        >>> net = kf.Network([1, 1])
        >>> net.set_scaling(data)
        >>> net.descale_data(net.scale_data(data)).inputs.ravel().tolist()
        [0.0, 4.0]
        """
        return TrainingData(self.descale_input(data.inputs), self.descale_output(data.outputs))

    # ---- files and copies ----

    def to_fann_text(self) -> bytes:
        """The network as FANN_FLO_2.1 text, byte for byte what libfann 2.2 writes.

        Returns
        -------
        bytes

        Examples
        --------
        >>> import kimi_fann as kf
        >>> kf.Network([2, 1]).to_fann_text().splitlines()[0]
        b'FANN_FLO_2.1'
        """
        return self._net.format_fann()

    @classmethod
    def from_fann_text(cls, text: bytes | str, *, source: str = "<text>") -> Network:
        """A network from FANN_FLO_2.1 (or 2.0) text.

        Parameters
        ----------
        text : bytes or str
            The contents of a float .net file.
        source : str
            Name used in error messages.

        Returns
        -------
        Network

        Raises
        ------
        FormatError
            If the text is malformed; the message names ``source`` and the line.

        Examples
        --------
        >>> import kimi_fann as kf
        >>> net = kf.Network([2, 3, 1], seed=4)
        >>> kf.Network.from_fann_text(net.to_fann_text()).layers
        (2, 3, 1)
        """
        raw = text.encode() if isinstance(text, str) else bytes(text)
        return cls._wrap(_core.Net.parse_fann(raw, source))

    def save(self, path: PathLike) -> None:
        """Write a FANN_FLO_2.1 ``.net`` file that libfann 2.2 reads (``fann_save``), or, for a
        name ending in ``.kfn``, the native container (:func:`kimi_fann.save`, raw sections).

        The format follows the name: ``.kfn`` is the container, any other name FANN text. The
        file is replaced atomically: a crash leaves the previous file intact.

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
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "net.net"
        >>> kf.Network([2, 3, 1]).save(path)
        >>> path.read_text().startswith("FANN_FLO_2.1")
        True
        >>> kf.Network([2, 3, 1]).save(path.with_suffix(".kfn"))
        >>> path.with_suffix(".kfn").read_bytes()[:3]
        b'KFN'
        """
        if is_container(path):
            save_container(path, self)
            return
        write_atomic(path, self.to_fann_text())

    @classmethod
    def load(cls, path: PathLike) -> Network:
        """Read a FANN float ``.net`` file (``fann_create_from_file``).

        Parameters
        ----------
        path : str or os.PathLike

        Returns
        -------
        Network

        Raises
        ------
        FormatError
            If the file is malformed; the message names the file and line of the first problem.
        FileError
            If the file cannot be read.

        Examples
        --------
        >>> import numpy as np, pathlib, tempfile, kimi_fann as kf
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "net.net"
        >>> net = kf.Network([2, 3, 1], seed=5)
        >>> net.save(path)
        >>> np.array_equal(kf.Network.load(path).weights, net.weights)
        True
        """
        return cls.from_fann_text(read_bytes(path), source=os.fspath(path))

    def to_fixed(self) -> FannFixedNetwork:
        """This network in FANN fixed point, as ``fann_save_to_fixed`` converts it.

        The decimal point is chosen from the largest sum of absolute weights into one neuron.

        Returns
        -------
        FannFixedNetwork
            With ``format == "fann"``.

        Raises
        ------
        LimitError
            If the weights are too large for any decimal point.

        Examples
        --------
        >>> import kimi_fann as kf
        >>> kf.Network([2, 3, 1], seed=0).to_fixed().format
        'fann'
        """
        return FannFixedNetwork(_core.FixNet.from_net(self._net))

    def quantize(self, calibration: Any, *, weight_bits: int = 8, activation_bits: int = 8) -> QuantizedNetwork:
        """Convert to kimi-fann's integer engine: Q8 (``activation_bits=8``, int8 weights) or Q16
        (``activation_bits=16``, ``weight_bits`` 8 or 16).

        Layered networks (dense or sparse) and shortcut networks (such as those grown by
        :meth:`cascade_train`, each layer reading the inputs and every earlier layer), one
        activation function per layer.

        Parameters
        ----------
        calibration : array_like, shape (n, num_input)
            Representative inputs: their ranges set the input quantization, and inputs beyond
            them saturate.
        weight_bits : {8, 16}
            Weight width (16 only with ``activation_bits=16``).
        activation_bits : {8, 16}
            8 for Q8 (uint8 activations), 16 for Q16 (int16 activations).

        Returns
        -------
        QuantizedNetwork
            With ``format`` ``"q8"`` or ``"q16"``; its ``report`` has the maximum and mean output
            error against this network on the calibration inputs.

        Raises
        ------
        ConfigError
            For mixed activations in a layer, connections that skip layers in a layered
            network, or unsupported bit widths.
        ShapeError
            If the calibration inputs do not have ``num_input`` columns.
        NumericError
            If a calibration value is NaN or infinite.

        Examples
        --------
        >>> import numpy as np, kimi_fann as kf
        >>> net = kf.Network([4, 8, 2], seed=1)
        >>> x = np.random.default_rng(0).normal(size=(200, 4))
        >>> q16 = net.quantize(calibration=x, activation_bits=16)
        >>> bool(np.abs(q16.run(x) - net.run(x)).max() < 1e-3)
        True
        """
        from .quantize import quantize

        spec, report = quantize(self.topology, self.weights, calibration, self.run, weight_bits=weight_bits,
                                activation_bits=activation_bits)
        return QuantizedNetwork(spec, report)

    def save_fixed(self, path: PathLike) -> int:
        """Write the FANN_FIX_2.0 file that ``fann_save_to_fixed`` writes.

        Parameters
        ----------
        path : str or os.PathLike

        Returns
        -------
        int
            The decimal point (fractional bits) of the file, as ``fann_save_to_fixed`` returns.

        Raises
        ------
        FileError
            If the file cannot be written.

        Examples
        --------
        >>> import pathlib, tempfile, kimi_fann as kf
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "fixed.net"
        >>> kf.Network([2, 3, 1], seed=0).save_fixed(path) == kf.FixedNetwork.load(path).decimal_point
        True
        """
        fixed = self.to_fixed()
        fixed.save(path)
        return fixed.decimal_point

    def copy(self) -> Network:
        """An independent copy (structure, weights, parameters), with a fresh training history
        and its own random generator; :func:`copy.deepcopy` and pickling keep both.

        Returns
        -------
        Network

        Examples
        --------
        >>> import numpy as np, kimi_fann as kf
        >>> net = kf.Network([2, 3, 1])
        >>> twin = net.copy()
        >>> twin.randomize_weights(seed=1)
        >>> np.array_equal(twin.weights, net.weights)
        False
        """
        with self._net.reading():
            clone = Network._wrap(self._net.copy())
        clone._rng = np.random.default_rng(self._next_seed())
        return clone

    # ---- copies and pickles: the whole object, training state included ----
    #
    # copy.copy, copy.deepcopy and pickle give the same network in every respect: structure,
    # weights, connection rate, training parameters, cascade settings and scaling bit for bit,
    # and also what only this object holds: the MSE and failed bits of the last epoch, the
    # generator behind seed=None draws, and the training history (RPROP and SARPROP step
    # sizes, previous slopes, momentum deltas, SARPROP's epoch and random stream), so that
    # training goes on after a round trip exactly as it would have here. (copy() is the other
    # kind of copy: a new network with the same model and a fresh history.)

    def _training_state(self) -> dict[str, Any] | None:
        if self._trainer is None:
            return None
        steps, slopes, deltas = (np.empty(self.total_connections, dtype=np.float32) for _ in range(3))
        numbers = self._trainer.get_state(steps, slopes, deltas)
        names = ("cleared", "sarprop_epoch", "seed", "rng_state", "rng_inc", "mse_sum", "num_mse", "bit_fail")
        return {**dict(zip(names, numbers)), "steps": steps, "slopes": slopes, "deltas": deltas}

    def _restore(self, net: _core.Net, rng: dict[str, Any], mse: float, bit_fail: int,
                 training: dict[str, Any] | None) -> None:
        self._attach(net)
        self._rng = np.random.default_rng()
        self._rng.bit_generator.state = rng
        self._mse, self._bit_fail = float(mse), int(bit_fail)
        if training is not None:
            self._trainer = _core.Trainer(net, training["seed"])
            self._trainer.set_state(training["cleared"], training["sarprop_epoch"], training["seed"],
                                    training["rng_state"], training["rng_inc"], training["mse_sum"],
                                    training["num_mse"], training["bit_fail"],
                                    *(aligned(training[k], np.float32) for k in ("steps", "slopes", "deltas")))

    def __copy__(self) -> Network:
        clone = type(self).__new__(type(self))
        with self._net.reading():  # the network and its training state of one moment
            parts = self._net.copy(), self._rng.bit_generator.state, self._mse, self._bit_fail, self._training_state()
        clone._restore(*parts)
        return clone

    def __deepcopy__(self, memo: dict) -> Network:
        return self.__copy__()  # a Network holds no Python object another could share

    def __getstate__(self) -> dict:
        # The description, not the .net text: that rounds the connection rate to six decimals.
        # Read while no change runs (a training epoch in another thread waits): one moment.
        with self._net.reading():
            functions, steepnesses = self._net.get_cascade()
            return {"topology": self.topology, "weights": self.weights, "scaling": self.scaling_parameters(),
                    "params": self.training_parameters(), "cascade": (functions, steepnesses),
                    "rng": self._rng.bit_generator.state, "mse": self._mse, "bit_fail": self._bit_fail,
                    "training": self._training_state()}

    def __setstate__(self, state: dict) -> None:
        scaling = None if state["scaling"] is None else aligned(state["scaling"], np.float32)
        net = _core.Net.assemble(state["topology"], aligned(state["weights"], np.float32), scaling, "<pickle>")
        for name, value in state["params"].items():
            if name not in _PARAM_INDEX:
                raise ConfigError(f"unknown training parameter {name!r} in the pickle")
            net.set_param(_PARAM_INDEX[name], float(value))
        net.set_cascade(*state["cascade"])
        self._restore(net, state["rng"], state["mse"], state["bit_fail"], state["training"])


_MAX_NEURONS = _core.CONSTANTS["KF_MAX_NEURONS"]
_MAX_CONNECTIONS = _core.CONSTANTS["KF_MAX_CONNECTIONS"]


def _check_limits(sizes: list[int], shortcut: bool, connection_rate: float) -> None:
    """LimitError naming the limit for layer sizes beyond the core's: neurons (bias neurons
    included) and, for a fully connected network, connections."""
    neurons = sum(int(s) for s in sizes) + (1 if shortcut else len(sizes))  # a bias neuron per layer
    if neurons > _MAX_NEURONS:
        raise LimitError(f"layers {[int(s) for s in sizes]} make {neurons} neurons with the bias neurons; "
                         f"a network holds at most {_MAX_NEURONS} (2**24)")
    if connection_rate >= 1:
        connections, before = 0, 0
        for prev, size in zip(sizes, sizes[1:]):
            before = before + int(prev) if shortcut else int(prev)
            connections += (before + 1) * int(size)
        if connections > _MAX_CONNECTIONS:
            raise LimitError(f"layers {[int(s) for s in sizes]} make {connections} connections; a network "
                             f"holds at most {_MAX_CONNECTIONS} (2**28)")


def _check_data(data: Any, net: Network | None = None, *, what: str = "") -> None:
    if not isinstance(data, TrainingData):
        raise ConfigError(f"expected TrainingData, got {type(data).__name__}")
    if what and len(data) == 0:
        raise ShapeError(f"the data holds no pairs: {what} needs at least one")
    if net is not None and (data.num_input, data.num_output) != (net.num_input, net.num_output):
        raise ShapeError(
            f"the network has {net.num_input} inputs and {net.num_output} outputs, the data "
            f"{data.num_input} and {data.num_output}"
        )
