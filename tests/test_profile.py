"""analyzer.profile: the structure of its report (no timing thresholds: shared machines are
noisy)."""

from __future__ import annotations

import numpy as np
import pytest

import kimi_fann as kf
from kimi_fann.analyzer import ProfileReport, profile


def _models() -> list[object]:
    x = np.random.default_rng(0).uniform(-1, 1, (64, 4))
    net = kf.Network([4, 6, 2], seed=0)
    router = kf.Router(np.eye(3, 4), top_k=2, scoring="softmax")
    return [net, net.quantize(calibration=x), net.quantize(calibration=x, activation_bits=16), net.to_fixed(),
            router, kf.MixtureOfExperts(router, [kf.Network([4, 3, 2], seed=i) for i in range(3)])]


@pytest.mark.parametrize("model", _models(), ids=lambda m: type(m).__name__)
def test_profile_structure(model: object) -> None:
    report = profile(model, batch_sizes=(4, 1, 32), repeats=5, warmup=1)  # type: ignore[arg-type]
    assert isinstance(report, ProfileReport) and report.kind == "profile"
    assert [t.batch_size for t in report.timings] == [4, 1, 32]
    for t in report.timings:
        assert t.repeats == 5
        assert 0 < t.min_us <= t.p50_us <= t.p90_us <= t.p99_us <= t.max_us
        assert t.min_us <= t.mean_us <= t.max_us
        assert t.samples_per_second == pytest.approx(t.batch_size / (t.p50_us * 1e-6))
    assert report.simd == kf.simd_path()
    assert report.model_bytes > 0 and report.kfn_bytes > report.model_bytes
    assert report.peak_python_bytes > 0
    assert report.scratch_bytes is None
    assert report.inputs == 4 and report.threads is None


def test_profile_options() -> None:
    net = kf.Network([3, 4, 1], seed=0)
    report = profile(net, batch_sizes=[2], repeats=2, threads=1, simd="scalar", seed=5)
    assert report.threads == 1 and report.simd == "scalar" and report.warmup == 3
    assert report.model == "network"
    assert report.model_bytes == 4 * net.total_connections


@pytest.mark.parametrize("kwargs", [
    {"batch_sizes": ()}, {"batch_sizes": (0,)}, {"repeats": 0}, {"warmup": -1}, {"threads": 0},
    {"simd": "mmx"},
])
def test_profile_rejects(kwargs: dict) -> None:
    with pytest.raises(kf.errors.ConfigError):
        profile(kf.Network([2, 2, 1]), **kwargs)


def test_profile_module_and_function() -> None:
    import kimi_fann.analyzer as analyzer
    import kimi_fann.analyzer.profile  # noqa: F401  (binding the module must not break the function)

    assert isinstance(analyzer.profile(kf.Network([2, 2, 1]), batch_sizes=(1,), repeats=1), ProfileReport)


def test_profile_names_what_it_takes() -> None:
    with pytest.raises(kf.errors.ConfigError,
                       match="profile takes a Network, FixedNetwork, Router or MixtureOfExperts, got str"):
        profile("model.net")  # type: ignore[arg-type]
