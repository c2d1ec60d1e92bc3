#!/usr/bin/env python3
"""BasicTS peer run on Tessera's METR-LA 7-day protocol.

Converts the Tessera CSV (shared/data/timeseries/METR-LA_7d_speed_los_loop.csv) into
BasicTS 1.1.0's dataset layout under work/, trains BasicTS's STID (shipped in the PyPI
package) and STGCN (BasicTS 0.4.3.2's architecture, vendored in basicts_stgcn/, since
1.1.0 no longer ships it) with the BasicTS runner, and writes a JSON of test metrics.
BasicTS has no STTN.

  venv/bin/python run_peer.py --models stid,stgcn --epochs 20 --out results.json

Protocol (Tessera's, docs/st_forecast.md):
  - windows of 12 inputs + 12 targets, stride 1, over the whole series (1,993 windows),
    split by counts: test = round(0.2 n), train = round(0.7 n), validation = the rest
    -> 1,395 / 199 / 399. BasicTS 1.1.0 reads one series file per part and windows
    each with stride 1, so each part's file holds exactly the rows its windows read
    (train rows [0, 1418), validation [1395, 1617), test [1594, 2016)); the script
    checks that BasicTS's datasets have 1,395 / 199 / 399 windows and that the test
    windows are Tessera's by re-scoring persistence.
  - one z-score (mean, population std of the non-zero readings of steps [0, 1406), the
    steps the training windows read as inputs), applied to all sensors; metrics in mph
    (rescale=True), masked MAE/RMSE/MAPE with null value 0.
  - time of day (slot/288) and day of week (weekday/7, Monday = 0, 2012-03-01 is a
    Thursday) as BasicTS timestamps; STID uses both, STGCN neither (as in BasicTS).
"""

import argparse
import glob
import json
import math
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))  # /work/main
DATA_DIR = os.path.abspath(os.path.join(ROOT, "..", "shared", "data", "timeseries"))
SERIES_CSV = os.path.join(DATA_DIR, "METR-LA_7d_speed_los_loop.csv")
ADJ_CSV = os.path.join(DATA_DIR, "METR-LA_adj_symmetric_los_loop.csv")

IN, OUT = 12, 12
STEPS_PER_DAY = 288
FIRST_WEEKDAY = 3  # 2012-03-01, Thursday (Monday = 0)
HORIZONS = [3, 6, 12]
TESSERA = {  # docs/st_forecast.md, seed 1, 10 epochs, same test windows (MAE, mph)
    "persistence": {"mae_15": 3.550, "mae_30": 4.351, "mae_60": 5.731, "mae_mean": 4.388},
    "stgcn": {"mae_15": 3.168, "mae_30": 3.895, "mae_60": 5.101, "mae_mean": 3.930},
    "sttn": {"mae_15": 3.152, "mae_30": 3.756, "mae_60": 4.648, "mae_mean": 3.750},
}


def cround(x):
    """std::round (half away from zero), as Tessera's split uses."""
    return int(math.floor(x + 0.5))


def load_series():
    values = np.loadtxt(SERIES_CSV, delimiter=",", skiprows=1, dtype=np.float64)
    adj = np.loadtxt(ADJ_CSV, delimiter=",", dtype=np.float64)
    assert values.shape == (2016, 207), values.shape
    assert adj.shape == (207, 207), adj.shape
    return values, adj


def split_windows(steps):
    n = steps - IN - OUT + 1
    n_test = cround(0.2 * n)
    n_train = cround(0.7 * n)
    n_val = n - n_train - n_test
    starts = np.arange(n)
    return starts[:n_train], starts[n_train:n_train + n_val], starts[n_train + n_val:]


def masked_metrics(pred, true):
    mask = true != 0
    err = (pred - true)[mask]
    return {
        "mae": float(np.mean(np.abs(err))),
        "rmse": float(np.sqrt(np.mean(err ** 2))),
        "mape": float(np.mean(np.abs(err) / np.abs(true[mask]))),
    }


