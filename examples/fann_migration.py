"""Coming from FANN: load a .net file written by libfann, its .data file, and carry on.

``examples/data/xor_float.net`` and ``xor_fixed.net`` were written by libfann 2.2 itself
(``fann_save`` and ``fann_save_to_fixed`` after training a 2-3-1 network on ``xor.data``).
Run it as ``python examples/fann_migration.py [NET] [DATA]`` to try your own files; the C calls
each step replaces are in the comments.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

import kimi_fann as kf

HERE = Path(__file__).resolve().parent / "data"


def main(net_path: Path, data_path: Path, fixed_path: Path | None) -> None:
    # ann = fann_create_from_file("xor_float.net");
    net = kf.Network.load(net_path)
    print(f"loaded {net_path.name}: layers {list(net.layers)}, {net.total_connections} connections, "
          f"training_algorithm={net.training_algorithm}, activation of the output "
          f"{net.get_activation(len(net.layers) - 1, 0)}")

    # data = fann_read_train_from_file("xor.data");
    data = kf.TrainingData.load(data_path)
    print(f"loaded {data_path.name}: {len(data)} pairs of {data.num_input} inputs, {data.num_output} outputs")

    # fann_reset_MSE(ann); fann_test_data(ann, data); fann_get_MSE(ann); fann_get_bit_fail(ann);
    print(f"test: mse {net.test(data):.6f}, failed bits {net.bit_fail}")

    # for each row: calc_out = fann_run(ann, input);  -- here all rows in one C call
    outputs = net.run(data.inputs)
    for x, want, got in zip(data.inputs, data.outputs, outputs):
        print(f"  run({x.tolist()}) = {got.tolist()}  (desired {want.tolist()})")

    # fann_set_training_algorithm(ann, FANN_TRAIN_RPROP); fann_train_on_data(ann, data, 100, 0, 0.0001);
    net.training_algorithm = "rprop"
    history = net.train(data, max_epochs=100, target_error=1e-4)
    print(f"trained {len(history)} more epochs: mse {history[-1]:.6f}")

    with tempfile.TemporaryDirectory() as tmp:
        # fann_save(ann, "xor_float.net");  -- the same FANN_FLO_2.1 text libfann writes
        saved = Path(tmp) / "xor_float.net"
        net.save(saved)
        first_line = saved.read_text().splitlines()[0]
        print(f"saved {saved.name}: {saved.stat().st_size} bytes, header {first_line}")

        # decimal_point = fann_save_to_fixed(ann, "xor_fixed.net");
        decimal_point = net.save_fixed(Path(tmp) / "xor_fixed.net")
        fixed = kf.FixedNetwork.load(Path(tmp) / "xor_fixed.net")
        print(f"saved xor_fixed.net: FANN_FIX_2.0, decimal point {decimal_point}")

    # Fixed point, as libfixedfann runs it: integer inputs scaled by 2^decimal_point.
    raw_in = np.rint(data.inputs * fixed.multiplier).astype(np.int32)
    raw_out = fixed.run_raw(raw_in)
    print(f"run_raw (integers, as libfixedfann's fann_run): {raw_out.ravel().tolist()} "
          f"= {(raw_out / fixed.multiplier).ravel().round(4).tolist()}")

    if fixed_path is not None:
        # A fixed-point file written by libfann itself reads and runs the same way.
        theirs = kf.FixedNetwork.load(fixed_path)
        raw = np.rint(data.inputs * theirs.multiplier).astype(np.int32)
        print(f"{fixed_path.name} (written by libfann): decimal point {theirs.decimal_point}, "
              f"outputs {(theirs.run_raw(raw) / theirs.multiplier).ravel().round(4).tolist()}")


if __name__ == "__main__":
    if len(sys.argv) not in (1, 3):
        sys.exit("usage: python examples/fann_migration.py [NET_FILE DATA_FILE]")
    if len(sys.argv) == 3:
        main(Path(sys.argv[1]), Path(sys.argv[2]), None)
    else:
        main(HERE / "xor_float.net", HERE / "xor.data", HERE / "xor_fixed.net")
