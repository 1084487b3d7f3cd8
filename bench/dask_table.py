"""kimi_fann.dask.predict on a LocalCluster of worker processes against one local thread: the
table in docs/dask.md and the Dask issue's closing note.

The rows (float32, 16 features) are generated on the workers and kept there (persisted), as a
data set read from Parquet or Zarr would be; the local run gets the same rows as one numpy array
and runs them with ``model.run(x, threads=1)``. Each timing is the best of ``--repeats``; the
workers' outputs are checked to equal the local ones bit for bit.

On a shared machine the workers may not get a core each: the script first runs the same work
on every worker at once and prints how many cores they got between them (CPU time over wall
time), and the table gives the CPU time each worker spent beside the wall times.

usage: python bench/dask_table.py [--rows 2000000] [--chunk 250000] [--workers 2] [--repeats 5]
"""

from __future__ import annotations

import argparse
import resource
import time

import dask.array as da
import numpy as np
from distributed import Client, LocalCluster

import kimi_fann as kf
from kimi_fann.dask import predict


def models(x: np.ndarray) -> dict[str, object]:
    """The model kinds: a float network, its Q8 form, and mixtures of float and Q8 experts."""
    net = kf.Network([16, 64, 32, 4], hidden="sigmoid_symmetric", output="sigmoid", seed=0)
    experts = [kf.Network([16, 32, 4], hidden="sigmoid_symmetric", output="sigmoid", seed=i) for i in range(8)]
    router = kf.Router(np.random.default_rng(0).normal(size=(8, 16)), top_k=2, scoring="softmax")
    return {
        "float 16-64-32-4": net,
        "Q8 16-64-32-4": net.quantize(calibration=x),
        "mixture, 8 float experts 16-32-4, top 2": kf.MixtureOfExperts(router, experts),
        "mixture, 8 Q8 experts, top 2": kf.MixtureOfExperts(router, [e.quantize(calibration=x) for e in experts]),
    }


def best(run, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = run()
        times.append(time.perf_counter() - t0)
    return min(times), out


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    return time.process_time()


def busy(seconds: float) -> tuple[float, float]:
    """Spin for about ``seconds`` of wall time: (wall, CPU) seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    while time.perf_counter() - wall < seconds:
        sum(range(10_000))
    return time.perf_counter() - wall, time.process_time() - cpu


def main(rows: int, chunk: int, workers: int, repeats: int) -> None:
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        x = da.random.default_rng(0).normal(size=(rows, 16), chunks=(chunk, 16)).astype(np.float32).persist()
        here = x.compute()
        print(f"{rows:,} rows x 16 float32 in {x.npartitions} chunks of {chunk:,} on {workers} worker processes "
              f"(1 thread each); the local run: model.run(x, threads=1)")
        spun = client.run(busy, 1.0).values()
        print(f"cores the workers got between them, all busy at once: {sum(c / w for w, c in spun):.2f}\n")
        print(f"| model | one local thread | {workers} workers | speed-up | CPU per worker | identical |")
        print("|---|---|---|---|---|---|")
        for name, model in models(here[:10_000]).items():
            local, want = best(lambda m=model: m.run(here, threads=1), repeats)
            before = client.run(cpu_seconds)
            remote, got = best(lambda m=model: predict(m, x).compute(), repeats)
            spent = [(v - before[k]) / repeats for k, v in client.run(cpu_seconds).items()]
            print(f"| {name} | {local:.3f} s | {remote:.3f} s | {local / remote:.2f}x | "
                  f"{', '.join(f'{c:.3f} s' for c in spent)} | {np.array_equal(got, want)} |")
        peaks = client.run(peak_rss_mib)
        print("\npeak RSS per worker: " + ", ".join(f"{v:.0f} MiB" for v in peaks.values())
              + f"; each holds half of the {rows * 64 / 2**20:.0f} MiB of rows")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--chunk", type=int, default=250_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    main(args.rows, args.chunk, args.workers, args.repeats)
