"""The examples in the docstrings run and give what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["kimi_fann", "kimi_fann.router", "kimi_fann.mixture", "kimi_fann.kfn", "kimi_fann.network", "kimi_fann.fixed", "kimi_fann.data", "kimi_fann.errors", "kimi_fann.datasets", "kimi_fann.simd"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
