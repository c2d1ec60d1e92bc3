#!/usr/bin/python3
"""How far a traffic-PINN run's truth and prediction are from a finer reference truth.

The simulated truth comes from a first-order (Godunov) solver, whose numerical diffusion
is an error of its own. Score runs against a reference run with a finer truth (more
solver cells or a larger solver.truth_refinement, the same t grid):
  build/bin/tessera run experiments/pinn_ring.toml --out /tmp/ref --set solver.truth_refinement=1 \
      --set solver.cells=6400 --set train.adam_steps=0 --set train.lbfgs_evaluations=0
  /usr/bin/python3 analysis/pinn_truth_error.py --reference /tmp/ref RUN_DIR...
For each run it prints the relative L2 of its truth and of its prediction against the
reference truth, block-averaged onto the run's cells (the reference's cell count must be
a multiple of the run's).
"""
import argparse
import os

import h5py
import numpy as np


def fields(path):
    path = path if path.endswith(".h5") else os.path.join(path, "run.h5")
    with h5py.File(path, "r") as f:
        return f["/pinn/density_true"][:], f["/pinn/density_pred"][:]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", required=True, help="run (directory or run.h5) with the finer truth")
    parser.add_argument("runs", nargs="+", help="runs to score")
    args = parser.parse_args()
    reference, _ = fields(args.reference)
    for run in args.runs:
        truth, prediction = fields(run)
        nt, nx = truth.shape
        if reference.shape[0] != nt or reference.shape[1] % nx:
            raise SystemExit(f"{run}: {nt} x {nx} grid does not divide the reference's "
                             f"{reference.shape[0]} x {reference.shape[1]}")
        fine = reference.reshape(nt, nx, reference.shape[1] // nx).mean(axis=2)
        norm = np.linalg.norm(fine)
        print(f"{run}: truth {np.linalg.norm(truth - fine) / norm:.3e}, "
              f"prediction {np.linalg.norm(prediction - fine) / norm:.3e} "
              f"(against its own truth {np.linalg.norm(prediction - truth) / np.linalg.norm(truth):.3e})")


if __name__ == "__main__":
    main()
