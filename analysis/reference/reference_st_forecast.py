#!/usr/bin/python3
"""Reference values for the forecasting family (tests/reference/st_forecast.h5).

/protocol: a small synthetic sensor series (4 sensors, 80 steps, 24 steps a day, some
readings 0 = missing) and, computed here with numpy on their own: the window starts of
the training, validation and test parts (DCRNN's generator: every window of 5 + 3 steps,
test = round(0.2 n), train = round(0.7 n), validation the rest), the z-score of the
training part's non-missing readings, the persistence, historical-average (time of day)
and previous-day forecasts of the test windows, and the masked MAE / RMSE / MAPE of the
historical average per horizon and overall.

/graph: a 6-sensor weight matrix, its scaled Laplacian 2 L / lambda_max - I of
L = I - D^-1/2 W D^-1/2 (numpy eigvalsh for lambda_max) and the 3 eigenvectors after the
first, each with its largest entry positive (numpy eigh).

/sttn: plain PyTorch of models/st_forecast/sttn.hpp on that graph (float32): input
embeddings (Linear of reading and time of day, tod/dow/pos tables, Linear of the
eigenvectors plus a node table), 2 blocks of [LayerNorm, spatial pre-norm transformer
block over sensors, Chebyshev convolution K = 3 of the normed input, gated fusion,
residual; temporal pre-norm transformer block over steps], head Linear-ReLU-Linear on
each sensor's steps side by side. Stored: the batch, every weight (named like the C++
slices), dy, y and every parameter gradient of L = sum(y * dy).

/stgcn: plain PyTorch of models/st_forecast/stgcn.hpp on the same graph: one ST-Conv
block (temporal convolution kt = 3 with GLU, Chebyshev convolution K = 3 + ReLU, temporal
convolution with ReLU, LayerNorm over the channels) on 8 steps of the readings, MLP head;
the batch, weights, dy, y and every parameter gradient as for /sttn.

/stid: plain PyTorch of models/st_forecast/stid.hpp, written after BasicTS 1.1.0's
basicts.models.STID (Linear of each sensor's readings, sensor / time-of-day / weekday
tables indexed by the last input step, residual ReLU MLP layers, Linear head; no dropout);
analysis/peers/basicts/check_stid_twin.py runs BasicTS's own STID on these weights and
compares. The batch (readings, slots, weekdays), weights, dy, y and gradients as above.

Run with Debian's python (torch 1.13): /usr/bin/python3 analysis/reference/reference_st_forecast.py
"""
import math
import os

import numpy as np
import torch
from torch import nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "reference",
                   "st_forecast.h5")

# ---------------------------------------------------------------- protocol
STEPS, SENSORS, PER_DAY, FIRST_SLOT, FIRST_WEEKDAY = 80, 4, 24, 3, 2
IN, OUTS = 5, 3


def synthetic_series():
    t = np.arange(STEPS)[:, None]
    n = np.arange(SENSORS)[None, :]
    v = 50 + 10 * np.sin(2 * np.pi * (t + 2 * n) / PER_DAY) + 0.5 * n + 0.3 * np.cos(1.7 * t * (n + 1))
    v[5, 1] = 0
    v[17, 0] = 0
    v[60, 2] = 0  # a missing target in the test part
    v[70, 3] = 0
    return v


