"""The version lives in one place (src/kimi_fann/_version.py); the installed metadata agrees."""

from __future__ import annotations

import importlib.metadata
import re

import kimi_fann as kf


def test_version_matches_the_installed_distribution() -> None:
    assert kf.__version__ == importlib.metadata.version("kimi-fann")


def test_version_is_pep440() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?", kf.__version__)
