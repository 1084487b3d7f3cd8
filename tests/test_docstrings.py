"""Every public name documents itself (numpydoc sections) and shows an example.

The examples themselves run in test_doctests.py; this checks that none is missing.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
from collections.abc import Iterator
from typing import Any

import pytest

import kimi_fann
import kimi_fann.analyzer


def _optional(name: str) -> list[Any]:
    """The integration modules, where their libraries are installed."""
    try:
        return [importlib.import_module(name)]
    except ImportError:
        return []


def public_names() -> Iterator[tuple[str, Any]]:
    for module in (kimi_fann, kimi_fann.analyzer, *_optional("kimi_fann.sklearn"), *_optional("kimi_fann.dask")):
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) and issubclass(obj, BaseException):
                continue  # exceptions: a one-line docstring says when they are raised
            if inspect.isclass(obj) or inspect.isfunction(obj):
                yield f"{module.__name__}.{name}", obj


def members(cls: type) -> Iterator[tuple[str, Any]]:
    for name, value in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(value, (classmethod, staticmethod)):
            value = value.__func__
        if inspect.isfunction(value):
            yield name, value


def takes_arguments(function: Any) -> bool:
    return any(p not in ("self", "cls") for p in inspect.signature(function).parameters)


def returns_something(function: Any) -> bool:
    annotation = inspect.signature(function).return_annotation
    return annotation not in (inspect.Signature.empty, None, "None")


def missing_sections(name: str, obj: Any) -> list[str]:
    doc = inspect.getdoc(obj) or ""
    if not doc:
        return [f"{name}: no docstring"]
    lacks = [f"{name}: no Examples"] if "Examples\n--------" not in doc else []
    if inspect.isclass(obj):
        init = vars(obj).get("__init__")
        if dataclasses.is_dataclass(obj):
            if "Attributes\n----------" not in doc:
                lacks.append(f"{name}: no Attributes")
        elif init is not None and takes_arguments(init) and "Parameters\n----------" not in doc:
            lacks.append(f"{name}: no Parameters (for __init__)")
        for member, function in members(obj):
            lacks += missing_sections(f"{name}.{member}", function)
        return lacks
    if takes_arguments(obj) and "Parameters\n----------" not in doc:
        lacks.append(f"{name}: no Parameters")
    if returns_something(obj) and "Returns\n-------" not in doc and "Yields\n------" not in doc:
        lacks.append(f"{name}: no Returns")
    return lacks


@pytest.mark.parametrize("name,obj", list(public_names()), ids=lambda v: v if isinstance(v, str) else "")
def test_public_name_is_documented(name: str, obj: Any) -> None:
    assert missing_sections(name, obj) == []


def test_the_check_sees_a_gap() -> None:
    def undocumented(x: int) -> int:
        """Twice x."""
        return 2 * x

    assert missing_sections("f", undocumented) == ["f: no Examples", "f: no Parameters", "f: no Returns"]