def protocol(f):
    v = synthetic_series()
    starts = np.arange(STEPS - IN - OUTS + 1)
    n = len(starts)
    test, train = round(0.2 * n), round(0.7 * n)
    parts = {"train": starts[:train], "validation": starts[train:n - test], "test": starts[n - test:]}
    train_end = parts["train"][-1] + IN
    seen = v[:train_end]
    seen = seen[seen != 0]
    mean, std = seen.mean(), seen.std()
    slot = (FIRST_SLOT + np.arange(STEPS)) % PER_DAY
    ha = np.zeros((PER_DAY, SENSORS))
    for s in range(PER_DAY):
        for k in range(SENSORS):
            values = v[:train_end, k][(slot[:train_end] == s) & (v[:train_end, k] != 0)]
            sensor = v[:train_end, k][v[:train_end, k] != 0]
            ha[s, k] = values.mean() if len(values) else sensor.mean()
    test_starts = parts["test"]
    truth = np.zeros((len(test_starts), SENSORS, OUTS))
    persistence, average, previous = (np.zeros_like(truth) for _ in range(3))
    for w, s0 in enumerate(test_starts):
        for k in range(SENSORS):
            window = v[s0:s0 + IN, k]
            nonzero = window[window != 0]
            for h in range(OUTS):
                t = s0 + IN + h
                truth[w, k, h] = v[t, k]
                persistence[w, k, h] = nonzero[-1] if len(nonzero) else 0
                average[w, k, h] = ha[slot[t], k]
                day_before = v[t - PER_DAY, k] if t >= PER_DAY else 0
                previous[w, k, h] = day_before if day_before != 0 else ha[slot[t], k]
    mask = truth != 0
    err = np.abs(average - truth)
    g = f.create_group("protocol")
    g.create_dataset("series", data=v)
    for name, part in parts.items():
        g.create_dataset(name, data=part.astype(np.float64))
    g.attrs.update(dict(steps_per_day=PER_DAY, first_slot=FIRST_SLOT, first_weekday=FIRST_WEEKDAY,
                        input_steps=IN, output_steps=OUTS, train_end=train_end, mean=mean, std=std))
    g.create_dataset("truth", data=truth)
    g.create_dataset("persistence", data=persistence)
    g.create_dataset("historical_average", data=average)
    g.create_dataset("previous_day", data=previous)
    g.create_dataset("mae", data=np.array([err[..., h][mask[..., h]].mean() for h in range(OUTS)]))
    g.create_dataset("rmse", data=np.array([np.sqrt((err[..., h][mask[..., h]] ** 2).mean())
                                            for h in range(OUTS)]))
    g.create_dataset("mape", data=np.array([100 * (err[..., h][mask[..., h]] / truth[..., h][mask[..., h]]).mean()
                                            for h in range(OUTS)]))
    g.attrs.update(dict(mae_mean=err[mask].mean(), rmse_mean=np.sqrt((err[mask] ** 2).mean()),
                        mape_mean=100 * (err[mask] / truth[mask]).mean()))


# ---------------------------------------------------------------- graph
NODES, EIGS = 6, 3


def graph_weights():
    w = np.zeros((NODES, NODES))
    for i in range(NODES):
        j = (i + 1) % NODES
        w[i, j] = w[j, i] = 1.0 + 0.1 * i
    w[0, 3] = w[3, 0] = 0.5
    w[1, 4] = 0.7  # one direction only: symmetrised by max(W, W^T)
    return w


def graph(f):
    w = graph_weights()
    w = np.maximum(w, w.T)
    np.fill_diagonal(w, 0)
    degree = w.sum(1)
    scale = np.where(degree > 0, 1 / np.sqrt(np.where(degree > 0, degree, 1)), 0)
    lap = np.eye(NODES) - scale[:, None] * w * scale[None, :]
    lam = np.linalg.eigvalsh(lap)[-1]
    scaled = 2 * lap / lam - np.eye(NODES)
    values, vectors = np.linalg.eigh(lap)
    eig = vectors[:, 1:EIGS + 1].copy()
    for k in range(EIGS):
        largest = np.argmax(np.abs(eig[:, k]))
        if eig[largest, k] < 0:
            eig[:, k] *= -1
    g = f.create_group("graph")
    g.create_dataset("weights", data=graph_weights())
    g.create_dataset("scaled_laplacian", data=scaled)
    g.create_dataset("eigenvectors", data=eig)
    g.attrs["lambda_max"] = lam
    return scaled, eig


# ---------------------------------------------------------------- STTN
class Sizes:
    """The STTN's sizes (SttnOptions in models/st_forecast/sttn.hpp)."""

    def __init__(self, dim=8, heads=2, blocks=2, ffn=12, cheb=3, head_hidden=10, steps=4, horizons=3,
                 per_day=24, sensors=NODES, eigenvectors=EIGS):
        self.dim, self.heads, self.blocks, self.ffn, self.cheb = dim, heads, blocks, ffn, cheb
        self.head_hidden, self.steps, self.horizons, self.per_day = head_hidden, steps, horizons, per_day
        self.sensors, self.eigenvectors = sensors, eigenvectors


