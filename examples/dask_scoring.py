"""Scoring a data set larger than memory with Dask: Parquet in, Parquet out, on a LocalCluster.

1. A data set of ``--rows`` rows (16 features and a target) is written as Parquet files, one
   part at a time: no process ever holds all of it.
2. A mixture of experts is fitted on the first parts, read as dask arrays: the rows are routed
   and grouped by expert on the workers, and each expert trains as a task of the cluster.
3. Every row is scored from Parquet to Parquet with ``kimi_fann.dask.predict``: the model is
   scattered to the workers once, each partition runs through the C core, and a worker's memory
   stays bounded by the partitions it works on (its peak RSS is printed), whatever the rows.
4. ``--compare``: the same scoring of rows held by the workers against one local thread, timed,
   and checked to be equal bit for bit.

The same code runs on a real cluster: only the ``Client`` changes (see docs/dask.md).

Run it as ``python examples/dask_scoring.py [--rows N] [--workers W] [--out DIR] [--compare]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
import warnings
from pathlib import Path

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd
from distributed import Client, LocalCluster

import kimi_fann as kf
from kimi_fann.dask import predict

FEATURES = [f"f{i}" for i in range(16)]
CENTRES = 3 * np.eye(4, 16)  # the regimes: around 3 on one of the first four features


def write_parts(folder: Path, rows: int, part_rows: int) -> int:
    """Parquet parts of part_rows rows each, generated one at a time (part i from seed i)."""
    folder.mkdir(parents=True, exist_ok=True)
    parts = 0
    for start in range(0, rows, part_rows):
        rng = np.random.default_rng(parts)
        n = min(part_rows, rows - start)
        regime = rng.integers(0, 4, n)  # four regimes around four centres, each with its own rule
        x = (CENTRES[regime] + rng.normal(size=(n, 16))).astype(np.float32)
        rules = np.stack([np.tanh(x[:, 2] + x[:, 3]), np.sin(x[:, 4]) * np.tanh(x[:, 5]),
                          np.tanh(0.5 * x[:, 6] ** 2 - 1), np.tanh(x[:, 7] - x[:, 8])])
        frame = pd.DataFrame(x, columns=FEATURES)
        frame["target"] = (0.5 + 0.4 * rules[regime, np.arange(n)]).astype(np.float32)
        frame.to_parquet(folder / f"part-{parts:04d}.parquet", index=False)
        parts += 1
    return parts


def peak_rss_mib() -> float:
    """This process's peak resident memory (run on each worker by client.run)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def main(rows: int, part_rows: int, workers: int, out: Path, compare: bool) -> None:
    started = time.perf_counter()
    parts = write_parts(out / "features", rows, part_rows)
    size = sum(p.stat().st_size for p in (out / "features").iterdir())
    print(f"wrote {rows:,} rows in {parts} Parquet parts ({size / 2**20:.0f} MiB) in "
          f"{time.perf_counter() - started:.1f} s")

    # ":0": the scheduler's HTTP server (health checks; the dashboard too where bokeh is
    # installed) on a free port, since 8787 may be taken by another cluster on the machine
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, memory_limit="1GiB",
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        # the only line that changes on a real cluster, e.g. Client("tcp://scheduler:8786")
        print(f"cluster: {len(client.scheduler_info()['workers'])} worker processes, 1 thread each")
        table = dd.read_parquet(out / "features")

        # 2. a mixture fitted on the first parts, without bringing them to this process
        train = table.partitions[: min(2, table.npartitions)].to_dask_array(lengths=True)
        t0 = time.perf_counter()
        moe = kf.MixtureOfExperts.fit((train[:, :16], train[:, 16]), n_experts=4, hidden=16, top_k=1,
                                      max_epochs=60, seed=0, client=client)
        print(f"fitted 4 experts on {train.shape[0]:,} rows as cluster tasks in {time.perf_counter() - t0:.1f} s")

        # 3. every row scored, Parquet to Parquet
        t0 = time.perf_counter()
        scores = predict(moe, table[FEATURES], columns=["score"])
        scores["target"] = table["target"]  # kept beside the score, partition by partition
        scores.to_parquet(out / "scores")
        elapsed = time.perf_counter() - t0
        print(f"scored {rows:,} rows in {elapsed:.2f} s ({rows / elapsed / 1e6:.2f} million rows/s), "
              f"Parquet to Parquet")
        peaks = client.run(peak_rss_mib)
        print("peak RSS per worker: " + ", ".join(f"{v:.0f} MiB" for v in peaks.values())
              + f" (the features alone: {rows * 16 * 4 / 2**20:.0f} MiB as float32)")

        # a part scored on the cluster equals the same part run here
        first = pd.read_parquet(out / "features" / "part-0000.parquet")
        here = moe.run(first[FEATURES].to_numpy())[:, 0]
        there = dd.read_parquet(out / "scores").partitions[0].compute()["score"].to_numpy()
        print(f"first part identical to a local run: {np.array_equal(here, there)}")
        scored = dd.read_parquet(out / "scores")
        mse, variance = dask.compute(((scored["score"] - scored["target"]) ** 2).mean(), scored["target"].var())
        print(f"mean squared error over all rows: {mse:.4f} (the target's variance: {variance:.4f})")

        # 4. rows held by the workers against one local thread
        if compare:
            x = table[FEATURES].to_dask_array(lengths=True).persist()
            x_here = x.compute()
            local, distributed = [], []
            for _ in range(3):
                t0 = time.perf_counter()
                want = moe.run(x_here, threads=1)
                local.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                got = predict(moe, x).compute()
                distributed.append(time.perf_counter() - t0)
            print(f"{rows:,} rows: one local thread {min(local):.2f} s, {workers} workers {min(distributed):.2f} s: "
                  f"{min(local) / min(distributed):.2f}x; identical: {np.array_equal(got, want)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--part-rows", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--compare", action="store_true", help="time the workers against one local thread")
    args = parser.parse_args()
    # dask 2026.8's Parquet reader calls DataFrame.reset_index(inplace=True), which pandas 3.1
    # deprecates: harmless, so silenced here and on the workers (which inherit the variable).
    quiet = "ignore:The inplace keyword:DeprecationWarning"
    os.environ["PYTHONWARNINGS"] = ",".join(filter(None, [os.environ.get("PYTHONWARNINGS"), quiet]))
    warnings.filterwarnings("ignore", "The inplace keyword", DeprecationWarning)
    if args.out is None:
        with tempfile.TemporaryDirectory() as tmp:
            main(args.rows, args.part_rows, args.workers, Path(tmp), args.compare)
    else:
        main(args.rows, args.part_rows, args.workers, args.out, args.compare)