def prepare(work):
    """Write BasicTS 1.1.0's dataset files; return split facts."""
    values, adj = load_series()
    T = values.shape[0]
    train, val, test = split_windows(T)
    t = np.arange(T)
    tod = ((t % STEPS_PER_DAY) / STEPS_PER_DAY).astype(np.float32)
    dow = (((FIRST_WEEKDAY + t // STEPS_PER_DAY) % 7) / 7.0).astype(np.float32)
    stamps = np.stack([tod, dow], axis=-1)
    ds = os.path.join(work, "datasets", "METR-LA-7d")
    os.makedirs(ds, exist_ok=True)
    parts = {}
    for mode, starts in (("train", train), ("val", val), ("test", test)):
        lo, hi = int(starts[0]), int(starts[-1]) + IN + OUT
        np.save(os.path.join(ds, f"{mode}_data.npy"), values[lo:hi].astype(np.float32))
        np.save(os.path.join(ds, f"{mode}_timestamps.npy"), stamps[lo:hi])
        parts[mode] = {"windows": len(starts), "first_window_start": lo, "rows": [lo, hi]}
    train_end_step = int(train[-1]) + IN
    tr = values[:train_end_step]
    tr = tr[tr != 0]
    mean, std = float(tr.mean()), float(tr.std())  # population std, as Tessera
    # persistence on the test windows: last input repeated; must equal Tessera's table
    X = np.stack([values[s:s + IN] for s in test])
    Y = np.stack([values[s + IN:s + IN + OUT] for s in test])
    pers = {h: masked_metrics(np.repeat(X[:, -1:], 1, axis=1)[:, 0], Y[:, h - 1])["mae"] for h in HORIZONS}
    pers["mean"] = masked_metrics(np.repeat(X[:, -1:], OUT, axis=1), Y)["mae"]
    return {"dataset_dir": ds, "parts": parts, "train_end_step": train_end_step,
            "zscore": {"mean": mean, "std": std}, "adj": adj, "persistence_mae": pers,
            "test_targets": Y}


def normlap(adj):
    """BasicTS load_adj(..., 'normlap'): L = I - D^-1/2 A D^-1/2 (A as given, with its
    unit diagonal, as DCRNN's adj_mx.pkl that BasicTS loads has)."""
    d = adj.sum(1)
    dinv = np.where(d > 0, d ** -0.5, 0.0)
    return np.eye(adj.shape[0]) - (dinv[:, None] * adj * dinv[None, :])


def run_model(name, facts, args, work):
    import torch
    from torch.optim import Adam
    from torch.optim.lr_scheduler import MultiStepLR
    from basicts import BasicTSLauncher
    from basicts.configs import BasicTSForecastingConfig
    from basicts.runners.callback import BasicTSCallback, GradientClipping
    from basicts.scaler import ZScoreScaler

    torch.set_num_threads(1)
    zs = facts["zscore"]

    class TesseraZScore(ZScoreScaler):
        """One z-score from the steps the training windows read (Tessera's)."""

        def __init__(self, norm_each_channel: bool, rescale: bool):
            super().__init__(False, rescale, {"mean": torch.tensor(zs["mean"]),
                                              "std": torch.tensor(zs["std"])})

    class EpochTimer(BasicTSCallback):
        def __init__(self):
            self.times, self._t, self.val_mae = [], None, []

        def on_epoch_start(self, runner, *a, **k):
            self._t = time.perf_counter()

        def on_epoch_end(self, runner, *a, **k):  # fired before validation
            self.times.append(time.perf_counter() - self._t)

        def on_validate_end(self, runner, *a, **k):  # meters not yet reset
            self.val_mae.append(float(runner.meter_pool.get_value("val/MAE")))

    timer = EpochTimer()
    callbacks = [timer]
    if name == "stid":
        from basicts.models.STID import STID, STIDConfig
        model_cls = STID
        # BasicTS baselines/STID/METR-LA.py (0.4.3.2) hyper-parameters, mapped to 1.1.0
        model_config = STIDConfig(
            input_len=IN, output_len=OUT, num_features=207, input_hidden_size=32,
            num_layers=3, if_spatial=True, spatial_hidden_size=32,
            if_time_in_day=True, if_day_in_week=True, num_time_in_day=STEPS_PER_DAY,
            num_day_in_week=7, tid_hidden_size=32, diw_hidden_size=32)
        optim_params = {"lr": 0.002, "weight_decay": 0.0001}
        milestones = [1, 50, 80]
        batch = 64
        callbacks.append(GradientClipping(max_norm=5.0))
    elif name == "stgcn":
        sys.path.insert(0, HERE)
        from basicts_stgcn.wrapper import STGCN, STGCNConfig
        model_cls = STGCN
        model_config = STGCNConfig(gso=normlap(facts["adj"]).astype(np.float32).tolist())
        # BasicTS baselines/STGCN/METR-LA.py: Adam 4e-4, wd 3e-4, MultiStepLR [1, 50] x0.5,
        # batch 16
        optim_params = {"lr": 0.0004, "weight_decay": 0.0003}
        milestones = [1, 50]
        batch = args.stgcn_batch
    else:
        raise ValueError(name)

    ckpt_dir = os.path.join(work, "checkpoints", name)
    cfg = BasicTSForecastingConfig(
        model=model_cls,
        model_config=model_config,
        dataset_name="METR-LA-7d",
        dataset_params={"input_len": IN, "output_len": OUT, "use_timestamps": True,
                        "memmap": False, "data_file_path": facts["dataset_dir"]},
        scaler=TesseraZScore,
        norm_each_channel=False,
        rescale=True,
        null_val=0.0,
        metrics=["MAE", "RMSE", "MAPE"],
        target_metric="MAE",
        num_epochs=args.epochs,
        loss="MAE",
        optimizer=Adam,
        optimizer_params=optim_params,
        lr_scheduler=MultiStepLR,
        lr_scheduler_params={"milestones": milestones, "gamma": 0.5},
        # test batch 57 divides the 399 test windows: BasicTS 1.1.0's _save_results writes
        # a partial last batch at batch_idx * len(batch) (windows 90..104 here) instead
        # of at the end; its on-the-fly metrics are unaffected by the batch size.
        train_batch_size=batch, val_batch_size=64, test_batch_size=57,
        val_interval=1,
        test_interval=10 ** 9,  # test once, on the best-validation checkpoint, after training
        eval_horizons=HORIZONS,
        eval_after_train=True,
        save_results=True,
        seed=args.seed,
        deterministic=True,
        ckpt_save_dir=ckpt_dir,
        callbacks=callbacks,
        gpus=None,
    )
    t0 = time.perf_counter()
    BasicTSLauncher.launch_training(cfg)
    wall = time.perf_counter() - t0

    metrics_files = glob.glob(os.path.join(ckpt_dir, "**", "test_metrics.json"), recursive=True)
    metrics_files.sort(key=os.path.getmtime)
    with open(metrics_files[-1]) as f:
        bts = json.load(f)
    # recompute from BasicTS's saved test predictions (mph) as a check
    pred_files = glob.glob(os.path.join(ckpt_dir, "**", "test_results", "prediction.npy"), recursive=True)
    pred_files.sort(key=os.path.getmtime)
    # BasicTS 1.1.0 writes these as raw float32 np.memmap files despite the .npy name
    pred = np.fromfile(pred_files[-1], dtype=np.float32).reshape(399, OUT, 207)
    targ = np.fromfile(os.path.join(os.path.dirname(pred_files[-1]), "targets.npy"),
                       dtype=np.float32).reshape(399, OUT, 207)
    assert pred.shape == (399, OUT, 207), pred.shape
    assert np.allclose(targ, facts["test_targets"], atol=1e-3), "test targets differ from Tessera's windows"
    ours = {f"h{h}": masked_metrics(pred[:, h - 1], targ[:, h - 1]) for h in HORIZONS}
    ours["mean"] = masked_metrics(pred, targ)

    n_params = None
    ckpts = glob.glob(os.path.join(ckpt_dir, "**", "*best_val*.pt"), recursive=True)
    if ckpts:
        sd = torch.load(ckpts[0], map_location="cpu")["model_state_dict"]
        n_params = int(sum(v.numel() for v in sd.values()))

    res = {
        "model": name,
        "source": ("basicts 1.1.0 (PyPI) basicts.models.STID" if name == "stid" else
                   "BasicTS 0.4.3.2 baselines/STGCN/arch (commit 0b726b5, vendored) in the basicts 1.1.0 runner"),
        "epochs": args.epochs,
        "train_batch_size": batch,
        "optimizer": {"type": "Adam", **optim_params},
        "lr_scheduler": {"type": "MultiStepLR", "milestones": milestones, "gamma": 0.5},
        "seed": args.seed,
        "parameters": n_params,
        "seconds_per_epoch_train": float(np.mean(timer.times)) if timer.times else None,
        "seconds_per_epoch_each": [round(x, 2) for x in timer.times],
        "wall_seconds_total": wall,
        "val_mae_each_epoch": [round(x, 4) for x in timer.val_mae],
        "best_val_epoch": int(np.argmin(timer.val_mae)) + 1 if timer.val_mae else None,
        "test": {
            "mae_15": ours["h3"]["mae"], "mae_30": ours["h6"]["mae"], "mae_60": ours["h12"]["mae"],
            "mae_mean": ours["mean"]["mae"],
            "rmse_15": ours["h3"]["rmse"], "rmse_30": ours["h6"]["rmse"], "rmse_60": ours["h12"]["rmse"],
            "rmse_mean": ours["mean"]["rmse"],
            "mape_15": ours["h3"]["mape"], "mape_30": ours["h6"]["mape"], "mape_60": ours["h12"]["mape"],
            "mape_mean": ours["mean"]["mape"],
        },
        "basicts_test_metrics_json": bts,
    }
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="stid,stgcn")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--stgcn-batch", type=int, default=16)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--work", default=os.path.join(HERE, "work"))
    ap.add_argument("--out", default=os.path.join(HERE, "work", "results.json"))
    ap.add_argument("--prepare-only", action="store_true")
    args = ap.parse_args()

    facts = prepare(args.work)
    p = facts["parts"]
    print("windows train/val/test:", p["train"]["windows"], p["val"]["windows"], p["test"]["windows"])
    print("z-score (steps [0, %d)):" % facts["train_end_step"], facts["zscore"])
    print("persistence MAE h3/h6/h12/mean:", {k: round(v, 3) for k, v in facts["persistence_mae"].items()})
    assert (p["train"]["windows"], p["val"]["windows"], p["test"]["windows"]) == (1395, 199, 399)
    assert abs(facts["persistence_mae"][3] - 3.550) < 6e-4 and abs(facts["persistence_mae"][12] - 5.731) < 6e-4

    from basicts.data import BasicTSForecastingDataset
    for mode, n in (("train", 1395), ("val", 199), ("test", 399)):
        d = BasicTSForecastingDataset("METR-LA-7d", IN, OUT, mode, use_timestamps=True,
                                      data_file_path=facts["dataset_dir"])
        assert len(d) == n, (mode, len(d))
    if args.prepare_only:
        return

    import importlib.metadata as md
    import platform
    import torch
    versions = {k: md.version(k) for k in ("basicts", "easy-torch", "torch", "numpy")}
    versions["python"] = platform.python_version()

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    out = {}
    if os.path.exists(args.out):
        with open(args.out) as f:
            out = json.load(f)
    out.update({
        "what": "BasicTS peer run on Tessera's METR-LA 7-day protocol (analysis/peers/basicts)",
        "data": "shared/data/timeseries/METR-LA_7d_speed_los_loop.csv (2016 x 207), "
                "METR-LA_adj_symmetric_los_loop.csv",
        "protocol": {"input_steps": IN, "output_steps": OUT, "stride": 1,
                     "windows": {k: v["windows"] for k, v in p.items()},
                     "basicts_part_rows": {k: v["rows"] for k, v in p.items()},
                     "zscore": facts["zscore"], "zscore_steps": [0, facts["train_end_step"]],
                     "metrics": "masked (null 0) MAE/RMSE/MAPE in mph on the 399 test windows; "
                                "15/30/60 min = horizons 3/6/12; mean over all 12 horizons",
                     "cpu_threads": torch.get_num_threads()},
        "persistence_check_mae": {"15": facts["persistence_mae"][3], "30": facts["persistence_mae"][6],
                                  "60": facts["persistence_mae"][12], "mean": facts["persistence_mae"]["mean"]},
        "versions": versions,
        "tessera_reference": TESSERA,
    })
    out.setdefault("models", {})
    for name in args.models.split(","):
        res = run_model(name, facts, args, args.work)
        res["versions"] = versions
        out["models"][name] = res
        with open(args.out, "w") as f:
            json.dump(out, f, indent=2)
        t = res["test"]
        print(f"{name}: MAE 15/30/60/mean {t['mae_15']:.3f} / {t['mae_30']:.3f} / {t['mae_60']:.3f} / "
              f"{t['mae_mean']:.3f}; {res['seconds_per_epoch_train']:.1f} s/epoch; {res['parameters']} params")


if __name__ == "__main__":
    main()
