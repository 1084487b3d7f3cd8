"""Sphinx configuration of kimi-fann's documentation.

Build it with ``bash tools/ci/docs.sh`` (a venv under build/, warnings as errors) or, in an
environment that has the ``docs`` extra installed::

    python -m sphinx -W --keep-going -b html docs build/docs/html

Everything is local: no intersphinx inventories, no downloads. The benchmark plots and tables
are made from ``bench/baselines/*.json`` at every build by ``docs/_ext/benchfigures.py``; the
analyzer's figures are drawn by the analyzer itself (``docs/_ext/analyzerfigures.py``).
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

import kimi_fann  # noqa: E402  (the installed package: autodoc documents what users get)

project = "kimi-fann"
author = "the kimi-fann authors"
copyright = "the kimi-fann authors, MIT licence"
release = kimi_fann.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "myst_parser",
    "benchfigures",
    "analyzerfigures",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_generated/*.md"]
myst_enable_extensions = ["colon_fence", "dollarmath", "deflist"]
myst_heading_anchors = 3

# Docstrings are numpy style; autodoc shows members in source order, signatures with hints.
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
napoleon_use_ivar = True
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
autodoc_default_options = {"members": True, "show-inheritance": False}

html_theme = "furo"
html_title = f"kimi-fann {release}"
html_static_path: list[str] = []
pygments_style = "friendly"
