"""Benchmark fixtures: the same networks for kimi-fann, numpy, onnxruntime and libfann."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
