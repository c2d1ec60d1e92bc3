#!/usr/bin/python3
"""Training twin of Tessera's STTN forecaster in plain PyTorch: the model `Sttn` of
reference_st_forecast.py (equal to models/st_forecast/sttn.hpp on the same weights),
trained with the recipe of models/st_forecast/training.cpp on the data pipeline of
series.cpp and sensor_graph.cpp, so that its test MAE can be set beside Tessera's
(docs/measured/sttn_torch_twin_2026-12-07.md).

Data, as experiments/st_forecast_corridor.toml has them: the series CSV (one row per
5-minute step, a header row of sensor names, 0 = missing; the corridor week starts on a
Wednesday at midnight), windows of 12 steps in and 12 out, stride 1, split by counts
7:1:2 in time order, one z-score of the training part's non-missing readings. The graph:
a from,to,cost edge list of road distances, DCRNN's Gaussian kernel (sigma the
population std of the listed distances, weights below 0.1 dropped), symmetrised by
max(W, W^T); the scaled Laplacian 2 L / lambda_max - I (lambda_max by the same power
iteration as Tessera) and the 32 eigenvectors of L after the trivial one.

Recipe: masked MAE in data units (the z-scored forecast de-normalised; a target of 0 left
out), AdamW (lr 1e-3, weight decay 1e-4 on every parameter), gradient-norm clipping at 5,
lr x 0.3 from each milestone epoch on, batch 64 in an order shuffled per epoch, early
stopping on the validation MAE with `patience`, the best epoch's parameters scored on the
test windows. Without a weekday embedding when the training part lacks a weekday (as
Tessera's model.weekday_embedding = "auto"). Initialisation is torch's default, the
distributions Tessera draws from (uniform +-1/sqrt(fan_in) for Linear weights and biases,
N(0, 1) for tables, LayerNorm 1 and 0); the random streams, and so the initial weights
and the batch order, differ from Tessera's.

With --tessera RUN_FOLDER (a Tessera run of the same config), the data pipeline is checked
before training: the window counts and the z-score (from its log.txt), the persistence and
historical-average test MAE per horizon and the parameter count (from its run.h5) must
equal this script's; it stops otherwise.

Writes OUT/twin.json: the test MAE / RMSE / MAPE per horizon, at 15 / 30 / 60 minutes and
over all horizons, the best epoch, the per-epoch history, seconds per epoch and per step,
the parameter count and persistence's test MAE.

Run on one core, from the repository root, with Debian's python (torch 1.13):
  taskset -c 1 /usr/bin/python3 analysis/reference/train_sttn_torch.py --seed 1 \\
      --out results/twin_torch_s1 --tessera results/twin_tessera_s1
"""
import argparse
import copy
import json
import math
import os
import re
import sys
import time

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_st_forecast import Sizes, Sttn  # noqa: E402

# Keys of experiments/st_forecast_corridor.toml and the defaults of
# models/st_forecast/config.cpp that the corridor run uses.
STEPS_PER_DAY, FIRST_SLOT, FIRST_WEEKDAY = 288, 0, 2
INPUT_STEPS, OUTPUT_STEPS = 12, 12
TRAIN_FRACTION, VALIDATION_FRACTION = 0.7, 0.1
GRAPH_THRESHOLD = 0.1
EIGENVECTORS = 32
DIM, HEADS, BLOCKS, FFN_HIDDEN, CHEB_ORDER, HEAD_HIDDEN = 64, 4, 2, 128, 3, 256
BATCH, LR, WEIGHT_DECAY, CLIP, GAMMA = 64, 1e-3, 1e-4, 5.0, 0.3
REPORT_HORIZONS = (3, 6, 12)  # steps: 15, 30 and 60 minutes


# ---------------------------------------------------------------- data (series.cpp)
def read_series(path):
    """(steps, sensors) readings of a CSV file with a header row; 0 is missing."""
    values = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        sys.exit(f"{path}: readings must be finite and >= 0")
    return values


def split_windows(steps):
    """Window starts of the training, validation and test parts, as make_windows."""
    starts = np.arange(steps - INPUT_STEPS - OUTPUT_STEPS + 1)
    n = len(starts)
    # The test fraction as the C++ computes it: 1 - 0.7 - 0.1 is 0.20000000000000004.
    # Halves round to even in both (std::llrint, Python's round), as in DCRNN's generator.
    test = round((1.0 - TRAIN_FRACTION - VALIDATION_FRACTION) * n)
    train = round(TRAIN_FRACTION * n)
    return starts[:train], starts[train:n - test], starts[n - test:]


