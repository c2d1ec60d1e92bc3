#!/usr/bin/python3
"""Plots of a Hopfield run (experiment kind "hopfield"), by its task:

  capacity    capacity.png: success rate and error against N, one panel per pattern kind,
              modern (solid) and classical (dashed) per d;
  beta_sweep  beta_sweep.png: patterns carrying the softmax mass against beta;
  images      images_K<k>.png: grid of stored / query / modern / classical images;
  learning    learning.png: test accuracy per epoch, HopfieldPooling and MLP.

Usage: /usr/bin/python3 analysis/plot_hopfield.py RUN_DIR_OR_H5 [--out DIR]
Prints a Markdown table of the numbers as well.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tessera_results import Run  # noqa: E402

import h5py  # noqa: E402
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def plot_capacity(table, out):
    kinds = {0: "binary", 1: "gaussian"}
    present = sorted(set(table[:, 0].astype(int)))
    fig, axes = plt.subplots(1, len(present), figsize=(6 * len(present), 4.2), squeeze=False)
    print("| kind | d | N | modern error | modern success | classical error | classical success |")
    print("|---|---|---|---|---|---|---|")
    for ax, kind in zip(axes[0], present):
        rows = table[table[:, 0] == kind]
        for i, d in enumerate(sorted(set(rows[:, 1]))):
            r = rows[rows[:, 1] == d]
            color = f"C{i}"
            ax.semilogx(r[:, 2], r[:, 4], "-o", color=color, label=f"modern d={int(d)}")
            ax.semilogx(r[:, 2], r[:, 6], "--x", color=color, label=f"classical d={int(d)}")
            for x in r:
                print(f"| {kinds[kind]} | {int(x[1])} | {int(x[2])} | {x[3]:.3g} | {x[4]:.2f} | "
                      f"{x[5]:.3g} | {x[6]:.2f} |")
        ax.set_xlabel("stored patterns N")
        ax.set_ylabel("success rate")
        ax.set_title(f"{kinds[kind]} patterns")
        ax.set_ylim(-0.05, 1.05)
        ax.legend(fontsize="x-small", ncol=2)
    fig.tight_layout()
    path = os.path.join(out, "capacity.png")
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_beta(table, out):
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    ax.loglog(table[:, 0], table[:, 1], "-o", label="mean patterns carrying 90% of the mass")
    ax.loglog(table[:, 0], np.maximum(table[:, 5], 1), "-s", label="exp(entropy) of the softmax")
    ax.set_xlabel("beta")
    ax.set_ylabel("patterns")
    ax2 = ax.twinx()
    ax2.semilogx(table[:, 0], table[:, 3], ":", color="k", label="fraction single-pattern")
    ax2.set_ylabel("fraction of queries at a single pattern")
    ax.legend(loc="lower left", fontsize="small")
    ax.set_title("fixed points: global average -> metastable -> single patterns")
    fig.tight_layout()
    path = os.path.join(out, "beta_sweep.png")
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print("| beta | mean count | median | single | global | exp(entropy) | steps | error |")
    print("|---|---|---|---|---|---|---|---|")
    for r in table:
        print("| " + " | ".join(f"{v:.3g}" for v in r) + " |")
    return path


def plot_images(h5, table, out):
    paths = []
    print("| K | modern error | modern success | classical error | classical success |")
    print("|---|---|---|---|---|")
    for r in table:
        print(f"| {int(r[0])} | {r[1]:.3g} | {r[2]:.2f} | {r[3]:.3g} | {r[4]:.2f} |")
        group = h5[f"hopfield/images_K{int(r[0])}"]
        titles = ["stored", "query (lower half masked)", "modern Hopfield", "classical Hopfield"]
        names = ["stored", "query", "modern", "classical"]
        count = group["stored"].shape[0]
        fig, axes = plt.subplots(4, count, figsize=(1.3 * count, 6), squeeze=False)
        for row, (name, title) in enumerate(zip(names, titles)):
            images = np.asarray(group[name])
            for col in range(count):
                ax = axes[row][col]
                ax.imshow(images[col], cmap="gray", vmin=-1, vmax=1)
                ax.set_xticks([])
                ax.set_yticks([])
            axes[row][0].set_ylabel(title, fontsize="x-small")
        fig.suptitle(f"Fashion-MNIST, K = {int(r[0])} stored images")
        fig.tight_layout()
        path = os.path.join(out, f"images_K{int(r[0])}.png")
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths


def plot_learning(run, table, out):
    fig, ax = plt.subplots(figsize=(6, 4))
    for name in ("hopfield_pooling", "mlp"):
        series = run.metrics.get(f"{name}_test_accuracy")
        if series is not None:
            ax.plot(series[:, 0], series[:, 1], "-o", label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy")
    ax.legend()
    fig.tight_layout()
    path = os.path.join(out, "learning.png")
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print("| model | test accuracy | parameters |")
    print("|---|---|---|")
    for name, r in zip(("HopfieldPooling", "MLP"), table):
        print(f"| {name} | {r[0]:.4f} | {int(r[1])} |")
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run")
    parser.add_argument("--out")
    args = parser.parse_args()
    run = Run(args.run)
    out = args.out or run.directory
    os.makedirs(out, exist_ok=True)
    written = []
    with h5py.File(run.path, "r") as h5:
        if "hopfield" not in h5:
            sys.exit(f"{run.path}: no /hopfield group: not a run of experiment kind 'hopfield'")
        g = h5["hopfield"]
        if "capacity" in g:
            written.append(plot_capacity(np.asarray(g["capacity"]), out))
        if "beta_sweep" in g:
            written.append(plot_beta(np.asarray(g["beta_sweep"]), out))
        if "images" in g:
            written += plot_images(h5, np.asarray(g["images"]), out)
        if "learning" in g:
            written.append(plot_learning(run, np.asarray(g["learning"]), out))
    for path in written:
        print("wrote", path)


if __name__ == "__main__":
    main()
