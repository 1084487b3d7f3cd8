"""Write the seed corpora and libFuzzer dictionaries for the fuzz harnesses.

Usage: python fuzz/make_seeds.py OUTDIR

OUTDIR/<target>/ gets small valid files of every kind the parser reads (generated here, so the
seeds follow the current writers), and OUTDIR/<target>.dict the format's keywords.
"""

from __future__ import annotations

import pathlib
import sys

import numpy as np

import kimi_fann as kf
from kimi_fann import kfn

FANN_KEYS = [
    "FANN_FLO_2.1", "FANN_FLO_2.0", "FANN_FIX_2.0", "decimal_point=", "num_layers=", "learning_rate=",
    "connection_rate=", "network_type=", "learning_momentum=", "training_algorithm=",
    "train_error_function=", "train_stop_function=", "bit_fail_limit=", "layer_sizes=",
    "scale_included=", "neurons (num_inputs, activation_function, activation_steepness)=",
    "connections (connected_to_neuron, weight)=", "scale_mean_in=", "scale_deviation_in=",
    "scale_new_min_in=", "scale_factor_in=", "cascade_activation_functions_count=",
    "cascade_activation_functions=", "cascade_activation_steepnesses_count=",
    "cascade_activation_steepnesses=", "cascade_num_candidate_groups=", "nan", "inf", "-1",
    "4294967295", "1e39", "(", ")", ", ",
]
KFN_KEYS = [
    '"sections"', '"model"', '"type"', '"network"', '"quantized"', '"fann_fixed"', '"router"',
    '"mixture"', '"dtype"', '"shape"', '"offset"', '"length"', '"crc32"', '"encoding"', '"raw"',
    '"deflate"', '"bits"', '"group"', '"exact"', '"quantized"', '"<f4"', '"<i4"', '"|i1"', "KFN\x00",
]


def networks() -> list[kf.Network]:
    rng = np.random.default_rng(0)
    nets = [
        kf.Network([2, 3, 1], seed=1),
        kf.Network([4, 5, 3, 2], hidden="sigmoid_symmetric", output="linear", seed=2),
        kf.Network([3, 4, 2], connection_rate=0.5, seed=3),
        kf.Network([3, 3, 2], shortcut=True, output="elliot_symmetric", seed=4),
    ]
    scaled = kf.Network([2, 2, 1], seed=5)
    data = kf.TrainingData(rng.normal(size=(8, 2)), rng.normal(size=(8, 1)))
    scaled.set_scaling(data, input_range=(-1, 1), output_range=(-1, 1))
    nets.append(scaled)
    return nets


def write(directory: pathlib.Path, name: str, payload: bytes) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_bytes(payload)


def write_dict(path: pathlib.Path, keys: list[str]) -> None:
    """A libFuzzer dictionary: one quoted entry a line, other than printable ASCII as \\xNN."""

    def quote(key: str) -> str:
        return "".join(c if c.isprintable() and c.isascii() and c not in '"\\' else f"\\x{ord(c):02x}" for c in key)

    path.write_text("".join(f'"{quote(k)}"\n' for k in keys))


def main(out: pathlib.Path) -> None:
    rng = np.random.default_rng(1)
    nets = networks()
    for i, net in enumerate(nets):
        write(out / "net", f"net{i}.net", net.to_fann_text())
        write(out / "fixed", f"fixed{i}.net", net.to_fixed().to_fann_text())
    for i, shape in enumerate([(1, 1, 1), (4, 2, 1), (3, 5, 2)]):
        n, n_in, n_out = shape
        data = kf.TrainingData(rng.normal(size=(n, n_in)), rng.normal(size=(n, n_out)))
        write(out / "data", f"data{i}.data", data.to_fann_text())
    write(out / "data", "ints.data", b"2 2 1\n0 0\n0\n1 1\n1\n")

    calib = rng.normal(size=(64, 4)).astype(np.float32)
    net = kf.Network([4, 5, 2], seed=7)
    router = kf.Router(rng.normal(size=(4, 4)), top_k=2)
    experts = [kf.Network([4, 3, 2], seed=10 + i) for i in range(4)]
    models = {
        "network": net,
        "q8": net.quantize(calib),
        "q16": net.quantize(calib, activation_bits=16),
        "fannfixed": net.to_fixed(),
        "router": router,
        "router_sigmoid": kf.Router(rng.normal(size=(4, 4)), bias=np.zeros(4), top_k=2, scoring="sigmoid"),
        "mixture": kf.MixtureOfExperts(router, experts, shared_expert=kf.Network([4, 2], seed=20)),
    }
    for name, model in models.items():
        write(out / "kfn", f"{name}.kfn", kfn.dumps(model))
    for compress in ("deflate", "q8", "q4"):  # any deviation accepted: these are seeds of the format
        options = {"max_error": 1.0} if compress != "deflate" else {}
        write(out / "kfn", f"network_{compress}.kfn", kfn.dumps(net, compress=compress, group=8, **options))
    # a lossy section with exact values (format 1.1): clamped weights that dominate their groups,
    # on inputs where the first one, which the largest of them read, is always zero
    clamped = kf.Network([4, 8, 2], hidden="linear", output="linear", seed=5)
    weights = clamped.weights.copy()
    weights[::5] = 1500.0
    clamped.weights = weights
    dead = calib.copy()
    dead[:, 0] = 0.0
    write(out / "kfn", "network_q8_exact.kfn",
          kfn.dumps(clamped, compress="q8", group=8, calibration=dead, max_error=0.0))

    write_dict(out / "net.dict", FANN_KEYS)
    write_dict(out / "fixed.dict", FANN_KEYS)
    write_dict(out / "data.dict", ["\n", " ", "-", ".", "e+38", "nan", "inf", "4294967295", "0"])
    write_dict(out / "kfn.dict", KFN_KEYS)

    write_dict(out / "safetensors.dict", ['"dtype"', '"shape"', '"data_offsets"', '"F32"', '"F16"', '"I8"',
                                          '"__metadata__"', '"weight"', '"bias"'])
    tensors = {"0.weight": rng.normal(size=(4, 3)), "0.bias": rng.normal(size=4),
               "2.weight": rng.normal(size=(2, 4)), "2.bias": rng.normal(size=2)}
    write(out / "safetensors", "mlp.safetensors", safetensors_bytes(tensors))


def safetensors_bytes(tensors: dict[str, np.ndarray]) -> bytes:
    """A safetensors file (8-byte little-endian header length, JSON header, raw float32 data)."""
    import json

    header: dict[str, object] = {"__metadata__": {"format": "pt"}}
    blobs, offset = [], 0
    for name, values in tensors.items():
        blob = np.ascontiguousarray(values, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(np.shape(values)), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return len(text).to_bytes(8, "little") + text + b"".join(blobs)


if __name__ == "__main__":
    main(pathlib.Path(sys.argv[1]))
