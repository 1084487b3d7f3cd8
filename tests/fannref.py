"""libfann 2.2 (Debian's libfann-dev) through ctypes: the reference our tests compare against.

Importing never fails; :func:`available` says whether libfloatfann could be loaded, and tests
skip when it is not. Float and fixed-point builds export the same symbol names, so each is
loaded on its own (RTLD_LOCAL).
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import lru_cache
from typing import Sequence

import numpy as np

_P = ctypes.c_void_p
_U = ctypes.c_uint
_F = ctypes.c_float


class _TrainData(ctypes.Structure):
    _fields_ = [
        ("errno_f", ctypes.c_int),
        ("error_log", _P),
        ("errstr", ctypes.c_char_p),
        ("num_data", _U),
        ("num_input", _U),
        ("num_output", _U),
        ("input", _P),
        ("output", _P),
    ]


class _Connection(ctypes.Structure):
    _fields_ = [("from_neuron", _U), ("to_neuron", _U), ("weight", _F)]


def _load(name: str):
    path = ctypes.util.find_library(name) or f"/usr/lib/x86_64-linux-gnu/lib{name}.so.2"
    try:
        return ctypes.CDLL(path, mode=ctypes.RTLD_LOCAL)
    except OSError:
        return None


_SIGNATURES = {
    "fann_create_standard_array": (_P, [_U, ctypes.POINTER(_U)]),
    "fann_create_sparse_array": (_P, [_F, _U, ctypes.POINTER(_U)]),
    "fann_create_shortcut_array": (_P, [_U, ctypes.POINTER(_U)]),
    "fann_create_from_file": (_P, [ctypes.c_char_p]),
    "fann_destroy": (None, [_P]),
    "fann_save": (ctypes.c_int, [_P, ctypes.c_char_p]),
    "fann_save_to_fixed": (ctypes.c_int, [_P, ctypes.c_char_p]),
    "fann_run": (ctypes.POINTER(_F), [_P, ctypes.POINTER(_F)]),
    "fann_randomize_weights": (None, [_P, _F, _F]),
    "fann_init_weights": (None, [_P, _P]),
    "fann_get_num_input": (_U, [_P]),
    "fann_get_num_output": (_U, [_P]),
    "fann_get_total_neurons": (_U, [_P]),
    "fann_get_total_connections": (_U, [_P]),
    "fann_set_activation_function_hidden": (None, [_P, ctypes.c_int]),
    "fann_set_activation_function_output": (None, [_P, ctypes.c_int]),
    "fann_set_activation_function": (None, [_P, ctypes.c_int, ctypes.c_int, ctypes.c_int]),
    "fann_set_activation_steepness_hidden": (None, [_P, _F]),
    "fann_set_activation_steepness_output": (None, [_P, _F]),
    "fann_set_activation_steepness": (None, [_P, _F, ctypes.c_int, ctypes.c_int]),
    "fann_train_epoch": (_F, [_P, _P]),
    "fann_train": (None, [_P, ctypes.POINTER(_F), ctypes.POINTER(_F)]),
    "fann_test_data": (_F, [_P, _P]),
    "fann_get_MSE": (_F, [_P]),
    "fann_get_bit_fail": (_U, [_P]),
    "fann_get_connection_array": (None, [_P, ctypes.POINTER(_Connection)]),
    "fann_set_scaling_params": (ctypes.c_int, [_P, _P, _F, _F, _F, _F]),
    "fann_scale_input": (None, [_P, ctypes.POINTER(_F)]),
    "fann_create_train": (ctypes.POINTER(_TrainData), [_U, _U, _U]),
    "fann_read_train_from_file": (ctypes.POINTER(_TrainData), [ctypes.c_char_p]),
    "fann_destroy_train": (None, [_P]),
}

# Scalar parameters: name -> ctypes type of fann_set_<name> / fann_get_<name>.
_PARAMS = {
    "training_algorithm": ctypes.c_int, "train_error_function": ctypes.c_int,
    "train_stop_function": ctypes.c_int, "learning_rate": _F, "learning_momentum": _F,
    "bit_fail_limit": _F, "quickprop_decay": _F, "quickprop_mu": _F,
    "rprop_increase_factor": _F, "rprop_decrease_factor": _F, "rprop_delta_min": _F,
    "rprop_delta_max": _F, "rprop_delta_zero": _F, "sarprop_weight_decay_shift": _F,
    "sarprop_step_error_threshold_factor": _F, "sarprop_step_error_shift": _F,
    "sarprop_temperature": _F,
}


@lru_cache(maxsize=None)
def _float_lib():
    lib = _load("floatfann")
    if lib is None:
        return None
    for name, (restype, argtypes) in _SIGNATURES.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = restype, argtypes
    for name, ctype in _PARAMS.items():
        setter, getter = getattr(lib, f"fann_set_{name}"), getattr(lib, f"fann_get_{name}")
        setter.restype, setter.argtypes = None, [_P, ctype]
        getter.restype, getter.argtypes = ctype, [_P]
    return lib


def available() -> bool:
    """True when libfloatfann 2.2 can be loaded."""
    return _float_lib() is not None


@lru_cache(maxsize=None)
def _fixed_lib():
    lib = _load("fixedfann")
    if lib is None:
        return None
    lib.fann_create_from_file.restype, lib.fann_create_from_file.argtypes = _P, [ctypes.c_char_p]
    lib.fann_destroy.restype, lib.fann_destroy.argtypes = None, [_P]
    lib.fann_run.restype = ctypes.POINTER(ctypes.c_int)
    lib.fann_run.argtypes = [_P, ctypes.POINTER(ctypes.c_int)]
    for name in ("fann_get_num_input", "fann_get_num_output", "fann_get_decimal_point", "fann_get_multiplier"):
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = _U, [_P]
    return lib


def fixed_available() -> bool:
    """True when libfixedfann 2.2 can be loaded."""
    return _fixed_lib() is not None


def _floats(values) -> ctypes.Array:
    array = np.ascontiguousarray(values, dtype=np.float32)
    return (ctypes.c_float * array.size)(*array.tolist())


class TrainData:
    """A struct fann_train_data owned by libfloatfann."""

    def __init__(self, ptr) -> None:
        if not ptr:
            raise RuntimeError("libfann could not create the training data")
        self._ptr = ptr

    @classmethod
    def from_arrays(cls, inputs: np.ndarray, outputs: np.ndarray) -> TrainData:
        x = np.ascontiguousarray(inputs, dtype=np.float32)
        y = np.ascontiguousarray(outputs, dtype=np.float32)
        data = cls(_float_lib().fann_create_train(len(x), x.shape[1], y.shape[1]))
        # fann_create_train lays rows out contiguously behind input[0] / output[0].
        rows_in = ctypes.cast(data._ptr.contents.input, ctypes.POINTER(ctypes.POINTER(_F)))
        rows_out = ctypes.cast(data._ptr.contents.output, ctypes.POINTER(ctypes.POINTER(_F)))
        if len(x):
            ctypes.memmove(rows_in[0], x.ctypes.data, x.nbytes)
            ctypes.memmove(rows_out[0], y.ctypes.data, y.nbytes)
        return data

    @classmethod
    def load(cls, path: str) -> TrainData:
        return cls(_float_lib().fann_read_train_from_file(path.encode()))

    def close(self) -> None:
        if self._ptr:
            _float_lib().fann_destroy_train(ctypes.cast(self._ptr, _P))
            self._ptr = None

    def __del__(self) -> None:
        self.close()

    @property
    def handle(self):
        if not self._ptr:
            raise ValueError("training data already closed")
        return ctypes.cast(self._ptr, _P)


class FloatNet:
    """A struct fann* of libfloatfann."""

    def __init__(self, ptr) -> None:
        if not ptr:
            raise RuntimeError("libfann could not create the network")
        self._ptr = ptr

    @staticmethod
    def seed(n: int) -> None:
        """Seed the C library's rand(), which libfann draws weights and connections from."""
        ctypes.CDLL(None).srand(ctypes.c_uint(n))

    @classmethod
    def standard(cls, layers: Sequence[int]) -> FloatNet:
        return cls(_float_lib().fann_create_standard_array(len(layers), (_U * len(layers))(*layers)))

    @classmethod
    def sparse(cls, rate: float, layers: Sequence[int]) -> FloatNet:
        return cls(_float_lib().fann_create_sparse_array(rate, len(layers), (_U * len(layers))(*layers)))

    @classmethod
    def shortcut(cls, layers: Sequence[int]) -> FloatNet:
        return cls(_float_lib().fann_create_shortcut_array(len(layers), (_U * len(layers))(*layers)))

    @classmethod
    def load(cls, path: str) -> FloatNet:
        return cls(_float_lib().fann_create_from_file(path.encode()))

    @property
    def handle(self):
        if not self._ptr:
            raise ValueError("network already closed")
        return self._ptr

    def close(self) -> None:
        if self._ptr:
            _float_lib().fann_destroy(self._ptr)
            self._ptr = None

    def __del__(self) -> None:
        self.close()

    def __getattr__(self, name: str):
        # fann_<name>(ann, ...) for the setters and getters of activations and parameters.
        fn = getattr(_float_lib(), f"fann_{name}", None)
        if fn is None or name.startswith("_"):
            raise AttributeError(name)
        return lambda *args: fn(self.handle, *args)

    def set(self, name: str, value) -> None:
        getattr(_float_lib(), f"fann_set_{name}")(self.handle, value)

    def get(self, name: str):
        return getattr(_float_lib(), f"fann_get_{name}")(self.handle)

    @property
    def num_input(self) -> int:
        return _float_lib().fann_get_num_input(self.handle)

    @property
    def num_output(self) -> int:
        return _float_lib().fann_get_num_output(self.handle)

    @property
    def total_connections(self) -> int:
        return _float_lib().fann_get_total_connections(self.handle)

    def save(self, path: str) -> None:
        if _float_lib().fann_save(self.handle, path.encode()) != 0:
            raise RuntimeError(f"libfann could not save {path}")

    def save_to_fixed(self, path: str) -> int:
        """fann_save_to_fixed; returns the decimal point libfann computed."""
        return int(_float_lib().fann_save_to_fixed(self.handle, path.encode()))

    def run(self, x) -> np.ndarray:
        out = _float_lib().fann_run(self.handle, _floats(x))
        return np.ctypeslib.as_array(out, shape=(self.num_output,)).copy()

    def run_batch(self, X) -> np.ndarray:
        return np.array([self.run(row) for row in np.asarray(X)], dtype=np.float32)

    def train_epoch(self, data: TrainData) -> float:
        return float(_float_lib().fann_train_epoch(self.handle, data.handle))

    def test_data(self, data: TrainData) -> float:
        return float(_float_lib().fann_test_data(self.handle, data.handle))

    def set_scaling_params(self, data: TrainData, in_min, in_max, out_min, out_max) -> None:
        if _float_lib().fann_set_scaling_params(self.handle, data.handle, in_min, in_max, out_min, out_max):
            raise RuntimeError("libfann could not set scaling parameters")

    def scale_input(self, X) -> np.ndarray:
        rows = []
        for row in np.asarray(X, dtype=np.float32):
            buf = _floats(row)
            _float_lib().fann_scale_input(self.handle, buf)
            rows.append(list(buf))
        return np.array(rows, dtype=np.float32)


