"""Peak memory of loading and running a model, against bounds derived from the model's size.

Each measurement runs in a fresh interpreter so that its peak is its own: the Python-side peak
from tracemalloc (numpy's buffers are traced), and the process's peak resident set
(ru_maxrss) grown past its value after the imports. No timing is measured.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import kimi_fann as kf

resource = pytest.importorskip("resource")  # not on Windows

MIB = 1 << 20
LAYERS = [256, 1024, 768, 64]  # about 1.07 million weights, 4.3 MB as float32
BATCH = 512

_PROBE = textwrap.dedent(
    """
    import json, resource, sys, tracemalloc
    import numpy as np
    import kimi_fann as kf

    def peak_rss():
        try:  # Linux: the high-water mark, reset below so that the imports do not count
            with open("/proc/self/status") as f:
                return next(int(l.split()[1]) * 1024 for l in f if l.startswith("VmHWM:"))
        except (OSError, StopIteration):
            r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            return r if sys.platform == "darwin" else r * 1024

    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass

    kind, path, batch = sys.argv[1], sys.argv[2], int(sys.argv[3])
    x = np.random.default_rng(0).normal(size=(batch, N_INPUT)).astype(np.float32)
    before = peak_rss()
    tracemalloc.start()
    model = {"net": kf.Network.load, "kfn": kf.load, "fixed": kf.FixedNetwork.load}[kind](path)
    load_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.reset_peak()
    for _ in range(3):
        y = model.run(x, threads=1)
    run_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(json.dumps({"load_peak": load_peak, "run_peak": run_peak, "rss_growth": peak_rss() - before,
                      "out_bytes": int(y.nbytes)}))
    """
).replace("N_INPUT", str(LAYERS[0]))


def _probe(kind: str, path: os.PathLike[str] | str) -> dict[str, int]:
    out = subprocess.run([sys.executable, "-c", _PROBE, kind, os.fspath(path), str(BATCH)],
                         capture_output=True, text=True, check=True, timeout=300)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, tuple[str, int]]:  # type: ignore[no-untyped-def]
    net = kf.Network(LAYERS, seed=0)
    directory = tmp_path_factory.mktemp("memory")
    weights = net.total_connections * 4
    paths = {"net": directory / "m.net", "kfn": directory / "m.kfn", "fixed": directory / "m_fixed.net"}
    net.save(paths["net"])
    kf.save(paths["kfn"], net)
    net.save_fixed(paths["fixed"])
    return {kind: (os.fspath(p), weights) for kind, p in paths.items()}


def _sanitized() -> bool:
    return "asan" in os.environ.get("LD_PRELOAD", "")  # ASan keeps freed memory in quarantine


@pytest.mark.parametrize("kind", ["kfn", "net", "fixed"])
def test_peak_memory_of_load_and_run(files, kind: str) -> None:  # type: ignore[no-untyped-def]
    path, weights = files[kind]
    size = os.path.getsize(path)
    m = _probe(kind, path)
    in_bytes = BATCH * LAYERS[0] * 4
    # Python side: loading holds the file's bytes (a text file is parsed in C straight from
    # them); a .kfn's raw arrays are copied out of those bytes (the model keeps none of the
    # file), plus the connection list that a fully connected network implies (4 bytes a
    # connection, as many as its float32 weights).
    assert m["load_peak"] <= (2 * size + weights if kind == "kfn" else size) + 2 * MIB, m
    # Running allocates the outputs (and a float32 copy of the input at most), never per weight.
    assert m["run_peak"] <= 2 * (in_bytes + m["out_bytes"]) + 1 * MIB, m
    if not _sanitized():
        # The whole process: the file's bytes, the C model (weights plus per-neuron tables) and
        # its scratch, a few batches; the model counted 3 times over for allocator slack.
        bound = size + 3 * weights + 4 * (in_bytes + m["out_bytes"]) + 24 * MIB
        assert m["rss_growth"] <= bound, (m, bound)


def test_loading_many_times_does_not_grow(files) -> None:  # type: ignore[no-untyped-def]
    """Load and drop a model 30 times: the resident set stays within one model of the first."""
    path, weights = files["kfn"]
    probe = textwrap.dedent(
        """
        import gc, resource, sys
        import numpy as np
        import kimi_fann as kf
        def rss():
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        for i in range(30):
            model = kf.load(sys.argv[1]); model.run(np.zeros((4, model.num_input), np.float32))
            del model; gc.collect()
            if i == 4:
                first = rss()
        print(rss() - first)
        """
    )
    if _sanitized():
        pytest.skip("ASan's quarantine keeps freed memory resident")
    out = subprocess.run([sys.executable, "-c", probe, path], capture_output=True, text=True, check=True, timeout=300)
    growth_kib = int(out.stdout.strip().splitlines()[-1])
    scale = 1 if sys.platform == "darwin" else 1024
    assert growth_kib * scale <= 2 * weights + 4 * MIB


def test_router_and_mixture_scratch_is_bounded() -> None:
    """Routing a batch allocates the outputs, not a score matrix per call beyond the batch."""
    import tracemalloc

    rng = np.random.default_rng(1)
    router = kf.Router(rng.normal(size=(384, 64)), top_k=8)
    moe = kf.MixtureOfExperts(router, [kf.Network([64, 8, 16], seed=i) for i in range(384)])
    x = rng.normal(size=(1024, 64)).astype(np.float32)
    router.route(x, threads=1)
    moe.run(x, threads=1)
    tracemalloc.start()
    try:
        router.route(x, threads=1)
        route_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        moe.run(x, threads=1)
        moe_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    n, k = x.shape[0], 8
    assert route_peak <= 2 * n * k * 8 + 256 * 1024
    assert moe_peak <= 2 * (n * 16 * 4 + n * k * 8) + x.nbytes + 256 * 1024
