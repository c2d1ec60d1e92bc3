#!/usr/bin/python3
"""Plots and tables of `tessera bench halo`: partition quality against the number of
parts, and halo exchange time against the local compute of a one-hop sum.

Usage: /usr/bin/python3 analysis/plot_bench_halo.py BENCH_DIR [BENCH_DIR ...] [--out DIR]
Give one directory per rank count (e.g. a 1-rank and a 2-rank run); writes
partition_quality.png, halo_exchange.png and prints Markdown tables.
"""
import argparse
import os
import sys

import h5py  # noqa: E402
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scaling import markdown_table, save_figure  # noqa: E402


def read_rows(directory):
    path = os.path.join(directory, "bench.h5") if os.path.isdir(directory) else directory
    if not os.path.exists(path):
        partial = " (only bench.h5.partial: the run did not finish)" if os.path.exists(
            path + ".partial") else ""
        sys.exit(f"{path}: no such benchmark file{partial}")
    rows = []
    with h5py.File(path, "r") as f:
        ranks = f["config"].attrs.get("build: MPI ranks", b"1")
        ranks = int(ranks.decode() if isinstance(ranks, bytes) else ranks)
        for benchmark, group in f["bench"].items():
            for index, dataset in group.items():
                attrs = {k: (v.decode() if isinstance(v, bytes) else v)
                         for k, v in dataset.attrs.items()}
                seconds, gflops, extra = dataset[()]
                row = dict(benchmark=benchmark, index=int(index), seconds=seconds,
                           gflops=gflops, extra=extra, ranks=ranks)
                row.update(attrs)  # a row's own "ranks" attribute wins
                rows.append(row)
    return sorted(rows, key=lambda r: r["index"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    rows = [row for run in args.runs for row in read_rows(run)]
    out = args.out or (args.runs[0] if os.path.isdir(args.runs[0]) else ".")
    os.makedirs(out, exist_ok=True)

    quality = [r for r in rows if r["benchmark"] == "partition_quality"]
    if quality:
        seen = {}
        for r in quality:
            seen[int(r["parts"])] = r  # identical across runs; keep one per part count
        quality = [seen[p] for p in sorted(seen)]
        print(markdown_table(
            ["parts", "edge cut", "imbalance", "halo fraction (1 hop)", "halo fraction (2 hops)",
             "max neighbours", "METIS (s)"],
            [[int(r["parts"]), int(r["edge_cut"]), f"{r['imbalance']:.3f}",
              f"{r['halo_fraction_1hop']:.4f}", f"{r['halo_fraction_2hop']:.4f}",
              int(r["max_neighbours"]), f"{r['seconds']:.2f}"] for r in quality]), end="")
        fig, ax = plt.subplots(figsize=(6, 4))
        parts = [r["parts"] for r in quality]
        ax.loglog(parts, [r["halo_fraction_1hop"] for r in quality], "o-", label="1-hop halo")
        ax.loglog(parts, [r["halo_fraction_2hop"] for r in quality], "s-", label="2-hop halo")
        ax.set_xlabel("parts")
        ax.set_ylabel("ghost nodes / owned nodes")
        ax.set_title(quality[0]["shape"].split(" parts")[0] + ": METIS partitions")
        ax.legend()
        ax.grid(True, which="both", alpha=0.3)
        save_figure(fig, os.path.join(out, "partition_quality.png"))
        plt.close(fig)

    halo = [r for r in rows if r["benchmark"] == "halo_exchange"]
    if halo:
        print()
        print(markdown_table(
            ["nodes", "ranks", "exchange (s)", "one-hop sum (s)", "exchange / compute",
             "bytes per step"],
            [[r["shape"].split()[0].split("=")[1], r["ranks"], f"{r['seconds']:.3g}",
              f"{r['compute_seconds']:.3g}", f"{r['exchange_over_compute']:.3f}",
              int(r["bytes_per_step"])] for r in halo]), end="")
        fig, ax = plt.subplots(figsize=(6, 4))
        for ranks in sorted({r["ranks"] for r in halo}):
            sel = [r for r in halo if r["ranks"] == ranks]
            nodes = [int(r["shape"].split()[0].split("=")[1]) for r in sel]
            ax.loglog(nodes, [r["compute_seconds"] for r in sel], "o--", label=f"sum, {ranks} rank(s)")
            if ranks > 1:
                ax.loglog(nodes, [r["seconds"] for r in sel], "s-", label=f"exchange, {ranks} ranks")
        ax.set_xlabel("mesh nodes")
        ax.set_ylabel("seconds per step")
        ax.legend()
        ax.grid(True, which="both", alpha=0.3)
        save_figure(fig, os.path.join(out, "halo_exchange.png"))
        plt.close(fig)
    print(f"\nplots in {out}")


if __name__ == "__main__":
    main()
