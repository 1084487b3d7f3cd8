"""The test oracle: the real libfann 2.2 (Debian's libfann-dev) driven through ctypes.

kimi-fann promises FANN 2.2 behaviour (file format, outputs, training steps, fixed point); the
parity tests build, run and train networks in libfann through this module and compare. Nothing
here reimplements FANN: every number comes from the shared libraries.

* Importing never fails. :func:`available` / :func:`fixed_available` say whether libfloatfann /
  libfixedfann can be used; tests skip otherwise.
* Each library is loaded lazily, once, with RTLD_LOCAL: the float and fixed builds export the same
  symbol names and must not resolve into each other.
* libfann draws its random numbers from the C library's rand(), so :meth:`FloatNet.seed` calls
  srand(). fann_create_standard/sparse/shortcut reseed rand() themselves (from /dev/urandom):
  seed *after* creating a network.
* libfann reports errors and warnings by printing them and carrying on; this module only turns
  NULL results and failed saves into RuntimeError. Any use of a closed object raises ValueError.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

_DEBIAN_LIBDIR = "/usr/lib/x86_64-linux-gnu"

_ptr, _uint, _int, _float, _str = ctypes.c_void_p, ctypes.c_uint, ctypes.c_int, ctypes.c_float, ctypes.c_char_p
_floats = ctypes.POINTER(_float)
_ints = ctypes.POINTER(_int)
_uints = ctypes.POINTER(_uint)
_PathLike = str | os.PathLike


class _TrainDataStruct(ctypes.Structure):
    """struct fann_train_data (declared in fann_train.h) with fann_type = float."""

    _fields_ = [
        ("errno_f", _int),
        ("error_log", _ptr),
        ("errstr", _ptr),
        ("num_data", _uint),
        ("num_input", _uint),
        ("num_output", _uint),
        ("input", ctypes.POINTER(_floats)),
        ("output", ctypes.POINTER(_floats)),
    ]


class _Connection(ctypes.Structure):
    """struct fann_connection with fann_type = float."""

    _fields_ = [("from_neuron", _uint), ("to_neuron", _uint), ("weight", _float)]


_CONNECTION_DTYPE = np.dtype([("from_neuron", "<u4"), ("to_neuron", "<u4"), ("weight", "<f4")])
_train_data = ctypes.POINTER(_TrainDataStruct)
_connections = ctypes.POINTER(_Connection)

# Scalar training parameters: name -> ctypes type of fann_set_<name>'s value / fann_get_<name>'s result.
_PARAMS: dict[str, Any] = {
    "training_algorithm": _int, "train_error_function": _int, "train_stop_function": _int,
    "learning_rate": _float, "learning_momentum": _float, "bit_fail_limit": _float,
    "quickprop_decay": _float, "quickprop_mu": _float,
    "rprop_increase_factor": _float, "rprop_decrease_factor": _float, "rprop_delta_min": _float,
    "rprop_delta_max": _float, "rprop_delta_zero": _float,
    "sarprop_weight_decay_shift": _float, "sarprop_step_error_threshold_factor": _float,
    "sarprop_step_error_shift": _float, "sarprop_temperature": _float,
}

# Scalar cascade-correlation parameters (fann_cascade.h), the same way.
_CASCADE_PARAMS: dict[str, Any] = {
    "cascade_output_change_fraction": _float, "cascade_output_stagnation_epochs": _uint,
    "cascade_candidate_change_fraction": _float, "cascade_candidate_stagnation_epochs": _uint,
    "cascade_weight_multiplier": _float, "cascade_candidate_limit": _float,
    "cascade_max_out_epochs": _uint, "cascade_min_out_epochs": _uint,
    "cascade_max_cand_epochs": _uint, "cascade_min_cand_epochs": _uint,
    "cascade_num_candidate_groups": _uint,
}

#: fann_callback_type: int (*)(struct fann *, struct fann_train_data *, unsigned max_epochs,
#: unsigned epochs_between_reports, float desired_error, unsigned epochs).
CALLBACK = ctypes.CFUNCTYPE(_int, _ptr, _ptr, _uint, _uint, _float, _uint)

_FLOAT_SIGNATURES: dict[str, tuple[Any, list[Any]]] = {
    "fann_create_standard_array": (_ptr, [_uint, _uints]),
    "fann_create_sparse_array": (_ptr, [_float, _uint, _uints]),
    "fann_create_shortcut_array": (_ptr, [_uint, _uints]),
    "fann_create_from_file": (_ptr, [_str]),
    "fann_destroy": (None, [_ptr]),
    "fann_save": (_int, [_ptr, _str]),
    "fann_save_to_fixed": (_int, [_ptr, _str]),
    "fann_run": (_floats, [_ptr, _floats]),
    "fann_randomize_weights": (None, [_ptr, _float, _float]),
    "fann_init_weights": (None, [_ptr, _train_data]),
    **{f"fann_get_{name}": (_uint, [_ptr])
       for name in ("num_input", "num_output", "total_neurons", "total_connections", "num_layers", "bit_fail")},
    "fann_get_network_type": (_int, [_ptr]),
    "fann_get_connection_rate": (_float, [_ptr]),
    "fann_get_layer_array": (None, [_ptr, _uints]),
    "fann_get_bias_array": (None, [_ptr, _uints]),
    "fann_get_connection_array": (None, [_ptr, _connections]),
    "fann_set_weight_array": (None, [_ptr, _connections, _uint]),
    "fann_set_activation_function_hidden": (None, [_ptr, _int]),
    "fann_set_activation_function_output": (None, [_ptr, _int]),
    "fann_set_activation_function_layer": (None, [_ptr, _int, _int]),
    "fann_set_activation_function": (None, [_ptr, _int, _int, _int]),
    "fann_get_activation_function": (_int, [_ptr, _int, _int]),
    "fann_set_activation_steepness_hidden": (None, [_ptr, _float]),
    "fann_set_activation_steepness_output": (None, [_ptr, _float]),
    "fann_set_activation_steepness_layer": (None, [_ptr, _float, _int]),
    "fann_set_activation_steepness": (None, [_ptr, _float, _int, _int]),
    "fann_get_activation_steepness": (_float, [_ptr, _int, _int]),
    "fann_train": (None, [_ptr, _floats, _floats]),
    "fann_train_epoch": (_float, [_ptr, _train_data]),
    "fann_test_data": (_float, [_ptr, _train_data]),
    "fann_get_MSE": (_float, [_ptr]),
    "fann_reset_MSE": (None, [_ptr]),
    "fann_set_scaling_params": (_int, [_ptr, _train_data, _float, _float, _float, _float]),
    "fann_clear_scaling_params": (_int, [_ptr]),
    **{f"fann_{verb}_{what}": (None, [_ptr, _floats]) for verb in ("scale", "descale") for what in ("input", "output")},
    "fann_create_train": (_train_data, [_uint, _uint, _uint]),
    "fann_read_train_from_file": (_train_data, [_str]),
    "fann_save_train": (_int, [_train_data, _str]),
    "fann_destroy_train": (None, [_train_data]),
    "fann_shuffle_train_data": (None, [_train_data]),
    **{f"fann_scale_{what}train_data": (None, [_train_data, _float, _float]) for what in ("input_", "output_", "")},
    "fann_subset_train_data": (_train_data, [_train_data, _uint, _uint]),
    "fann_merge_train_data": (_train_data, [_train_data, _train_data]),
    **{f"fann_set_{name}": (None, [_ptr, ctype]) for name, ctype in _PARAMS.items()},
    **{f"fann_get_{name}": (ctype, [_ptr]) for name, ctype in _PARAMS.items()},
    "fann_cascadetrain_on_data": (None, [_ptr, _train_data, _uint, _uint, _float]),
    "fann_cascadetrain_on_file": (None, [_ptr, _str, _uint, _uint, _float]),
    "fann_get_cascade_num_candidates": (_uint, [_ptr]),
    "fann_get_cascade_activation_functions_count": (_uint, [_ptr]),
    "fann_get_cascade_activation_functions": (_ints, [_ptr]),
    "fann_set_cascade_activation_functions": (None, [_ptr, _ints, _uint]),
    "fann_get_cascade_activation_steepnesses_count": (_uint, [_ptr]),
    "fann_get_cascade_activation_steepnesses": (_floats, [_ptr]),
    "fann_set_cascade_activation_steepnesses": (None, [_ptr, _floats, _uint]),
    "fann_set_callback": (None, [_ptr, _ptr]),
    **{f"fann_set_{name}": (None, [_ptr, ctype]) for name, ctype in _CASCADE_PARAMS.items()},
    **{f"fann_get_{name}": (ctype, [_ptr]) for name, ctype in _CASCADE_PARAMS.items()},
}

_FIXED_SIGNATURES: dict[str, tuple[Any, list[Any]]] = {
    "fann_create_from_file": (_ptr, [_str]),
    "fann_destroy": (None, [_ptr]),
    "fann_run": (_ints, [_ptr, _ints]),
    "fann_get_num_input": (_uint, [_ptr]),
    "fann_get_num_output": (_uint, [_ptr]),
    "fann_get_decimal_point": (_uint, [_ptr]),
    "fann_get_multiplier": (_uint, [_ptr]),
}


def _open(name: str, signatures: dict[str, tuple[Any, list[Any]]]) -> ctypes.CDLL | None:
    """lib<name> with every function we call declared, or None when it is missing or incomplete."""
    for path in (ctypes.util.find_library(name), f"{_DEBIAN_LIBDIR}/lib{name}.so.2"):
        if not path:
            continue
        try:
            lib = ctypes.CDLL(path, mode=ctypes.RTLD_LOCAL)
            for symbol, (restype, argtypes) in signatures.items():
                function = getattr(lib, symbol)
                function.restype, function.argtypes = restype, argtypes
        except (OSError, AttributeError):
            continue
        return lib
    return None


@functools.cache
def _float_lib() -> ctypes.CDLL | None:
    return _open("floatfann", _FLOAT_SIGNATURES)


@functools.cache
def _fixed_lib() -> ctypes.CDLL | None:
    return _open("fixedfann", _FIXED_SIGNATURES)


@functools.cache
def _srand() -> Callable[[int], None]:
    srand = ctypes.CDLL(None).srand
    srand.restype, srand.argtypes = None, [_uint]
    return srand


@functools.cache
def _rand() -> Callable[[], int]:
    rand = ctypes.CDLL(None).rand
    rand.restype, rand.argtypes = _int, []
    return rand


def srand(seed: int) -> None:
    """The C library's srand(seed): seeds the rand() that libfann draws from."""
    _srand()(seed)