def fit_zscore(values, train_end):
    """Mean and std of the non-missing readings of steps [0, train_end), as fit_zscore."""
    seen = values[:train_end]
    seen = seen[seen != 0]
    mean = seen.sum() / len(seen)
    variance = (seen * seen).sum() / len(seen) - mean * mean
    return mean, math.sqrt(variance) if variance > 0 else 1.0


def calendar(steps):
    """Time-of-day slot and weekday (0 = Monday) of every step."""
    t = np.arange(steps)
    return (FIRST_SLOT + t) % STEPS_PER_DAY, (FIRST_WEEKDAY + (FIRST_SLOT + t) // STEPS_PER_DAY) % 7


# ---------------------------------------------------------------- graph (sensor_graph.cpp)
def read_graph(path, sensors):
    """Symmetric Gaussian-kernel weights from a from,to,cost edge list of distances."""
    edges = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    frm, to, cost = edges[:, 0].astype(int), edges[:, 1].astype(int), edges[:, 2]
    distances = np.zeros((sensors, sensors))
    listed = np.zeros((sensors, sensors), dtype=bool)
    distances[frm, to] = cost
    listed[frm, to] = True
    # sigma over every row of the file (a pair listed twice counts twice, as in Tessera).
    mean = cost.sum() / len(cost)
    sigma = math.sqrt(max(0.0, (cost * cost).sum() / len(cost) - mean * mean)) or 1.0
    w = np.where(listed, np.exp(-(distances / sigma) ** 2), 0.0)
    w[w < GRAPH_THRESHOLD] = 0
    w = np.maximum(w, w.T)
    np.fill_diagonal(w, 0)
    return w


def normalised_laplacian(w):
    degree = w.sum(1)
    scale = np.where(degree > 0, 1 / np.sqrt(np.where(degree > 0, degree, 1)), 0)
    return np.eye(len(w)) - scale[:, None] * w * scale[None, :]


def lambda_max(lap):
    """The power iteration of scaled_laplacian (start, stopping rule and estimate alike)."""
    v = 1.0 + 0.01 * (np.arange(len(lap)) % 7)
    estimate = 0.0
    for iteration in range(1000):
        product = lap @ v
        norm = np.linalg.norm(product)
        if norm == 0:
            break
        v = product / norm
        converged = iteration > 10 and abs(norm - estimate) < 1e-10 * norm
        estimate = norm
        if converged:
            break
    return estimate if estimate > 0 else 2.0


def laplacian_eigenvectors(lap, count):
    """Eigenvectors 1..count of L (0 is the trivial one), each with its largest entry positive."""
    _, vectors = np.linalg.eigh(lap)
    eig = vectors[:, 1:count + 1].copy()
    for k in range(count):
        largest = np.argmax(np.abs(eig[:, k]))  # the first of equal ones, as the C++ loop
        if eig[largest, k] < 0:
            eig[:, k] *= -1
    return eig


# ---------------------------------------------------------------- baselines (baselines.cpp)
def targets(values, starts):
    """(windows * sensors, horizons) targets in data units, rows (window, sensor)."""
    steps = starts[:, None] + INPUT_STEPS + np.arange(OUTPUT_STEPS)  # (W, H)
    return values[steps].transpose(0, 2, 1).reshape(-1, OUTPUT_STEPS)


def persistence(values, starts):
    """The last non-missing reading of each input window, at every horizon (0 if none)."""
    inputs = values[starts[:, None] + np.arange(INPUT_STEPS)]  # (W, T, N)
    present = inputs != 0
    last = INPUT_STEPS - 1 - np.argmax(present[:, ::-1, :], axis=1)  # (W, N)
    reading = np.take_along_axis(inputs, last[:, None, :], axis=1)[:, 0, :]
    reading = np.where(present.any(axis=1), reading, 0.0)
    return np.repeat(reading.reshape(-1, 1), OUTPUT_STEPS, axis=1)


def historical_average(values, starts, train_end):
    """Per sensor, the mean non-missing training reading at the target's slot of the day
    (of the week once the training part covers two weeks); the sensor's mean where a slot
    has none."""
    slot, weekday = calendar(len(values))
    weekly = train_end >= 14 * STEPS_PER_DAY
    slot_of = weekday * STEPS_PER_DAY + slot if weekly else slot
    slots = 7 * STEPS_PER_DAY if weekly else STEPS_PER_DAY
    seen = values[:train_end]
    present = seen != 0
    sums = np.zeros((slots, seen.shape[1]))
    counts = np.zeros((slots, seen.shape[1]))
    np.add.at(sums, slot_of[:train_end], np.where(present, seen, 0.0))
    np.add.at(counts, slot_of[:train_end], present)
    sensor_mean = np.where(present, seen, 0.0).sum(0) / np.maximum(present.sum(0), 1)
    table = np.where(counts > 0, sums / np.maximum(counts, 1), sensor_mean[None, :])
    steps = starts[:, None] + INPUT_STEPS + np.arange(OUTPUT_STEPS)  # (W, H)
    return table[slot_of[steps]].transpose(0, 2, 1).reshape(-1, OUTPUT_STEPS)


# ---------------------------------------------------------------- metrics (metrics.cpp)
def masked_metrics(prediction, truth):
    """MAE, RMSE, MAPE (%) per horizon and over all horizons' entries; a truth of 0 is left out."""
    mask = truth != 0
    error = np.where(mask, prediction - truth, 0.0)
    ratio = np.where(mask, np.abs(error) / np.where(mask, truth, 1.0), 0.0)
    count = mask.sum(0)
    return {
        "mae": (np.abs(error).sum(0) / count).tolist(),
        "rmse": np.sqrt((error ** 2).sum(0) / count).tolist(),
        "mape": (100 * ratio.sum(0) / count).tolist(),
        "mae_mean": float(np.abs(error).sum() / count.sum()),
        "rmse_mean": float(math.sqrt((error ** 2).sum() / count.sum())),
        "mape_mean": float(100 * ratio.sum() / count.sum()),
    }


# ---------------------------------------------------------------- batches (batch.hpp)
class Batches:
    """Windows as the model takes them: rows (window, sensor, step) of the z-scored reading
    and the time of day in [0, 1), the slot, weekday and position ids, and the targets."""

    def __init__(self, values, mean, std):
        self.values = values
        self.z = (values - mean) / std  # a missing reading (0) is z-scored too, as in Tessera
        self.slot, self.weekday = calendar(len(values))

    def make(self, starts):
        steps = starts[:, None] + np.arange(INPUT_STEPS)  # (W, T)
        sensors = self.values.shape[1]
        shape = (len(starts), sensors, INPUT_STEPS)
        reading = self.z[steps].transpose(0, 2, 1)  # (W, N, T)
        slot = np.broadcast_to(self.slot[steps][:, None, :], shape)
        weekday = np.broadcast_to(self.weekday[steps][:, None, :], shape)
        position = np.broadcast_to(np.arange(INPUT_STEPS), shape)
        inputs = np.stack([reading, slot / STEPS_PER_DAY], axis=-1).reshape(-1, 2)
        return (torch.tensor(inputs, dtype=torch.float32),
                torch.tensor(slot.reshape(-1)), torch.tensor(weekday.reshape(-1)),
                torch.tensor(position.reshape(-1)),
                torch.tensor(targets(self.values, starts)))


class NoWeekday(nn.Module):
    """Stands in for Sttn.dow when Tessera's run has no weekday table (it adds nothing)."""

    def forward(self, weekday):
        return 0.0


def forecast(model, batches, starts, mean, std):
    """The model's forecasts in data units, (windows * sensors, horizons), batch by batch."""
    out = []
    with torch.no_grad():
        for first in range(0, len(starts), BATCH):
            inputs, slot, weekday, position, _ = batches.make(starts[first:first + BATCH])
            out.append(model(inputs, slot, weekday, position).double().numpy() * std + mean)
    return np.concatenate(out)


# ---------------------------------------------------------------- the Tessera run to check against
def tessera_reference(folder):
    """What a Tessera run of the same config says about its data and model."""
    import h5py  # only here: training needs no HDF5

    with open(os.path.join(folder, "log.txt")) as f:
        log = f.read()
    found = re.search(r"(\d+) training, (\d+) validation, (\d+) test; z-score mean (\S+), std (\S+)",
                      log)
    edges = re.search(r"graph of (\d+) directed edges", log)
    with h5py.File(os.path.join(folder, "run.h5"), "r") as f:
        return {
            "windows": tuple(int(found.group(k)) for k in (1, 2, 3)),
            "zscore": (found.group(4), found.group(5)),
            "graph_edges": int(edges.group(1)),
            "persistence_mae": f["/test/persistence/mae"][()],
            "historical_average_mae": f["/test/historical_average/mae"][()],
            "parameters": int(f.attrs["sttn_parameters"]),
        }


def check_pipeline(tessera, mine):
    """Prints the two side by side; False when anything differs."""
    rows = [
        ("windows (train, validation, test)", tessera["windows"], mine["windows"],
         tessera["windows"] == mine["windows"]),
        ("z-score (mean, std), 6 digits", tessera["zscore"], mine["zscore"],
         tessera["zscore"] == mine["zscore"]),
        ("graph edges (directed)", tessera["graph_edges"], mine["graph_edges"],
         tessera["graph_edges"] == mine["graph_edges"]),
        ("parameters", tessera["parameters"], mine["parameters"],
         tessera["parameters"] == mine["parameters"]),
    ]
    for name in ("persistence_mae", "historical_average_mae"):
        a, b = np.asarray(tessera[name]), np.asarray(mine[name])
        # Both sum in double over the same entries, in different orders: round-off only.
        rows.append((f"{name} 15/30/60 min", np.round(a[[2, 5, 11]], 6).tolist(),
                     np.round(b[[2, 5, 11]], 6).tolist(),
                     bool(np.allclose(a, b, rtol=1e-9, atol=0))))
    print("pipeline check against Tessera:")
    for name, a, b, same in rows:
        print(f"  {name:38s} tessera {a}  torch {b}  {'same' if same else 'DIFFERS'}")
    return all(same for *_, same in rows)


# ---------------------------------------------------------------- training (training.cpp)
def evaluate(model, batches, starts, mean, std):
    return masked_metrics(forecast(model, batches, starts, mean, std), targets(batches.values, starts))


def train(model, batches, parts, mean, std, args):
    train_starts, validation_starts, _ = parts
    optimiser = torch.optim.AdamW(model.parameters(), lr=LR, betas=(0.9, 0.999), eps=1e-8,
                                  weight_decay=WEIGHT_DECAY)
    best_mae, best_epoch, since_best = math.inf, 0, 0
    best_state = copy.deepcopy(model.state_dict())
    history, steps = [], 0
    start = time.perf_counter()
    for epoch in range(args.epochs):
        epoch_start = time.perf_counter()
        # lr x gamma for every milestone reached (MultiStepLR, epochs 0-based as step_lr).
        lr = LR * GAMMA ** sum(epoch >= m for m in args.milestones)
        for group in optimiser.param_groups:
            group["lr"] = lr
        # A shuffle of its own per seed and epoch (Tessera's is std::shuffle on mt19937_64).
        order = np.random.default_rng([args.seed, epoch]).permutation(train_starts)
        abs_sum, count_sum = 0.0, 0
        model.train()
        for first in range(0, len(order), BATCH):
            inputs, slot, weekday, position, target = batches.make(order[first:first + BATCH])
            mask = target != 0
            count = int(mask.sum())
            if count == 0:
                continue  # no valid target: Tessera takes no step either
            # The loss in double, in data units, like masked_mae_loss.
            error = (model(inputs, slot, weekday, position).double() * std + mean - target)[mask]
            loss = error.abs().sum() / count
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP)
            optimiser.step()
            abs_sum += float(loss) * count
            count_sum += count
            steps += 1
        model.eval()
        validation_mae = evaluate(model, batches, validation_starts, mean, std)["mae_mean"]
        seconds = time.perf_counter() - epoch_start
        history.append({"epoch": epoch + 1, "lr": lr, "train_mae": abs_sum / count_sum,
                        "validation_mae": validation_mae, "seconds": seconds})
        print(f"epoch {epoch + 1}: train MAE {abs_sum / count_sum:.4f}, validation MAE "
              f"{validation_mae:.4f}, lr {lr:g}, {seconds:.1f} s", flush=True)
        if validation_mae < best_mae:
            best_mae, best_epoch, since_best = validation_mae, epoch + 1, 0
            best_state = copy.deepcopy(model.state_dict())
        else:
            since_best += 1
            if since_best >= args.patience:
                break
    model.load_state_dict(best_state)
    seconds = time.perf_counter() - start
    return {"history": history, "best_epoch": best_epoch, "best_validation_mae": best_mae,
            "epochs": len(history), "steps": steps, "train_seconds": seconds,
            "seconds_per_epoch": seconds / len(history), "seconds_per_step": seconds / steps}