class Mha(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.wq, self.wk, self.wv, self.wo = (nn.Linear(c.dim, c.dim) for _ in range(4))

    def forward(self, x):  # (B, L, d)
        b, length, d = x.shape
        dh = d // self.c.heads

        def heads(t):
            return t.view(b, length, self.c.heads, dh).transpose(1, 2)

        q, k, v = heads(self.wq(x)), heads(self.wk(x)), heads(self.wv(x))
        p = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(dh), dim=-1)
        return self.wo((p @ v).transpose(1, 2).reshape(b, length, d))


class TransformerBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.ln1, self.attn, self.ln2 = nn.LayerNorm(c.dim), Mha(c), nn.LayerNorm(c.dim)
        self.mlp = nn.ModuleDict({"0": nn.Linear(c.dim, c.ffn), "1": nn.Linear(c.ffn, c.dim)})

    def forward(self, x):
        h = x + self.attn(self.ln1(x))
        return h + self.mlp["1"](nn.functional.gelu(self.mlp["0"](self.ln2(h))))


class Cheb(nn.Module):
    """Chebyshev convolution of `order` terms with the scaled Laplacian `lap` (dense, N x N)."""

    def __init__(self, order, channels_in, channels_out, lap):
        super().__init__()
        self.order = order
        self.linear = nn.Linear(order * channels_in, channels_out)
        self.lap = lap

    def forward(self, x):  # (G, N, d)
        terms = [x, self.lap @ x]
        for _ in range(2, self.order):
            terms.append(2 * self.lap @ terms[-1] - terms[-2])
        return self.linear(torch.cat(terms[:self.order], dim=-1))


