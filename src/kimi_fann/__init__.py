"""kimi-fann: tiny, fast, deterministic neural networks with FANN 2.2's semantics.

Examples
--------
>>> import kimi_fann as kf
>>> net = kf.Network([2, 3, 1])
>>> net.run([0.5, -0.5]).shape
(1,)
"""

from __future__ import annotations

from . import errors
from ._version import __version__
from .cascade import CascadeHistory, CascadeStep, FannRandom
from .data import TrainingData
from .descriptions import DenseLayer, QuantizationReport, QuantizedLayer, QuantizedSpec, Topology
from .fixed import FannFixedNetwork, FixedNetwork, QuantizedNetwork
from .kfn import load, save
from .mixture import MixtureOfExperts
from .network import ACTIVATIONS, TRAINING_ALGORITHMS, Network
from .router import Router
from .simd import simd_info, simd_path

__all__ = [
    "Network", "FixedNetwork", "FannFixedNetwork", "QuantizedNetwork", "TrainingData", "Router",
    "MixtureOfExperts", "FannRandom", "CascadeHistory", "CascadeStep",
    "Topology", "DenseLayer", "QuantizedSpec", "QuantizedLayer", "QuantizationReport", "save",
    "load", "ACTIVATIONS", "TRAINING_ALGORITHMS", "simd_path", "simd_info", "errors", "analyzer", "datasets",
    "__version__",
]


def __getattr__(name: str) -> object:
    # kf.analyzer and kf.datasets on first use: the core stays quick to import
    if name in ("analyzer", "datasets"):
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'kimi_fann' has no attribute {name!r}")
