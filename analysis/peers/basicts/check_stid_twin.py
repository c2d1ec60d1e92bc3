"""Checks that Tessera's PyTorch twin of STID (class Stid in
analysis/reference/reference_st_forecast.py, which tests/models/st_forecast checks the C++
model against) computes what BasicTS 1.1.0's own basicts.models.STID computes, on the same
weights: outputs and every parameter gradient of sum(y * dy), float64.

BasicTS takes one timestamp per window (all sensors share it), as a fraction of the day
and of the week; the twin takes a slot and a weekday per row. The check gives every
sensor of a window the same slot and weekday, and passes BasicTS (slot + 0.5) / per_day
so that its floor(fraction * per_day) gives the slot back exactly.

  analysis/peers/basicts/venv/bin/python analysis/peers/basicts/check_stid_twin.py
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "reference"))
from reference_st_forecast import Stid  # noqa: E402

from basicts.models.STID import STID, STIDConfig  # noqa: E402

SENSORS, STEPS, HORIZONS, PER_DAY, DIM, LAYERS, WINDOWS = 7, 12, 12, 288, 8, 3, 5


def main():
    torch.set_default_dtype(torch.float64)
    torch.manual_seed(11)
    twin = Stid(SENSORS, STEPS, HORIZONS, PER_DAY, DIM, LAYERS)
    with torch.no_grad():
        for p in twin.parameters():
            p.add_(0.1 * torch.randn_like(p))
    peer = STID(STIDConfig(input_len=STEPS, output_len=HORIZONS, num_features=SENSORS,
                           input_hidden_size=DIM, num_layers=LAYERS, if_spatial=True,
                           spatial_hidden_size=DIM, if_time_in_day=True, if_day_in_week=True,
                           num_time_in_day=PER_DAY, num_day_in_week=7, tid_hidden_size=DIM,
                           diw_hidden_size=DIM))
    names = {"time_series_emb_layer": "series", "spatial_emb": "node",
             "time_in_day_emb": "tod", "day_in_week_emb": "dow", "regression_layer": "head"}
    twin_params = dict(twin.named_parameters())
    pairs = []
    with torch.no_grad():
        for name, p in peer.named_parameters():
            parts = name.split(".")
            if parts[0] == "encoder":  # encoder.<l>.fc1|fc2.weight|bias
                ours = f"encoder{parts[1]}.{'0' if parts[2] == 'fc1' else '1'}.{parts[3]}"
            elif parts[0] in ("spatial_emb", "time_in_day_emb", "day_in_week_emb"):
                ours = names[parts[0]] + ".weight"
            else:
                ours = names[parts[0]] + "." + parts[1]
            p.copy_(twin_params[ours])
            pairs.append((name, ours))
    assert len(pairs) == len(twin_params), (len(pairs), len(twin_params))

    gen = np.random.default_rng(12)
    readings = torch.tensor(gen.normal(size=(WINDOWS, STEPS, SENSORS)))
    slot = gen.integers(0, PER_DAY, size=(WINDOWS, STEPS))
    weekday = gen.integers(0, 7, size=(WINDOWS, STEPS))
    dy = torch.tensor(gen.normal(size=(WINDOWS, HORIZONS, SENSORS)))

    stamps = torch.tensor(np.stack([(slot + 0.5) / PER_DAY, (weekday + 0.5) / 7], axis=-1))
    y_peer = peer(readings, stamps)  # (windows, horizons, sensors)
    (y_peer * dy).sum().backward()

    # The twin's rows: (window, sensor, step) in, (window, sensor) out.
    inputs = torch.zeros(WINDOWS * SENSORS * STEPS, 2)
    inputs[:, 0] = readings.permute(0, 2, 1).reshape(-1)
    row_slot = torch.tensor(np.repeat(slot[:, None, :], SENSORS, axis=1).reshape(-1))
    row_weekday = torch.tensor(np.repeat(weekday[:, None, :], SENSORS, axis=1).reshape(-1))
    y_twin = twin(inputs, row_slot, row_weekday).reshape(WINDOWS, SENSORS, HORIZONS)
    (y_twin * dy.permute(0, 2, 1)).sum().backward()

    worst = (y_twin.permute(0, 2, 1) - y_peer).abs().max().item()
    print(f"output: largest difference {worst:.2e} (|y| up to {y_peer.abs().max().item():.2f})")
    bad = worst > 1e-12
    for name, ours in pairs:
        g_peer = dict(peer.named_parameters())[name].grad
        diff = (twin_params[ours].grad - g_peer).abs().max().item()
        print(f"  {name:32s} = {ours:18s} gradient difference {diff:.2e}")
        bad |= diff > 1e-12
    print("FAIL" if bad else "OK: the twin is BasicTS's STID")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