def rand() -> int:
    """The C library's rand()."""
    return _rand()()


def available() -> bool:
    """True when libfloatfann 2.2 can be loaded."""
    return _float_lib() is not None


def fixed_available() -> bool:
    """True when libfixedfann 2.2 can be loaded."""
    return _fixed_lib() is not None


def _flib() -> ctypes.CDLL:
    lib = _float_lib()
    if lib is None:
        raise RuntimeError("libfloatfann 2.2 is not available")
    return lib


def _xlib() -> ctypes.CDLL:
    lib = _fixed_lib()
    if lib is None:
        raise RuntimeError("libfixedfann 2.2 is not available")
    return lib


def _vector(values: Any, size: int, dtype: type) -> np.ndarray:
    """values as a contiguous 1-D array of exactly size elements (C reads that many)."""
    row = np.ascontiguousarray(values, dtype=dtype)
    if row.shape != (size,):
        raise ValueError(f"expected {size} values, got shape {row.shape}")
    return row


def _matrix(values: Any, width: int, dtype: type | None = None) -> np.ndarray:
    """values as a 2-D array of rows of exactly width elements (dtype None: keep values' own)."""
    rows = np.asarray(values, dtype=dtype)
    if rows.ndim != 2 or rows.shape[1] != width:
        raise ValueError(f"expected rows of {width} values, got shape {rows.shape}")
    return rows


