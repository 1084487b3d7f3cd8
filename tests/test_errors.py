"""The exception hierarchy and the mapping of every C status code."""

from __future__ import annotations

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
