"""The examples in the docstrings run and give what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "kimi_fann", "kimi_fann.quantize", "kimi_fann.router", "kimi_fann.mixture", "kimi_fann.kfn",
    "kimi_fann.network", "kimi_fann.fixed", "kimi_fann.data", "kimi_fann.errors", "kimi_fann.datasets",
    "kimi_fann.cascade",
    "kimi_fann.simd", "kimi_fann.cli", "kimi_fann.analyzer", "kimi_fann.analyzer.report",
    "kimi_fann.analyzer.analyze", "kimi_fann.analyzer.profile", "kimi_fann.analyzer.plots",
    "kimi_fann.analyzer.convert", "kimi_fann.analyzer.distill", "kimi_fann.analyzer.teachers",
]
# optional packages a module's examples use
NEEDS = {"kimi_fann.analyzer.plots": ["matplotlib"], "kimi_fann.analyzer.convert": ["sklearn"]}


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    for package in NEEDS.get(name, []):
        pytest.importorskip(package)
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