def _as_floats(array: np.ndarray) -> Any:
    return array.ctypes.data_as(_floats)


def _layers(layers: Sequence[int]) -> tuple[int, ctypes.Array]:
    return len(layers), (_uint * len(layers))(*layers)


class _Owned:
    """Owns one pointer returned by libfann and frees it exactly once."""

    _kind = "libfann object"

    def __init__(self, ptr: Any, free: Callable[[Any], None]) -> None:
        if not ptr:
            raise RuntimeError(f"libfann could not create the {self._kind} (see the error it printed)")
        self._ptr = ptr
        self._free = free  # kept here so __del__ needs no module globals at shutdown

    @property
    def _p(self) -> Any:
        if self._ptr is None:
            raise ValueError(f"{self._kind} is closed")
        return self._ptr

    def close(self) -> None:
        """Free the C object; later calls do nothing."""
        ptr, self._ptr = getattr(self, "_ptr", None), None
        if ptr:
            self._free(ptr)

    def __del__(self) -> None:
        self.close()


class TrainData(_Owned):
    """A struct fann_train_data* of libfloatfann."""

    _kind = "training data"

    def __init__(self, ptr: Any) -> None:
        super().__init__(ptr, _flib().fann_destroy_train)

    @classmethod
    def from_arrays(cls, inputs: Any, outputs: Any) -> TrainData:
        """fann_create_train, then each row copied in through the input/output pointer arrays."""
        x = np.ascontiguousarray(inputs, dtype=np.float32)
        y = np.ascontiguousarray(outputs, dtype=np.float32)
        if x.ndim != 2 or y.ndim != 2 or len(x) != len(y):
            raise ValueError(f"need 2-D inputs and outputs with as many rows, got {x.shape} and {y.shape}")
        data = cls(_flib().fann_create_train(*x.shape, y.shape[1]))
        struct = data._p.contents
        for i in range(len(x)):
            ctypes.memmove(struct.input[i], x[i].ctypes.data, x[i].nbytes)
            ctypes.memmove(struct.output[i], y[i].ctypes.data, y[i].nbytes)
        return data

    @classmethod
    def load(cls, path: _PathLike) -> TrainData:
        """fann_read_train_from_file."""
        ptr = _flib().fann_read_train_from_file(os.fsencode(path))
        if not ptr:
            raise RuntimeError(f"libfann could not read training data from {os.fspath(path)}")
        return cls(ptr)

    def save(self, path: _PathLike) -> None:
        """fann_save_train."""
        if _flib().fann_save_train(self._p, os.fsencode(path)) != 0:
            raise RuntimeError(f"libfann could not save training data to {os.fspath(path)}")

    def __len__(self) -> int:
        return self._p.contents.num_data

    @property
    def num_input(self) -> int:
        return self._p.contents.num_input

    @property
    def num_output(self) -> int:
        return self._p.contents.num_output

    def _rows(self, field: str, width: int) -> np.ndarray:
        rows = getattr(self._p.contents, field)
        out = np.empty((len(self), width), dtype=np.float32)
        for i in range(len(out)):
            ctypes.memmove(out[i].ctypes.data, rows[i], out[i].nbytes)
        return out

    def inputs(self) -> np.ndarray:
        """A float32 copy of the inputs, shape (len, num_input)."""
        return self._rows("input", self.num_input)

    def outputs(self) -> np.ndarray:
        """A float32 copy of the outputs, shape (len, num_output)."""
        return self._rows("output", self.num_output)

    def shuffle(self) -> None:
        """fann_shuffle_train_data (draws from rand())."""
        _flib().fann_shuffle_train_data(self._p)

    def scale_input(self, new_min: float, new_max: float) -> None:
        """fann_scale_input_train_data, in place."""
        _flib().fann_scale_input_train_data(self._p, float(new_min), float(new_max))

    def scale_output(self, new_min: float, new_max: float) -> None:
        """fann_scale_output_train_data, in place."""
        _flib().fann_scale_output_train_data(self._p, float(new_min), float(new_max))

    def scale(self, new_min: float, new_max: float) -> None:
        """fann_scale_train_data, in place."""
        _flib().fann_scale_train_data(self._p, float(new_min), float(new_max))

    def subset(self, pos: int, length: int) -> TrainData:
        """fann_subset_train_data: a new copy of rows pos .. pos + length - 1."""
        return TrainData(_flib().fann_subset_train_data(self._p, pos, length))

    def merge(self, other: TrainData) -> TrainData:
        """fann_merge_train_data: a new set holding self's rows, then other's."""
        return TrainData(_flib().fann_merge_train_data(self._p, other._p))


