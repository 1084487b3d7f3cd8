"""Routing and mixtures of experts: Kimi-K2-style gating, load balancing, the .kfn container.

1. A mixture fitted to data made of four domains, each with its own target function.
2. A sigmoid-scored router (as Kimi-K2 / DeepSeek-V3) balanced with ``update_bias``.
3. The mixture saved raw and compressed in ``.kfn`` files.

Run it as ``python examples/mixture.py [--epochs N]``.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

import kimi_fann as kf


def four_domains(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inputs around four centres; each domain has its own smooth target in [0, 1]."""
    centres = np.array([[0.6, 0.6, 0, 0], [-0.6, 0.6, 0, 0], [0.6, -0.6, 0, 0], [-0.6, -0.6, 0, 0]])
    domain = rng.integers(0, 4, n)
    x = centres[domain] + rng.normal(0, 0.25, (n, 4))
    targets = np.stack([np.sin(3 * x[:, 2]), np.cos(3 * x[:, 3]), x[:, 2] * x[:, 3], np.tanh(2 * x[:, 2] - x[:, 3])])
    y = 0.5 + 0.4 * targets[domain, np.arange(n)]
    return x, y[:, None], domain


def mse(y: np.ndarray, want: np.ndarray) -> float:
    return float(np.mean((y - want) ** 2))


def main(epochs: int) -> None:
    rng = np.random.default_rng(0)
    x, y, domain = four_domains(2000, rng)
    xt, yt, _ = four_domains(1000, rng)
    data = kf.TrainingData(x, y)

    # 1. One mixture: gates learnt from the domain labels, one small expert per domain.
    moe = kf.MixtureOfExperts.fit(data, n_experts=4, hidden=32, top_k=1, labels=domain, max_epochs=epochs,
                                  domains=["north-east", "north-west", "south-east", "south-west"])
    # Two single networks to compare with: one as large as one expert (the same work per input
    # at top-1), and one as large as all four together (the same number of weights).
    # The same activations as the experts' (MixtureOfExperts.fit's defaults).
    single = kf.Network([4, 32, 1], hidden="sigmoid_symmetric", output="sigmoid", seed=0)
    single.train(data, max_epochs=epochs, target_error=0)
    total = sum(e.total_connections for e in moe.experts) + moe.router.n_experts * moe.router.dim
    # 4 inputs + bias in, 1 output: ~6 weights a neuron
    wide = kf.Network([4, total // 6, 1], hidden="sigmoid_symmetric", output="sigmoid", seed=0)
    wide.train(data, max_epochs=epochs, target_error=0)
    print(f"test mse: mixture of 4 experts (top-1) {mse(moe.run(xt), yt):.5f}, "
          f"one network as large as one expert {mse(single.run(xt), yt):.5f}, "
          f"one network as large as the mixture ({wide.total_connections} weights against {total}) "
          f"{mse(wide.run(xt), yt):.5f}")
    outputs, experts, weights = moe.run(xt[:3], return_routes=True)
    for row in range(3):
        print(f"  input {row}: expert {moe.domains[experts[row, 0]]!r} with weight {weights[row, 0]:.2f}")

    # 2. Kimi-K2-style gating: sigmoid scores, top-k by score + bias, weights = normalised scores.
    n_experts, dim = 16, 32
    gates = rng.normal(0, 1, (n_experts, dim)).astype(np.float32)
    gates[:4] += 0.8  # four experts that every input likes too much
    router = kf.Router(gates, top_k=4, scoring="sigmoid")
    batch = rng.normal(0.3, 1, (4096, dim)).astype(np.float32)

    def imbalance() -> float:
        _, _, load = router.route(batch, return_load=True)
        return float(load.max() / load.mean())

    before = imbalance()
    for _ in range(200):  # auxiliary-loss-free balancing: nudge the selection bias by the load
        _, _, load = router.route(batch, return_load=True)
        router.update_bias(load, rate=0.01)
    print(f"router {n_experts} experts, top-4, sigmoid scoring: max/mean load {before:.2f} before balancing, "
          f"{imbalance():.2f} after 200 update_bias steps")

    # 3. The .kfn container: one file per model, raw or compressed.
    float_bytes = sum(e.total_connections for e in moe.experts) * 4 + moe.router.gates.size * 4
    with tempfile.TemporaryDirectory() as tmp:
        # Lossy saves are measured on the calibration rows first: weights that would dominate
        # their group are kept exactly, and a save that changes too many outputs is refused.
        for compress, group in ((None, 64), ("deflate", 64), ("q8", 64), ("q8", 16), ("q4", 16), ("q4", 8)):
            path = Path(tmp) / f"mixture-{compress}-{group}.kfn"
            try:
                report = kf.save(path, moe, compress=compress, group=group, calibration=x)
            except kf.errors.ConfigError as exc:
                print(f"  .kfn {compress}, groups of {group}: refused ({str(exc).split(': ', 1)[1][:90]}...)")
                continue
            again = kf.load(path)
            label = f"{compress or 'raw'}" + (f", groups of {group}" if compress in ("q8", "q4") else "")
            kept = "" if report is None else f", {report.exact_fraction:.0%} of the weights kept exactly"
            print(f"  .kfn {label:18s} {path.stat().st_size:6d} bytes (float32 weights {float_bytes}), "
                  f"test mse after loading {mse(again.run(xt), yt):.5f}{kept}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=300, help="training epochs per expert (300)")
    main(parser.parse_args().epochs)
