#!/usr/bin/python3
"""PyTorch side of experiments/bench/bench_st_forecast.cpp: one STTN training step
(forward, backward of L = sum(y * dy), AdamW) of the reference model of
reference_st_forecast.py at the same sizes, on the same graph (a chain with links
i -> i + 5; the scaled Laplacian dense, as STTN's own code has it), float32. Prints a
JSON list of rows.

Threads: torch.set_num_threads(OPENBLAS_NUM_THREADS, default 1).

Run: OPENBLAS_NUM_THREADS=1 /usr/bin/python3 analysis/reference/bench_st_forecast_torch.py [--quick]
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import emit, row, setup, time_median  # noqa: E402
from reference_st_forecast import Sizes, Sttn  # noqa: E402


def bench_graph(n):
    w = np.zeros((n, n))
    for i in range(n):
        for step in (1, 5):
            if i + step < n:
                w[i, i + step] = w[i + step, i] = 1.0
    degree = w.sum(1)
    scale = np.where(degree > 0, 1 / np.sqrt(np.where(degree > 0, degree, 1)), 0)
    lap = np.eye(n) - scale[:, None] * w * scale[None, :]
    values, vectors = np.linalg.eigh(lap)
    return 2 * lap / values[-1] - np.eye(n), vectors


def sttn_flops(c, windows):
    """The nominal count of bench_st_forecast.cpp."""
    n, t, d, f = c.sensors, c.steps, c.dim, c.ffn
    rows = windows * n * t
    block = rows * (2 * (4 * d * d + 2 * d * f) + c.cheb * d * d + 2 * d * d) + \
        2 * windows * t * n * n * d + 2 * windows * n * t * t * d
    head = windows * n * (t * d * c.head_hidden + c.head_hidden * c.horizons)
    return 6 * (rows * 2 * d + c.blocks * block + head)


def main():
    quick, _, repeats, warmup = setup()
    cases = [(20, 4, 16)] if quick else [(207, 8, 64), (207, 32, 64)]
    rows = []
    for sensors, windows, dim in cases:
        eigs = min(32, sensors - 1)
        c = Sizes(dim=dim, heads=4, blocks=2, ffn=2 * dim, cheb=3, head_hidden=256, steps=12,
                  horizons=12, per_day=288, sensors=sensors, eigenvectors=eigs)
        lap, vectors = bench_graph(sensors)
        model = Sttn(c, torch.tensor(lap, dtype=torch.float32),
                     torch.tensor(vectors[:, 1:eigs + 1], dtype=torch.float32))
        optimiser = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
        count = windows * sensors * 12
        gen = np.random.default_rng(1)
        inputs = torch.tensor(gen.normal(size=(count, 2)), dtype=torch.float32)
        slot = torch.tensor(gen.integers(0, 288, count))
        weekday = torch.tensor(gen.integers(0, 7, count))
        position = torch.arange(12).repeat(windows * sensors)
        dy = torch.randn(windows * sensors, 12)

        def step():
            optimiser.zero_grad()
            (model(inputs, slot, weekday, position) * dy).sum().backward()
            optimiser.step()

        flops = sttn_flops(c, windows)
        reps = min(repeats, 3) if flops > 1e11 else repeats
        seconds = time_median(step, reps, min(warmup, reps))
        rows.append(row("sttn_step", f"sensors={sensors} windows={windows} d={dim}", seconds, flops,
                        "forward + backward + AdamW, float; extra = parameters",
                        extra=float(sum(p.numel() for p in model.parameters()))))
    emit(rows)


if __name__ == "__main__":
    main()