class Fusion(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.a, self.b = nn.Linear(c.dim, c.dim), nn.Linear(c.dim, c.dim, bias=False)

    def forward(self, u, g):
        gate = torch.sigmoid(self.a(u) + self.b(g))
        return gate * u + (1 - gate) * g


class Block(nn.Module):
    def __init__(self, c, lap):
        super().__init__()
        self.norm, self.spatial = nn.LayerNorm(c.dim), TransformerBlock(c)
        self.cheb = Cheb(c.cheb, c.dim, c.dim, lap)
        self.fusion, self.temporal = Fusion(c), TransformerBlock(c)


class Sttn(nn.Module):
    def __init__(self, c, lap, eig):
        super().__init__()
        self.c = c
        self.input = nn.Linear(2, c.dim)
        self.tod, self.dow, self.pos = nn.Embedding(c.per_day, c.dim), nn.Embedding(7, c.dim), nn.Embedding(c.steps, c.dim)
        self.eig, self.node = nn.Linear(c.eigenvectors, c.dim), nn.Embedding(c.sensors, c.dim)
        self.eigvecs = eig
        for l in range(c.blocks):
            setattr(self, f"block{l}", Block(c, lap))
        self.head = nn.ModuleDict({"0": nn.Linear(c.steps * c.dim, c.head_hidden),
                                   "1": nn.Linear(c.head_hidden, c.horizons)})

    def forward(self, inputs, slot, weekday, position):
        c = self.c
        n, t, d = c.sensors, c.steps, c.dim
        w = inputs.shape[0] // (n * t)
        x = self.input(inputs) + self.tod(slot) + self.dow(weekday) + self.pos(position)
        x = x.view(w, n, t, d) + (self.eig(self.eigvecs) + self.node.weight)[None, :, None, :]
        for l in range(c.blocks):
            b = getattr(self, f"block{l}")
            xs = x.permute(0, 2, 1, 3)  # (W, T, N, d)
            h = b.norm(xs).reshape(w * t, n, d)
            u = b.spatial(h)
            g = b.cheb(h)
            xs = xs + b.fusion(u, g).view(w, t, n, d)
            x = b.temporal(xs.permute(0, 2, 1, 3).reshape(w * n, t, d)).view(w, n, t, d)
        y = self.head["0"](x.reshape(w * n, t * d))
        return self.head["1"](torch.relu(y))


class TemporalConv(nn.Module):
    """STGCN's temporal convolution (models/st_forecast/temporal_conv.hpp) on (S, T, C)."""

    def __init__(self, channels_in, channels_out, kt, glu):
        super().__init__()
        self.kt, self.cin, self.cout, self.glu = kt, channels_in, channels_out, glu
        self.linear = nn.Linear(kt * channels_in, (2 if glu else 1) * channels_out)

    def forward(self, x):
        steps = x.shape[1] - self.kt + 1
        z = self.linear(torch.cat([x[:, j:j + steps, :] for j in range(self.kt)], dim=-1))
        residual = nn.functional.pad(x[:, self.kt - 1:, :], (0, self.cout - self.cin))
        if self.glu:
            return (z[..., :self.cout] + residual) * torch.sigmoid(z[..., self.cout:])
        return torch.relu(z + residual)


class StgcnBlock(nn.Module):
    def __init__(self, cin, channels, spatial, kt, order, lap):
        super().__init__()
        self.t1 = TemporalConv(cin, channels, kt, True)
        self.cheb = Cheb(order, channels, spatial, lap)
        self.t2 = TemporalConv(spatial, channels, kt, False)
        self.norm = nn.LayerNorm(channels)


class Stgcn(nn.Module):
    """models/st_forecast/stgcn.hpp: readings only, ST-Conv blocks, MLP head."""

    def __init__(self, sensors, steps, horizons, blocks, kt, order, channels, spatial, head_hidden, lap):
        super().__init__()
        self.sensors, self.steps, self.kt, self.blocks = sensors, steps, kt, blocks
        for l in range(blocks):
            setattr(self, f"block{l}", StgcnBlock(1 if l == 0 else channels, channels, spatial, kt, order, lap))
        self.out_steps = steps - blocks * 2 * (kt - 1)
        self.head = nn.ModuleDict({"0": nn.Linear(self.out_steps * channels, head_hidden),
                                   "1": nn.Linear(head_hidden, horizons)})

    def forward(self, inputs):
        n = self.sensors
        w = inputs.shape[0] // (n * self.steps)
        x = inputs[:, :1].reshape(w * n, self.steps, 1)
        for l in range(self.blocks):
            b = getattr(self, f"block{l}")
            a = b.t1(x)
            t = a.shape[1]
            s = torch.relu(b.cheb(a.view(w, n, t, -1).permute(0, 2, 1, 3).reshape(w * t, n, -1)))
            s = s.view(w, t, n, -1).permute(0, 2, 1, 3).reshape(w * n, t, -1)
            x = b.norm(b.t2(s))
        y = self.head["0"](x.reshape(w * n, -1))
        return self.head["1"](torch.relu(y))


WINDOWS = 3


def store_case(g, inputs, ids, y, dy, model):
    """The batch (inputs and integer ids), y, dy and every parameter and its gradient."""
    g.create_dataset("inputs", data=inputs.double().numpy())
    for name, values in ids:
        g.create_dataset(name, data=values.double().numpy())
    g.create_dataset("y", data=y.detach().double().numpy())
    g.create_dataset("dy", data=dy.double().numpy())
    for name, p in model.named_parameters():
        g.create_dataset("params/" + name, data=p.detach().double().numpy().ravel())
        g.create_dataset("grads/" + name, data=p.grad.double().numpy().ravel())


def stgcn(f, lap):
    torch.manual_seed(4)
    sizes = dict(sensors=NODES, steps=8, horizons=3, blocks=1, kt=3, order=3, channels=6, spatial=4,
                 head_hidden=7)
    model = Stgcn(lap=torch.tensor(lap, dtype=torch.float32), **sizes)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.1 * torch.randn_like(p))
    gen = np.random.default_rng(6)
    inputs = torch.tensor(gen.normal(size=(WINDOWS * NODES * sizes["steps"], 2)), dtype=torch.float32)
    y = model(inputs)
    dy = torch.tensor(gen.normal(size=tuple(y.shape)), dtype=torch.float32)
    (y * dy).sum().backward()
    g = f.create_group("stgcn")
    g.attrs.update(dict(sizes, windows=WINDOWS))
    store_case(g, inputs, (), y, dy, model)


