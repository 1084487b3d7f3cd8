"""The exception hierarchy and the mapping of every C status code."""

from __future__ import annotations

import dataclasses
import pickle

import numpy as np
import pytest

import kimi_fann as kf
from kimi_fann import _core, errors


def test_every_status_code_has_a_description_and_an_exception() -> None:
    codes = [-i for i in range(_core.STATUS_COUNT)]
    assert _core.status_str(0) == "ok"
    for code in codes[1:]:
        assert _core.status_str(code) != "unknown status"
        exc = errors.error_for_status(code, "message")
        assert isinstance(exc, (errors.KimiFannError, MemoryError))
        if isinstance(exc, errors.KimiFannError):
            assert exc.status == code
    assert _core.status_str(-_core.STATUS_COUNT) == "unknown status"


@pytest.mark.parametrize(
    "cls, builtin",
    [
        (errors.FormatError, ValueError),
        (errors.ShapeError, ValueError),
        (errors.ConfigError, ValueError),
        (errors.NumericError, ValueError),
        (errors.LimitError, ValueError),
        (errors.FileError, OSError),
    ],
)
def test_errors_are_also_builtin_exceptions(cls: type, builtin: type) -> None:
    assert issubclass(cls, errors.KimiFannError)
    assert issubclass(cls, builtin)


def test_c_errors_reach_python_with_their_class() -> None:
    net = kf.Network([2, 3, 1])
    with pytest.raises(errors.ConfigError, match="training_algorithm"):
        net._net.set_param(2, 9.0)
    with pytest.raises(errors.NumericError, match="learning_rate"):
        net._net.set_param(0, float("nan"))
    with pytest.raises(errors.LimitError):
        kf.Network([2**20, 2**20, 1])


# The rule of each condition (kimi_fann.errors), whichever layer detects it.
RULES = {
    "KF_E_NOMEM": MemoryError,
    "KF_E_ARG": errors.ConfigError,
    "KF_E_SHAPE": errors.ShapeError,
    "KF_E_FORMAT": errors.FormatError,
    "KF_E_NUMERIC": errors.NumericError,
    "KF_E_UNSUPPORTED": errors.ConfigError,
    "KF_E_LIMIT": errors.LimitError,
}


def test_every_status_code_of_kfann_h_has_its_rule() -> None:
    """The core's table of constants lists every kf_status; each error code maps to the class of
    its rule, and the codes are 0, -1, ..., -(KF_STATUS_COUNT_ - 1)."""
    codes = {name: value for name, value in _core.CONSTANTS.items() if name.startswith("KF_E_")}
    assert set(codes) == set(RULES)
    assert sorted([0, *codes.values()]) == list(range(-(_core.STATUS_COUNT - 1), 1))
    assert _core.CONSTANTS["KF_STATUS_COUNT_"] == _core.STATUS_COUNT == len(codes) + 1
    for name, code in codes.items():
        exc = errors.error_for_status(code, name)
        assert type(exc) is RULES[name], name
        assert getattr(exc, "status", code) == code


def _q8() -> kf.QuantizedNetwork:
    return kf.Network([3, 2], seed=0).quantize(calibration=np.zeros((4, 3)))


def test_an_input_outside_the_models_range_is_a_shape_error_in_every_layer() -> None:
    q = _q8()
    with pytest.raises(errors.ShapeError, match=r"\[0, 255\]"):
        q.run_raw([0, 256, 3])  # found in Python
    y = np.empty((1, 2), dtype=np.int32)
    with pytest.raises(errors.ShapeError):
        q.core.run_raw(np.array([[0, 256, 3]], dtype=np.int32), y)  # found by the C core
    with pytest.raises(errors.ShapeError):
        q.run_raw([0.5, 1.0, 2.0])  # a float dtype where integers are needed


def test_a_wrong_type_is_a_config_error_in_every_layer() -> None:
    router = kf.Router(np.eye(2, 3), top_k=1)
    with pytest.raises(errors.ConfigError):
        kf.MixtureOfExperts(router, [kf.Network([3, 1]), "not a network"])  # found in Python
    with pytest.raises(errors.ConfigError):
        _core.MoE(router.core, [kf.Network([3, 1]).core, "not a network"], None)  # found by the binding
    with pytest.raises(errors.ConfigError):
        kf.QuantizedNetwork("not a description")


def test_a_constructor_failure_without_a_reason_says_its_status() -> None:
    """The core clears kf_diag on entry: a failure with nothing more to say than its status code
    gives the code's description, never stale text."""
    net = kf.Network([2, 1])
    bad = dataclasses.replace(net.topology, layer_starts=np.array([0, 3, 3], np.uint32))
    with pytest.raises(errors.FormatError, match="<topology>"):
        kf.Network.from_topology(bad, net.weights)


def test_errors_pickle_as_the_classes_of_kimi_fann_errors() -> None:
    exc = errors.error_for_status(-3, "3 columns, expected 4")
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is errors.ShapeError and str(back) == "3 columns, expected 4"
    assert errors.ShapeError.__module__ == "kimi_fann.errors"
