"""The numpy-free suite: run inside Pyodide (tools/pyodide/check.sh), where numpy is absent.

``import kimi_fann`` needs numpy (the Python API is numpy in, numpy out), but the compiled core
does not. When numpy is missing, the package's modules are made importable without running
kimi_fann/__init__.py, so that ``kimi_fann._core`` (and ``kimi_fann.errors``, which it imports)
load on their own.
"""

from __future__ import annotations

import importlib.util
import pathlib
import sys
import types

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

try:
    import numpy  # noqa: F401
except ImportError:
    spec = importlib.util.find_spec("kimi_fann")
    if spec is not None and "kimi_fann" not in sys.modules:
        package = types.ModuleType("kimi_fann")
        package.__path__ = list(spec.submodule_search_locations or [])
        package.__spec__ = spec
        package.__file__ = spec.origin
        sys.modules["kimi_fann"] = package