class FloatNet(_Owned):
    """A struct fann* of libfloatfann."""

    _kind = "network"

    def __init__(self, ptr: Any) -> None:
        super().__init__(ptr, _flib().fann_destroy)

    @classmethod
    def standard(cls, layers: Sequence[int]) -> FloatNet:
        """fann_create_standard_array."""
        return cls(_flib().fann_create_standard_array(*_layers(layers)))

    @classmethod
    def sparse(cls, rate: float, layers: Sequence[int]) -> FloatNet:
        """fann_create_sparse_array."""
        return cls(_flib().fann_create_sparse_array(float(rate), *_layers(layers)))

    @classmethod
    def shortcut(cls, layers: Sequence[int]) -> FloatNet:
        """fann_create_shortcut_array."""
        return cls(_flib().fann_create_shortcut_array(*_layers(layers)))

    @classmethod
    def load(cls, path: _PathLike) -> FloatNet:
        """fann_create_from_file."""
        ptr = _flib().fann_create_from_file(os.fsencode(path))
        if not ptr:
            raise RuntimeError(f"libfann could not load a network from {os.fspath(path)}")
        return cls(ptr)

    @staticmethod
    def seed(n: int) -> None:
        """srand(n): makes libfann's rand()-driven randomness reproducible (call after creation)."""
        _srand()(n)

    def save(self, path: _PathLike) -> None:
        """fann_save."""
        if _flib().fann_save(self._p, os.fsencode(path)) != 0:
            raise RuntimeError(f"libfann could not save the network to {os.fspath(path)}")

    def save_to_fixed(self, path: _PathLike) -> int:
        """fann_save_to_fixed; returns the decimal point libfann chose."""
        decimal_point = _flib().fann_save_to_fixed(self._p, os.fsencode(path))
        if decimal_point < 0:
            raise RuntimeError(f"libfann could not save the network to {os.fspath(path)}")
        return decimal_point

    @property
    def num_input(self) -> int:
        return _flib().fann_get_num_input(self._p)

    @property
    def num_output(self) -> int:
        return _flib().fann_get_num_output(self._p)

    @property
    def total_neurons(self) -> int:
        """Neurons including the bias neurons."""
        return _flib().fann_get_total_neurons(self._p)

    @property
    def total_connections(self) -> int:
        return _flib().fann_get_total_connections(self._p)

    @property
    def num_layers(self) -> int:
        """fann_get_num_layers."""
        return _flib().fann_get_num_layers(self._p)

    @property
    def network_type(self) -> int:
        """fann_get_network_type: 0 for FANN_NETTYPE_LAYER, 1 for FANN_NETTYPE_SHORTCUT."""
        return _flib().fann_get_network_type(self._p)

    @property
    def connection_rate(self) -> float:
        """fann_get_connection_rate."""
        return _flib().fann_get_connection_rate(self._p)

    def run(self, x: Any) -> np.ndarray:
        """fann_run on one input row; a float32 copy of the outputs."""
        row = _vector(x, self.num_input, np.float32)
        out = _flib().fann_run(self._p, _as_floats(row))
        return np.ctypeslib.as_array(out, shape=(self.num_output,)).copy()

    def run_batch(self, X: Any) -> np.ndarray:
        """run on every row of X; shape (rows, num_output)."""
        rows = _matrix(X, self.num_input, np.float32)
        out = np.empty((len(rows), self.num_output), dtype=np.float32)
        for i, row in enumerate(rows):
            out[i] = self.run(row)
        return out

    def randomize_weights(self, lo: float, hi: float) -> None:
        """fann_randomize_weights (draws from rand())."""
        _flib().fann_randomize_weights(self._p, float(lo), float(hi))

    def init_weights(self, data: TrainData) -> None:
        """fann_init_weights (Nguyen-Widrow, draws from rand())."""
        _flib().fann_init_weights(self._p, data._p)

    # Activations; layers count the input layer as 0, neurons count within the layer.
    def set_activation_function_hidden(self, func: int) -> None:
        _flib().fann_set_activation_function_hidden(self._p, func)

    def set_activation_function_output(self, func: int) -> None:
        _flib().fann_set_activation_function_output(self._p, func)

    def set_activation_function_layer(self, func: int, layer: int) -> None:
        _flib().fann_set_activation_function_layer(self._p, func, layer)

    def set_activation_function(self, func: int, layer: int, neuron: int) -> None:
        _flib().fann_set_activation_function(self._p, func, layer, neuron)

    def get_activation_function(self, layer: int, neuron: int) -> int:
        """The fann_activationfunc_enum value, or -1 (after libfann prints an error)."""
        return _flib().fann_get_activation_function(self._p, layer, neuron)

    def set_activation_steepness_hidden(self, steepness: float) -> None:
        _flib().fann_set_activation_steepness_hidden(self._p, float(steepness))

    def set_activation_steepness_output(self, steepness: float) -> None:
        _flib().fann_set_activation_steepness_output(self._p, float(steepness))

    def set_activation_steepness_layer(self, steepness: float, layer: int) -> None:
        _flib().fann_set_activation_steepness_layer(self._p, float(steepness), layer)

    def set_activation_steepness(self, steepness: float, layer: int, neuron: int) -> None:
        _flib().fann_set_activation_steepness(self._p, float(steepness), layer, neuron)

    def get_activation_steepness(self, layer: int, neuron: int) -> float:
        """The steepness, or -1 (after libfann prints an error)."""
        return _flib().fann_get_activation_steepness(self._p, layer, neuron)

    def set(self, name: str, value: float) -> None:
        """fann_set_<name> for a training parameter, e.g. set("training_algorithm", 2)."""
        if name not in _PARAMS:
            raise KeyError(f"unknown libfann parameter {name!r}")
        getattr(_flib(), f"fann_set_{name}")(self._p, value)

    def get(self, name: str) -> float:
        """fann_get_<name> for a training parameter (enums come back as int)."""
        if name not in _PARAMS:
            raise KeyError(f"unknown libfann parameter {name!r}")
        return getattr(_flib(), f"fann_get_{name}")(self._p)

    def set_cascade(self, name: str, value: float) -> None:
        """fann_set_<name> for a scalar cascade parameter, e.g. set_cascade("cascade_max_out_epochs", 30)."""
        if name not in _CASCADE_PARAMS:
            raise KeyError(f"unknown libfann cascade parameter {name!r}")
        getattr(_flib(), f"fann_set_{name}")(self._p, value)

    def get_cascade(self, name: str) -> float:
        """fann_get_<name> for a scalar cascade parameter."""
        if name not in _CASCADE_PARAMS:
            raise KeyError(f"unknown libfann cascade parameter {name!r}")
        return getattr(_flib(), f"fann_get_{name}")(self._p)

    def get_cascade_num_candidates(self) -> int:
        """fann_get_cascade_num_candidates."""
        return _flib().fann_get_cascade_num_candidates(self._p)

    def set_cascade_activation_functions(self, functions: Sequence[int]) -> None:
        """fann_set_cascade_activation_functions (enum values)."""
        array = (_int * len(functions))(*functions)
        _flib().fann_set_cascade_activation_functions(self._p, array, len(functions))

    def get_cascade_activation_functions(self) -> list[int]:
        """fann_get_cascade_activation_functions, fann_get_cascade_activation_functions_count values."""
        count = _flib().fann_get_cascade_activation_functions_count(self._p)
        return list(_flib().fann_get_cascade_activation_functions(self._p)[:count])

    def set_cascade_activation_steepnesses(self, steepnesses: Sequence[float]) -> None:
        """fann_set_cascade_activation_steepnesses."""
        array = (_float * len(steepnesses))(*steepnesses)
        _flib().fann_set_cascade_activation_steepnesses(self._p, array, len(steepnesses))

    def get_cascade_activation_steepnesses(self) -> list[float]:
        """fann_get_cascade_activation_steepnesses, fann_get_cascade_activation_steepnesses_count values."""
        count = _flib().fann_get_cascade_activation_steepnesses_count(self._p)
        return list(_flib().fann_get_cascade_activation_steepnesses(self._p)[:count])

    def set_callback(self, callback: Callable[[FloatNet, int, int], int] | None) -> None:
        """fann_set_callback: callback(self, max_epochs, epochs) runs where libfann reports (every
        epochs_between_reports epochs or neurons) and stops training by returning -1. None
        removes it."""
        if callback is None:
            self._callback = None
            _flib().fann_set_callback(self._p, None)
            return

        def trampoline(ann: Any, data: Any, max_epochs: int, between: int, desired: float, epochs: int) -> int:
            return int(callback(self, max_epochs, epochs))

        self._callback = CALLBACK(trampoline)  # kept alive while libfann holds the pointer
        _flib().fann_set_callback(self._p, ctypes.cast(self._callback, _ptr))

    def cascadetrain_on_data(self, data: TrainData, max_neurons: int, neurons_between_reports: int,
                             desired_error: float) -> None:
        """fann_cascadetrain_on_data (draws candidate weights from rand(): seed with srand first)."""
        _flib().fann_cascadetrain_on_data(self._p, data._p, max_neurons, neurons_between_reports, float(desired_error))

    def cascadetrain_on_file(self, path: _PathLike, max_neurons: int, neurons_between_reports: int,
                             desired_error: float) -> None:
        """fann_cascadetrain_on_file."""
        _flib().fann_cascadetrain_on_file(self._p, os.fsencode(path), max_neurons, neurons_between_reports,
                                          float(desired_error))

    def train(self, x: Any, y: Any) -> None:
        """fann_train: one incremental step on one pair."""
        row_in = _vector(x, self.num_input, np.float32)
        row_out = _vector(y, self.num_output, np.float32)
        _flib().fann_train(self._p, _as_floats(row_in), _as_floats(row_out))

    def train_epoch(self, data: TrainData) -> float:
        """fann_train_epoch with the network's training algorithm; the epoch's MSE."""
        return _flib().fann_train_epoch(self._p, data._p)

    def test_data(self, data: TrainData) -> float:
        """fann_test_data: the MSE over data (also updates bit_fail)."""
        return _flib().fann_test_data(self._p, data._p)

    @property
    def mse(self) -> float:
        """fann_get_MSE."""
        return _flib().fann_get_MSE(self._p)

    @property
    def bit_fail(self) -> int:
        """fann_get_bit_fail."""
        return _flib().fann_get_bit_fail(self._p)

    def get_bit_fail(self) -> int:
        """bit_fail under libfann's own name (bench/fann_parity_table.py calls it so)."""
        return self.bit_fail

    def reset_mse(self) -> None:
        """fann_reset_MSE."""
        _flib().fann_reset_MSE(self._p)

    def _connection_array(self) -> tuple[ctypes.Array, np.ndarray]:
        """fann_get_connection_array into a fresh C array, plus a numpy view of it."""
        n = self.total_connections
        connections = (_Connection * n)()
        _flib().fann_get_connection_array(self._p, connections)
        return connections, np.frombuffer(connections, dtype=_CONNECTION_DTYPE, count=n)

    def get_connections(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(from_neuron, to_neuron, weight) in libfann's connection order."""
        _, view = self._connection_array()
        return (view["from_neuron"].astype(np.int64), view["to_neuron"].astype(np.int64),
                view["weight"].copy())

    def set_weights(self, weights: Any) -> None:
        """fann_set_weight_array with the weights in get_connections order."""
        connections, view = self._connection_array()
        view["weight"] = _vector(weights, len(view), np.float32)
        _flib().fann_set_weight_array(self._p, connections, len(view))

    def _per_layer(self, function: str) -> np.ndarray:
        layers = (_uint * _flib().fann_get_num_layers(self._p))()
        getattr(_flib(), function)(self._p, layers)
        return np.array(list(layers), dtype=np.int64)

    def get_layer_array(self) -> np.ndarray:
        """Neurons per layer, bias neurons not counted."""
        return self._per_layer("fann_get_layer_array")

    def get_bias_array(self) -> np.ndarray:
        """Bias neurons per layer."""
        return self._per_layer("fann_get_bias_array")

    def set_scaling_params(self, data: TrainData, in_min: float, in_max: float,
                           out_min: float, out_max: float) -> None:
        """fann_set_scaling_params from data's statistics."""
        if _flib().fann_set_scaling_params(self._p, data._p, float(in_min), float(in_max),
                                           float(out_min), float(out_max)) != 0:
            raise RuntimeError("libfann could not set the scaling parameters")

    def clear_scaling_params(self) -> None:
        """fann_clear_scaling_params."""
        if _flib().fann_clear_scaling_params(self._p) != 0:
            raise RuntimeError("libfann could not clear the scaling parameters")

    def _scaled(self, function: str, values: Any, width: int) -> np.ndarray:
        """A copy of values (one row or a 2-D batch) passed row by row through an in-place scaler."""
        out = np.array(values, dtype=np.float32)
        if out.ndim not in (1, 2) or out.shape[-1] != width:
            raise ValueError(f"expected rows of {width} values, got shape {out.shape}")
        scale = getattr(_flib(), function)
        for row in out.reshape(-1, width):
            scale(self._p, _as_floats(row))
        return out

    def scale_input(self, x: Any) -> np.ndarray:
        """fann_scale_input on a copy of x."""
        return self._scaled("fann_scale_input", x, self.num_input)

    def scale_output(self, y: Any) -> np.ndarray:
        """fann_scale_output on a copy of y."""
        return self._scaled("fann_scale_output", y, self.num_output)

    def descale_input(self, x: Any) -> np.ndarray:
        """fann_descale_input on a copy of x."""
        return self._scaled("fann_descale_input", x, self.num_input)

    def descale_output(self, y: Any) -> np.ndarray:
        """fann_descale_output on a copy of y."""
        return self._scaled("fann_descale_output", y, self.num_output)


class FixedNet(_Owned):
    """A struct fann* of libfixedfann: a FANN_FIX_2.0 network with int inputs and outputs."""

    _kind = "fixed-point network"

    def __init__(self, ptr: Any) -> None:
        super().__init__(ptr, _xlib().fann_destroy)

    @classmethod
    def load(cls, path: _PathLike) -> FixedNet:
        """fann_create_from_file of libfixedfann (reads files written by fann_save_to_fixed)."""
        ptr = _xlib().fann_create_from_file(os.fsencode(path))
        if not ptr:
            raise RuntimeError(f"libfixedfann could not load a network from {os.fspath(path)}")
        return cls(ptr)

    @property
    def num_input(self) -> int:
        return _xlib().fann_get_num_input(self._p)

    @property
    def num_output(self) -> int:
        return _xlib().fann_get_num_output(self._p)

    @property
    def decimal_point(self) -> int:
        return _xlib().fann_get_decimal_point(self._p)

    @property
    def multiplier(self) -> int:
        """2 ** decimal_point: the int standing for 1.0."""
        return _xlib().fann_get_multiplier(self._p)

    def run(self, x: Any) -> np.ndarray:
        """fann_run on one row of ints (already multiplied by multiplier); an int32 copy of the outputs."""
        if not np.issubdtype(np.asarray(x).dtype, np.integer):
            raise TypeError("libfixedfann takes integer inputs: multiply by multiplier and round first")
        row = _vector(x, self.num_input, np.int32)
        out = _xlib().fann_run(self._p, row.ctypes.data_as(_ints))
        return np.ctypeslib.as_array(out, shape=(self.num_output,)).astype(np.int32)

    def run_batch(self, X: Any) -> np.ndarray:
        """run on every row of X; shape (rows, num_output)."""
        rows = _matrix(X, self.num_input)
        out = np.empty((len(rows), self.num_output), dtype=np.int32)
        for i, row in enumerate(rows):
            out[i] = self.run(row)
        return out
