"""The README's and the quick start's Python snippets run as written, in an empty folder (issue
17: they used to load thyroid.train from the working directory, where it is not)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent


def python_blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S)


def test_the_readmes_python_snippets_run_in_an_empty_folder(tmp_path, monkeypatch) -> None:
    blocks = python_blocks(ROOT / "README.md")
    # "In Python" and the cascade snippet after it, which goes on with its names
    in_python = [b for b in blocks if "kf.Network([21, 16, 3]" in b or "net.cascade_train(train" in b]
    assert len(in_python) == 2
    monkeypatch.chdir(tmp_path)
    names: dict = {}
    for block in in_python:
        exec(compile(block, "README.md", "exec"), names)  # noqa: S102 - the snippet as a reader runs it
    assert (tmp_path / "thyroid.net").read_text().startswith("FANN_FLO_2.1")
    assert names["y"].shape == (3600, 3) and np.isfinite(names["y"]).all()
    assert names["net"].total_neurons > 21 + 3  # cascade training grew hidden neurons


def test_the_quick_starts_python_snippets_run_in_order(tmp_path, monkeypatch) -> None:
    blocks = python_blocks(ROOT / "docs" / "quickstart.md")
    assert len(blocks) > 3
    monkeypatch.chdir(tmp_path)
    names: dict = {}
    for block in blocks:
        try:
            exec(compile(block, "docs/quickstart.md", "exec"), names)  # noqa: S102
        except ImportError as exc:  # an optional extra (analyzer plots, ...) not installed here
            pytest.skip(f"a snippet needs {exc.name}")
    assert len(names["data"]) == 384
