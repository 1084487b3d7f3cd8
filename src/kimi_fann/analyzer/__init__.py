"""The expert analyzer: distil a large teacher into micro-experts, analyse, profile and plot them.

Pure Python over the public API. Heavy dependencies (matplotlib, torch, onnxruntime,
scikit-learn) are optional extras, imported only inside the function that needs them, so that
``import kimi_fann.analyzer`` needs numpy alone.

Examples
--------
>>> import numpy as np
>>> import kimi_fann as kf
>>> from kimi_fann import analyzer
>>> net = kf.Network([4, 8, 2], seed=0)
>>> report = analyzer.analyze(net)
>>> report.layers[0].parameters
40
"""

from __future__ import annotations

# The functions are bound here, after their modules: ``analyze``, ``profile`` and ``distill``
# share their module's name, and the package attribute must be the function.
from .analyze import analyze
from .convert import from_onnx, from_safetensors, from_sklearn, from_torch, to_onnx
from .distill import distill
from .plots import plot
from .profile import profile
from .report import (
    AnalysisReport,
    BatchTiming,
    DistillationEpoch,
    DistillationReport,
    ExpertReport,
    LayerReport,
    ProfileReport,
    RouterReport,
    load_report,
    report_schema,
)
from .teachers import Teacher, as_teacher

__all__ = [
    "analyze", "profile", "distill", "plot", "as_teacher", "Teacher",
    "from_torch", "from_sklearn", "from_safetensors", "from_onnx", "to_onnx",
    "AnalysisReport", "LayerReport", "ExpertReport", "RouterReport", "ProfileReport", "BatchTiming",
    "DistillationReport", "DistillationEpoch", "load_report", "report_schema",
]