def at_horizons(metrics):
    """The metrics at 15, 30 and 60 minutes and over all horizons."""
    out = {}
    for name in ("mae", "rmse", "mape"):
        for h in REPORT_HORIZONS:
            out[f"{name}_{h * 1440 // STEPS_PER_DAY}min"] = metrics[name][h - 1]
        out[f"{name}_mean"] = metrics[f"{name}_mean"]
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--series", default="results/corridor_week/speed.csv")
    parser.add_argument("--graph", default="results/corridor_week/sensor_distances.csv")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--patience", type=int, default=3)
    parser.add_argument("--milestones", type=float, nargs="*", default=[7])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", help="output folder (default results/twin_torch_s<seed>)")
    parser.add_argument("--tessera", help="a Tessera run folder of the same config to check the "
                                          "data pipeline against before training")
    args = parser.parse_args()
    out = args.out or f"results/twin_torch_s{args.seed}"
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)

    values = read_series(args.series)
    steps, sensors = values.shape
    parts = split_windows(steps)
    train_end = int(parts[0][-1]) + INPUT_STEPS
    mean, std = fit_zscore(values, train_end)
    weekdays_seen = len(set(calendar(steps)[1][:train_end].tolist()))
    w = read_graph(args.graph, sensors)
    lap = normalised_laplacian(w)
    lam = lambda_max(lap)
    scaled = 2 * lap / lam - np.eye(sensors)
    eig = laplacian_eigenvectors(lap, EIGENVECTORS)
    print(f"{sensors} sensors x {steps} steps, graph of {int((w != 0).sum())} directed edges, "
          f"lambda_max {lam:.6f}; windows {len(parts[0])} training, {len(parts[1])} validation, "
          f"{len(parts[2])} test; z-score mean {mean:.6g}, std {std:.6g}; "
          f"{weekdays_seen} weekdays in the training part")

    sizes = Sizes(dim=DIM, heads=HEADS, blocks=BLOCKS, ffn=FFN_HIDDEN, cheb=CHEB_ORDER,
                  head_hidden=HEAD_HIDDEN, steps=INPUT_STEPS, horizons=OUTPUT_STEPS,
                  per_day=STEPS_PER_DAY, sensors=sensors, eigenvectors=EIGENVECTORS)
    model = Sttn(sizes, torch.tensor(scaled, dtype=torch.float32),
                 torch.tensor(eig, dtype=torch.float32))
    if weekdays_seen < 7:
        model.dow = NoWeekday()  # a weekday never trained on would corrupt its forecasts
    parameters = sum(p.numel() for p in model.parameters())

    test_truth = targets(values, parts[2])
    baselines = {"persistence": masked_metrics(persistence(values, parts[2]), test_truth),
                 "historical_average": masked_metrics(
                     historical_average(values, parts[2], train_end), test_truth)}
    if args.tessera:
        mine = {"windows": tuple(len(p) for p in parts),
                "zscore": (f"{mean:.6g}", f"{std:.6g}"),
                "graph_edges": int((w != 0).sum()), "parameters": parameters,
                "persistence_mae": baselines["persistence"]["mae"],
                "historical_average_mae": baselines["historical_average"]["mae"]}
        if not check_pipeline(tessera_reference(args.tessera), mine):
            sys.exit("the data pipeline differs from Tessera's: not training")

    print(f"sttn: {parameters} parameters; up to {args.epochs} epochs of batch {BATCH}, AdamW lr "
          f"{LR:g} weight decay {WEIGHT_DECAY:g}, milestones {args.milestones}, patience "
          f"{args.patience}, seed {args.seed}", flush=True)
    batches = Batches(values, mean, std)
    training = train(model, batches, parts, mean, std, args)
    test = evaluate(model, batches, parts[2], mean, std)
    print(f"best epoch {training['best_epoch']} of {training['epochs']}; test MAE 15/30/60 min "
          f"{test['mae'][2]:.3f} / {test['mae'][5]:.3f} / {test['mae'][11]:.3f}, all horizons "
          f"{test['mae_mean']:.3f}; persistence {baselines['persistence']['mae'][11]:.3f} at 60 min; "
          f"{training['seconds_per_epoch']:.1f} s per epoch")

    os.makedirs(out, exist_ok=True)
    result = {"seed": args.seed, "series": args.series, "graph": args.graph,
              "epochs_max": args.epochs, "patience": args.patience, "milestones": args.milestones,
              "torch": torch.__version__, "threads": torch.get_num_threads(),
              "parameters": parameters,
              "windows": {"train": len(parts[0]), "validation": len(parts[1]), "test": len(parts[2])},
              "test": dict(at_horizons(test), per_horizon=test),
              "persistence": at_horizons(baselines["persistence"]),
              "historical_average": at_horizons(baselines["historical_average"]),
              **training}
    with open(os.path.join(out, "twin.json"), "w") as f:
        json.dump(result, f, indent=1)
    print("wrote", os.path.join(out, "twin.json"))


if __name__ == "__main__":
    main()
