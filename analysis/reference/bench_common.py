"""Pieces shared by the PyTorch benchmark scripts analysis/reference/bench_*_torch.py:
thread count and --quick handling, median timing, the JSON row and its printing, and the
PINN network (tanh MLP, Glorot normal) with its nominal flop count.

Not a benchmark itself (analysis/bench_report.py runs only bench_*_torch.py); the scripts
import it from their own folder.
"""
import json
import os
import sys
import time

import torch


def setup():
    """(quick, threads, repeats, warmup): --quick from the command line, threads from
    OPENBLAS_NUM_THREADS (default 1, as for the C++ side) given to torch.set_num_threads,
    and the repeat / warm-up counts (5, 1) quick or (20, 3)."""
    quick = "--quick" in sys.argv
    threads = int(os.environ.get("OPENBLAS_NUM_THREADS", "1"))
    torch.set_num_threads(threads)
    repeats, warmup = (5, 1) if quick else (20, 3)
    return quick, threads, repeats, warmup


def sample_times(f, repeats, warmup):
    """Seconds of max(1, repeats) calls of f after warmup untimed ones, sorted."""
    for _ in range(warmup):
        f()
    times = []
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    times.sort()
    return times


def time_median(f, repeats, warmup):
    """Median seconds of a call of f (the upper middle one for an even count)."""
    times = sample_times(f, repeats, warmup)
    return times[len(times) // 2]


def row(benchmark, shape, seconds, flops, note, extra=0.0, **more):
    """A result row; keys beyond note (e.g. more={...}) follow it in order."""
    return dict({"benchmark": benchmark, "shape": shape, "seconds": seconds,
                 "gflops": flops / seconds * 1e-9, "extra": extra, "note": note}, **more)


def emit(rows):
    """Print the rows as the JSON list analysis/bench_report.py reads."""
    print(json.dumps(rows, indent=1))


def make_net(sizes):
    """tanh MLP of the given layer sizes, Glorot normal weights, zero biases."""
    layers = []
    for l in range(len(sizes) - 1):
        linear = torch.nn.Linear(sizes[l], sizes[l + 1])
        torch.nn.init.xavier_normal_(linear.weight)
        torch.nn.init.zeros_(linear.bias)
        layers.append(linear)
        if l + 2 < len(sizes):
            layers.append(torch.nn.Tanh())
    return torch.nn.Sequential(*layers)


def nominal_flops(sizes, evaluations):
    """Same nominal count as the C++ rows: 3 x 2 x evaluations x sum(in x out), where a
    point evaluated with its jet (u, u_x, u_t, u_xx) counts as 4 evaluations."""
    return 3 * 2 * evaluations * sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
