"""Hostile .kfn files: each is refused with a FormatError naming the file and the limit, before
the reader allocates what the file declares: in well under 0.5 s and 100 MB. Their CRCs are
right (tests/kfnforge.py), so the structure checks are what refuse them."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import time
import tracemalloc
import zlib

import numpy as np
import pytest
from kfnforge import forge, fully_connected, network_meta, raw, rewrite, router_meta

import kimi_fann as kf
from kimi_fann import kfn
from kimi_fann.errors import FormatError

HUGE = 10**100


def _nested(depth: int) -> dict:
    meta: dict = {"type": "network"}
    for _ in range(depth):
        meta = {"type": "mixture", "domains": ["a"], "router": router_meta(), "experts": [meta], "shared": None}
    return meta


def _q8_with(**fields: object) -> bytes:
    net = kf.Network([4, 5, 2], seed=3)
    blob = kfn.dumps(net.quantize(np.random.default_rng(0).normal(size=(32, 4))))

    def change(header: dict) -> None:
        for key, value in fields.items():
            if key.startswith("layer."):
                header["model"]["layers"][0][key[6:]] = value
            else:
                header["model"][key] = value
    return rewrite(blob, change)


def _shared_experts() -> bytes:
    """16 experts whose weights all point at one deflated payload."""
    payload = zlib.compress(np.zeros(1000 * 1001, "<f4").tobytes(), 9)
    sections = [raw("router/gates", np.eye(16, 1000, dtype="<f4"))]
    experts = []
    for i in range(16):
        p = f"expert{i}/"
        starts = np.array([0, 1001, 2002], "<u4")
        sections += [raw(p + "layer_start", starts), raw(p + "activation", np.zeros(2002, "|u1")),
                     raw(p + "steepness", np.ones(2002, "<f4"))]
        entry = {"name": p + "weights", "dtype": "<f4", "shape": [1001 * 1000], "encoding": "deflate"}
        sections.append((entry, payload if i == 0 else ("same as", 3)))
        experts.append(network_meta())
    return forge({"type": "mixture", "domains": None, "router": router_meta(), "experts": experts,
                  "shared": None}, sections)


def _many_experts() -> bytes:
    """A 1 MB deflated gate matrix declaring 2^28 experts."""
    payload = np.random.default_rng(0).integers(0, 256, 1 << 20, dtype=np.uint8).tobytes()
    entry = {"name": "gates", "dtype": "<f4", "shape": [1 << 28, 1], "encoding": "deflate"}
    return forge(router_meta(), [(entry, payload)])


def _inflating_router() -> bytes:
    """A small deflated gate matrix declaring a gigabyte: more than the file could hold."""
    payload = zlib.compress(bytes(1 << 22), 9)
    entry = {"name": "gates", "dtype": "<f4", "shape": [1 << 16, 1 << 12], "encoding": "deflate"}
    return forge(router_meta(), [(entry, payload)])


CASES = {
    "3 x 32769 fully connected in a few hundred bytes": (
        lambda: forge(network_meta(), fully_connected([32769, 32769, 32769], 4)),
        "the layers declare 2147680260 connections; the limit is 268435456"),
    "fully connected within the limit, weights missing": (
        lambda: forge(network_meta(), fully_connected([8000, 8000, 8000], 4)),
        r"section 'weights' has shape \[4\]; the model needs \[128016000\]"),
    "2^32 listed connections": (
        lambda: forge(network_meta(connections="listed"),
                      fully_connected([2, 1], 4) + [({"name": "con_start", "dtype": "<u4", "shape": [6]}, bytes(24)),
                                                     ({"name": "con_src", "dtype": "<u4", "shape": [1 << 32]}, b"")]),
        "unsupported dtype '<u4' or shape"),
    "2^28 experts in a 1 MB deflated section": (_many_experts, "declare 1073741824 bytes, more than 64 times"),
    "a gigabyte declared by 4 kB": (_inflating_router, "more than deflate's limit of 1032 times its size"),
    "2^17 experts": (lambda: forge(router_meta(), [raw("gates", np.zeros((1 << 17, 1), "<f4"))]),
                     "at most 65536 experts"),
    "16 experts sharing one compressed payload": (_shared_experts, "share bytes"),
    "mixtures nested 400 deep": (lambda: forge(_nested(400), []), "expected network or quantized there"),
    "output_zero of 10^100": (lambda: _q8_with(output_zero=HUGE), r"output_zero is 1000000000000000000000"),
    "t0 of 10^100": (lambda: _q8_with(**{"layer.t0": HUGE}), "layer 0: t0 is 1000"),
    "activation_bits of 10^100": (lambda: _q8_with(activation_bits=HUGE), r"activation_bits is 1000.*\[8, 16\]"),
    "output_scale of 1e308 * 10": (lambda: _q8_with(output_scale=HUGE * 10**300), "output_scale is 1000"),
    "top_k of 10^100": (lambda: forge(router_meta(top_k=HUGE), [raw("gates", np.eye(2, dtype="<f4"))]),
                        r"top_k is 1000.*\[1, 64\]"),
    "training parameter of 10^400": (lambda: rewrite(kfn.dumps(kf.Network([2, 1])),
                                                     lambda h: h["model"]["params"].update(learning_rate=10**400)),
                                     "params.learning_rate is 1000"),
    "cascade function out of range": (
        lambda: rewrite(kfn.dumps(kf.Network([2, 1])),
                        lambda h: h["model"].update(cascade={"functions": [HUGE], "steepnesses": [1.0]})),
        r"cascade.f is 1000.*\[0, 19\]"),
    "shortcut that is not a boolean": (lambda: rewrite(kfn.dumps(kf.Network([2, 1])),
                                                       lambda h: h["model"].update(shortcut=HUGE)),
                                       "shortcut is 1000"),
    "exact values beyond the count": (
        lambda: forge(router_meta(), [({"name": "gates", "dtype": "<f4", "shape": [2, 2], "encoding": "quantized",
                                        "bits": 8, "group": 4, "exact": 5}, zlib.compress(bytes(16)))]),
        "5 exact values for 4 values"),
}


@pytest.mark.parametrize("case", CASES)
def test_hostile_file_is_refused_quickly_and_cheaply(case: str) -> None:
    make, message = CASES[case]
    data = make()
    gc.collect()
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(FormatError, match=message) as caught:
            kfn.loads(data, source="hostile.kfn")
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(caught.value).startswith("hostile.kfn: ")
    assert seconds < 0.5, f"{case}: {seconds:.2f} s"
    assert peak < 100 << 20, f"{case}: {peak / 2**20:.0f} MiB"
    assert peak < 8 * len(data) + (4 << 20), f"{case}: {peak} bytes for a file of {len(data)}"


def test_hostile_files_stay_under_100_mb_in_a_fresh_process(tmp_path) -> None:
    """The same files, loaded in a subprocess whose peak resident memory is measured (C and
    numpy allocations included)."""
    for i, (make, _) in enumerate(CASES.values()):
        (tmp_path / f"{i}.kfn").write_bytes(make())
    script = (
        "import resource, sys, glob, kimi_fann as kf\n"
        "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "for path in sorted(glob.glob(sys.argv[1] + '/*.kfn')):\n"
        "    try:\n"
        "        kf.load(path)\n"
        "    except kf.errors.FormatError:\n"
        "        pass\n"
        "    else:\n"
        "        raise SystemExit(path + ' loaded')\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base)\n")
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True,
                         timeout=120, check=True)
    assert int(out.stdout) < 100 * 1024, f"peak grew by {out.stdout.strip()} kB"


def test_a_loaded_model_keeps_none_of_the_file() -> None:
    """Raw sections are copied: keeping the router of a big mixture keeps only the router."""
    rng = np.random.default_rng(5)
    router = kf.Router(rng.normal(size=(32, 64)), top_k=2)
    moe = kf.MixtureOfExperts(router, [kf.Network([64, 256, 64], seed=i) for i in range(32)])
    gc.collect()
    tracemalloc.start()
    try:
        data = kfn.dumps(moe)
        size = len(data)
        kept = kfn.loads(data).router
        del data
        gc.collect()
        current = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert size > 4 << 20 and current < size // 8, (size, current)
    x = rng.normal(size=(3, 64))
    np.testing.assert_array_equal(kept.route(x)[0], router.route(x)[0])


def test_version_1_0_files_still_load() -> None:
    """Files written before exact values existed (version 1.0, lossy sections without "exact")."""
    net = kf.Network([3, 4, 2], seed=2)
    blob = bytearray(kfn.dumps(net, compress="deflate"))
    blob[6:8] = (0).to_bytes(2, "little")  # minor 0: the version is outside the header's CRC
    back = kfn.loads(bytes(blob))
    np.testing.assert_array_equal(back.weights, net.weights)
    assert json.loads(zlib.decompress(bytes(blob[20:20 + int.from_bytes(blob[12:16], "little")])))["kind"] == "network"

