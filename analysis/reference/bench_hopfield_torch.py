#!/usr/bin/python3
"""PyTorch side of `bench_hopfield` (experiments/bench/bench_hopfield.cpp), float32:

  sgemm_peak          torch.mm of two 2048^3 (quick: 512^3) matrices;
  hopfield_retrieval  one update xi <- softmax(beta q @ X.T) @ X under torch.no_grad(),
                      beta = 1/sqrt(d), on the same N, d, batch as the C++ rows;
                      extra = fraction of sgemm_peak; more: queries_per_second.

Prints a JSON list of rows {"benchmark", "shape", "seconds", "gflops", "extra", "note",
"more"}; threads from OPENBLAS_NUM_THREADS (default 1), as for the C++ side.
    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 analysis/reference/bench_hopfield_torch.py [--quick]
"""
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import emit, row, setup, time_median  # noqa: E402


def main():
    quick, threads, repeats, warmup = setup()
    note = f"torch {torch.__version__}, threads={threads}"
    rows = []
    n = 512 if quick else 2048
    a, b = torch.randn(n, n), torch.randn(n, n)
    s = time_median(lambda: torch.mm(a, b), repeats, warmup)
    rows.append(row("sgemm_peak", f"n={n}", s, 2.0 * n ** 3, note, extra=1.0))
    peak = rows[-1]["gflops"]
    batch = 128 if quick else 1024
    for d in ([32, 64] if quick else [64, 256]):
        for count in ([2048] if quick else [16384, 65536]):
            x = torch.randn(count, d)
            q = torch.randn(batch, d)
            beta = 1.0 / math.sqrt(d)

            def step():
                with torch.no_grad():
                    return torch.softmax(beta * (q @ x.T), dim=1) @ x

            t = time_median(step, repeats, warmup)
            flops = 4.0 * batch * count * d
            g = flops / t * 1e-9
            rows.append(row("hopfield_retrieval", f"N={count} d={d} batch={batch}", t, flops, note,
                            extra=g / peak, more={"queries_per_second": batch / t}))
    emit(rows)


if __name__ == "__main__":
    main()
