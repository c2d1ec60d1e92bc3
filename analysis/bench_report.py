#!/usr/bin/python3
"""Tessera against PyTorch, side by side in one run, at the same thread count.

Runs `tessera bench nn` (Tessera's kernels and OpenBLAS sgemm), then each PyTorch
script analysis/reference/bench_*_torch.py for the same shapes, and writes the rows of
both into the run's bench.h5 (PyTorch rows under /torch) and a Markdown table
(report.md) with the speed-up of Tessera over PyTorch for every matching row.

Usage: /usr/bin/python3 analysis/bench_report.py [--threads N] [--quick] [--out DIR]
       [--tessera build/bin/tessera]
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import time

import h5py

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def tessera_rows(bench_file):
    rows = []
    with h5py.File(bench_file, "r") as f:
        for benchmark, group in f["bench"].items():
            for index, dataset in group.items():
                attrs = {k: (v.decode() if isinstance(v, bytes) else v)
                         for k, v in dataset.attrs.items()}
                seconds, gflops, extra = dataset[()]
                rows.append(dict(benchmark=benchmark, index=int(index), seconds=float(seconds),
                                 gflops=float(gflops), extra=float(extra), shape=attrs["shape"],
                                 note=attrs.get("note", "")))
    return sorted(rows, key=lambda r: r["index"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=int(os.environ.get("OPENBLAS_NUM_THREADS", 1)))
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default=None)
    parser.add_argument("--tessera", default=os.path.join(ROOT, "build", "bin", "tessera"))
    args = parser.parse_args()
    out = args.out or os.path.join(ROOT, "results", "bench_nn", time.strftime("%Y%m%d-%H%M%S"))
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(args.threads), OMP_NUM_THREADS=str(args.threads))

    command = [args.tessera, "bench", "nn", "--out", out] + (["--quick"] if args.quick else [])
    print("$ " + " ".join(command), flush=True)
    subprocess.run(command, check=True, env=env)
    rows = tessera_rows(os.path.join(out, "bench.h5"))

    torch_rows = []
    for script in sorted(glob.glob(os.path.join(ROOT, "analysis", "reference", "bench_*_torch.py"))):
        command = [sys.executable, script] + (["--quick"] if args.quick else [])
        print("$ " + " ".join(command), flush=True)
        result = subprocess.run(command, check=True, env=env, capture_output=True, text=True)
        # The JSON list is the last thing a script prints (progress lines may come first).
        text = result.stdout
        torch_rows += json.loads(text[text.rfind("\n[") + 1 if "\n[" in text else text.find("["):])

    with h5py.File(os.path.join(out, "bench.h5"), "a") as f:
        group = f.require_group("torch")
        for i, row in enumerate(torch_rows):
            dataset = group.create_dataset(f"{row['benchmark']}/{i}",
                                           data=[row["seconds"], row.get("gflops", 0.0), row.get("extra", 0.0)])
            dataset.attrs["shape"] = row["shape"]
            dataset.attrs["note"] = row.get("note", "")
        f.attrs["threads"] = args.threads

    by_key = {(r["benchmark"], r["shape"]): r for r in torch_rows}
    lines = [f"Threads per process: {args.threads} (OPENBLAS_NUM_THREADS, torch.set_num_threads)", "",
             "| benchmark | shape | Tessera (ms) | GFLOP/s | PyTorch (ms) | speed-up | note |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        t = by_key.get((r["benchmark"], r["shape"]))
        torch_ms = f"{1e3 * t['seconds']:.3f}" if t else ""
        speedup = f"{t['seconds'] / r['seconds']:.2f}x" if t and r["seconds"] > 0 else ""
        gflops = f"{r['gflops']:.1f}" if r["gflops"] > 0 else ""
        lines.append(f"| {r['benchmark']} | {r['shape']} | {1e3 * r['seconds']:.3f} | {gflops} | "
                     f"{torch_ms} | {speedup} | {r['note']} |")
    report = "\n".join(lines) + "\n"
    with open(os.path.join(out, "report.md"), "w") as handle:
        handle.write(report)
    print(report)
    print(f"wrote {os.path.join(out, 'report.md')} and {os.path.join(out, 'bench.h5')}")


if __name__ == "__main__":
    main()
