#!/usr/bin/python3
"""Plots of a road-network simulation (experiment kind lwr_network).

Usage: /usr/bin/python3 analysis/plot_lwr_network.py RUN_DIR_OR_H5 [--out DIR] [--days N]
Writes next to run.h5 (or into --out):
  lwr_network_speed.png   speed of every detector (rows, in file order) over the first N
                          days (default 2), missing readings in grey
  lwr_network_daily.png   mean speed over the detectors against the time of day, weekdays
                          and weekends apart, with the 10-90 % band over days
  lwr_network_map.png     the detectors at their positions, coloured by the mean speed of
                          the weekday evening peak (17:00-18:00), incidents as crosses
  lwr_network_table.md    detectors, days, readings missing, share below 60 km/h (all,
                          weekday peaks), mean speed weekdays / weekends, incidents
and prints the table.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tessera_results import find_run_file  # noqa: E402

import h5py  # noqa: E402
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def read(path):
    with h5py.File(path, "r") as f:
        if "detectors" not in f or "speed" not in f["detectors"] or "x" not in f["detectors"]:
            sys.exit(f"{path}: no /detectors/speed and /detectors/x (not an lwr_network run?)")
        run = {
            "speed": np.asarray(f["detectors/speed"]),  # time x detector, 0 = missing
            "time": np.asarray(f["detectors/time"]),
            "x": np.asarray(f["detectors/x"]) / 1000.0,
            "y": np.asarray(f["detectors/y"]) / 1000.0,
            "incidents": np.asarray(f["incidents"]) if "incidents" in f else np.zeros((0, 5)),
        }
        text = f["config"][()] if "config" in f and isinstance(f["config"], h5py.Dataset) else b""
    run["first_weekday"] = 0
    config = text.decode() if isinstance(text, bytes) else str(text)
    for line in config.splitlines():
        if line.strip().startswith("first_weekday"):
            run["first_weekday"] = int(line.split("=")[1].split("#")[0])
    return run


def calendar(run):
    end = run["time"]
    interval = end[0] if len(end) else 300.0
    start = end - interval
    day = (start // 86400).astype(int)
    hour = (start % 86400) / 3600.0
    weekday = (day + run["first_weekday"]) % 7
    return day, hour, weekday >= 5, interval


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run")
    parser.add_argument("--out")
    parser.add_argument("--days", type=int, default=2)
    args = parser.parse_args()
    path = find_run_file(args.run)
    out = args.out or os.path.dirname(os.path.abspath(path))
    os.makedirs(out, exist_ok=True)
    run = read(path)
    speed = run["speed"]
    day, hour, weekend, interval = calendar(run)
    valid = speed > 0
    days = int(day.max()) + 1 if len(day) else 0

    shown = day < args.days
    fig, ax = plt.subplots(figsize=(10, 4.5))
    masked = np.ma.masked_where(~valid[shown], speed[shown])
    cmap = plt.get_cmap("RdYlGn").copy()
    cmap.set_bad("0.6")
    image = ax.imshow(masked.T, aspect="auto", cmap=cmap, vmin=0, vmax=110, interpolation="nearest",
                      extent=[0, shown.sum() * interval / 3600.0, speed.shape[1], 0])
    ax.set_xlabel("hours from the start")
    ax.set_ylabel("detector")
    ax.set_title(f"Detector speeds, first {min(args.days, days)} day(s) (grey: missing)")
    fig.colorbar(image, ax=ax, label="km/h")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "lwr_network_speed.png"), dpi=120)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 4))
    slots = np.round(hour * 3600.0 / interval).astype(int)
    per_slot = int(round(86400.0 / interval))
    for is_weekend, colour, label in ((False, "C0", "weekdays"), (True, "C1", "weekends")):
        rows = weekend == is_weekend
        if not rows.any():
            continue
        daily = np.full((days, per_slot), np.nan)
        for d in np.unique(day[rows]):
            pick = rows & (day == d)
            s = np.where(valid[pick], speed[pick], np.nan)
            daily[d, slots[pick]] = np.nanmean(s, axis=1)
        daily = daily[~np.all(np.isnan(daily), axis=1)]
        hours = (np.arange(per_slot) + 0.5) * interval / 3600.0
        ax.plot(hours, np.nanmean(daily, axis=0), color=colour, label=f"{label} ({len(daily)} days)")
        ax.fill_between(hours, np.nanpercentile(daily, 10, axis=0), np.nanpercentile(daily, 90, axis=0),
                        color=colour, alpha=0.2)
    ax.set_xlabel("time of day (h)")
    ax.set_ylabel("mean speed over detectors (km/h)")
    ax.set_xlim(0, 24)
    ax.legend()
    ax.set_title("Daily pattern (band: 10-90 % over days)")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "lwr_network_daily.png"), dpi=120)
    plt.close(fig)

    peak = (~weekend) & (hour >= 17) & (hour < 18)
    evening = np.where(valid[peak], speed[peak], np.nan)
    mean_evening = np.nanmean(evening, axis=0) if peak.any() else np.nanmean(
        np.where(valid, speed, np.nan), axis=0)
    fig, ax = plt.subplots(figsize=(6.5, 6))
    points = ax.scatter(run["x"], run["y"], c=mean_evening, cmap="RdYlGn", vmin=0, vmax=110, s=14)
    fig.colorbar(points, ax=ax, label="mean speed, weekdays 17-18 h (km/h)")
    ax.set_xlabel("x (km)")
    ax.set_ylabel("y (km)")
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_title(f"{speed.shape[1]} detectors, {len(run['incidents'])} incidents in {days} days")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "lwr_network_map.png"), dpi=120)
    plt.close(fig)

    peaks = (~weekend) & (((hour >= 7) & (hour < 9)) | ((hour >= 16.5) & (hour < 18.5)))

    def share_below(rows):
        v = valid[rows]
        return 100.0 * np.sum((speed[rows] < 60) & v) / max(1, np.sum(v))

    def mean_speed(rows):
        v = valid[rows]
        return float(np.sum(speed[rows][v]) / max(1, np.sum(v)))

    table = [
        "| quantity | value |",
        "|---|---|",
        f"| detectors | {speed.shape[1]} |",
        f"| days | {days} |",
        f"| readings (5-min) | {speed.size} |",
        f"| missing (0) | {100.0 * (1 - valid.mean()):.2f} % |",
        f"| below 60 km/h, all readings | {share_below(np.ones_like(weekend)):.2f} % |",
        f"| below 60 km/h, weekday peaks (7-9, 16:30-18:30) | {share_below(peaks):.2f} % |",
        f"| mean speed, weekdays / weekends | {mean_speed(~weekend):.1f} / {mean_speed(weekend):.1f} km/h |",
        f"| incidents | {len(run['incidents'])} |",
    ]
    text = "\n".join(table) + "\n"
    with open(os.path.join(out, "lwr_network_table.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
