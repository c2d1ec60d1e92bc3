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
import json
import math
import os
import sys
import time

import torch


def time_median(f, repeats, warmup):
    for _ in range(warmup):
        f()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    times.sort()
    return times[len(times) // 2]


def main():
    quick = "--quick" in sys.argv
    threads = int(os.environ.get("OPENBLAS_NUM_THREADS", "1"))
    torch.set_num_threads(threads)
    note = f"torch {torch.__version__}, threads={threads}"
    repeats, warmup = (5, 1) if quick else (20, 3)
    rows = []
    n = 512 if quick else 2048
    a, b = torch.randn(n, n), torch.randn(n, n)
    s = time_median(lambda: torch.mm(a, b), repeats, warmup)
    peak = 2.0 * n ** 3 / s * 1e-9
    rows.append({"benchmark": "sgemm_peak", "shape": f"n={n}", "seconds": s, "gflops": peak,
                 "extra": 1.0, "note": note})
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
            g = 4.0 * batch * count * d / t * 1e-9
            rows.append({"benchmark": "hopfield_retrieval", "shape": f"N={count} d={d} batch={batch}",
                         "seconds": t, "gflops": g, "extra": g / peak, "note": note,
                         "more": {"queries_per_second": batch / t}})
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