class FixedNet:
    """A struct fann* of libfixedfann (FANN_FIX_2.0 networks, int inputs and outputs)."""

    def __init__(self, ptr) -> None:
        if not ptr:
            raise RuntimeError("libfixedfann could not load the network")
        self._ptr = ptr

    @classmethod
    def load(cls, path: str) -> FixedNet:
        return cls(_fixed_lib().fann_create_from_file(path.encode()))

    def close(self) -> None:
        if self._ptr:
            _fixed_lib().fann_destroy(self._ptr)
            self._ptr = None

    def __del__(self) -> None:
        self.close()

    @property
    def decimal_point(self) -> int:
        return _fixed_lib().fann_get_decimal_point(self._ptr)

    @property
    def multiplier(self) -> int:
        return _fixed_lib().fann_get_multiplier(self._ptr)

    def run(self, x) -> np.ndarray:
        """fann_run on one row of ints (libfixedfann prints a warning for |x| > multiplier)."""
        n_in, n_out = _fixed_lib().fann_get_num_input(self._ptr), _fixed_lib().fann_get_num_output(self._ptr)
        row = np.ascontiguousarray(x, dtype=np.int32)
        if row.shape != (n_in,):
            raise ValueError(f"expected {n_in} inputs")
        out = _fixed_lib().fann_run(self._ptr, (ctypes.c_int * n_in)(*row.tolist()))
        return np.array([out[i] for i in range(n_out)], dtype=np.int32)

    def run_batch(self, X) -> np.ndarray:
        return np.array([self.run(row) for row in np.asarray(X)], dtype=np.int32)