def sttn(f, lap, eig):
    c = Sizes()
    torch.manual_seed(3)
    model = Sttn(c, torch.tensor(lap, dtype=torch.float32), torch.tensor(eig, dtype=torch.float32))
    with torch.no_grad():
        for p in model.parameters():  # away from torch's init: every path carries weight
            p.add_(0.1 * torch.randn_like(p))
    rows = WINDOWS * NODES * c.steps
    gen = np.random.default_rng(5)
    inputs = torch.tensor(gen.normal(size=(rows, 2)), dtype=torch.float32)
    slot = torch.tensor(gen.integers(0, c.per_day, rows))
    weekday = torch.tensor(gen.integers(0, 7, rows))
    position = torch.tensor(np.tile(np.arange(c.steps), WINDOWS * NODES))
    y = model(inputs, slot, weekday, position)
    dy = torch.tensor(gen.normal(size=tuple(y.shape)), dtype=torch.float32)
    (y * dy).sum().backward()
    g = f.create_group("sttn")
    g.attrs.update(dict(dim=c.dim, heads=c.heads, blocks=c.blocks, ffn_hidden=c.ffn, cheb_order=c.cheb,
                        head_hidden=c.head_hidden, input_steps=c.steps, horizons=c.horizons,
                        steps_per_day=c.per_day, eigenvectors=c.eigenvectors, sensors=c.sensors,
                        windows=WINDOWS))
    store_case(g, inputs, (("slot", slot), ("weekday", weekday), ("position", position)), y, dy, model)


# ---------------------------------------------------------------- STID
class Stid(nn.Module):
    """models/st_forecast/stid.hpp; the forward of basicts.models.STID (1.1.0) on
    Tessera's batch layout: rows (window, sensor, step) in, rows (window, sensor) out."""

    def __init__(self, sensors, steps, horizons, per_day, dim, layers):
        super().__init__()
        self.sensors, self.steps = sensors, steps
        self.series = nn.Linear(steps, dim)
        self.node = nn.Embedding(sensors, dim)
        self.tod = nn.Embedding(per_day, dim)
        self.dow = nn.Embedding(7, dim)
        hidden = 4 * dim
        for l in range(layers):
            self.add_module(f"encoder{l}", nn.ModuleDict({"0": nn.Linear(hidden, hidden),
                                                          "1": nn.Linear(hidden, hidden)}))
        self.layers = layers
        self.head = nn.Linear(hidden, horizons)

    def forward(self, inputs, slot, weekday):
        rows = inputs.shape[0] // self.steps
        readings = inputs[:, 0].reshape(rows, self.steps)
        last = torch.arange(rows) * self.steps + self.steps - 1
        node = torch.arange(rows) % self.sensors
        h = torch.cat([self.series(readings), self.node(node), self.tod(slot[last]),
                       self.dow(weekday[last])], dim=1)
        for l in range(self.layers):
            layer = getattr(self, f"encoder{l}")
            h = layer["1"](torch.relu(layer["0"](h))) + h
        return self.head(h)


def stid(f):
    torch.manual_seed(7)
    sizes = dict(sensors=NODES, steps=5, horizons=3, per_day=24, dim=4, layers=2)
    model = Stid(**sizes)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.1 * torch.randn_like(p))
    rows = WINDOWS * NODES * sizes["steps"]
    gen = np.random.default_rng(8)
    inputs = torch.tensor(gen.normal(size=(rows, 2)), dtype=torch.float32)
    slot = torch.tensor(gen.integers(0, sizes["per_day"], rows))
    weekday = torch.tensor(gen.integers(0, 7, rows))
    y = model(inputs, slot, weekday)
    dy = torch.tensor(gen.normal(size=tuple(y.shape)), dtype=torch.float32)
    (y * dy).sum().backward()
    g = f.create_group("stid")
    g.attrs.update(dict(sizes, windows=WINDOWS))
    store_case(g, inputs, (("slot", slot), ("weekday", weekday)), y, dy, model)


def main():
    import h5py  # here, so that analysis/peers/basicts/check_stid_twin.py can import Stid without it

    with h5py.File(OUT, "w") as f:
        protocol(f)
        lap, eig = graph(f)
        sttn(f, lap, eig)
        stgcn(f, lap)
        stid(f)
    print("wrote", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
