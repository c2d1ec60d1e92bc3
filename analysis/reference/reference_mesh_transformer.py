#!/usr/bin/python3
"""Reference values for the mesh transformer (tests/reference/mesh_transformer.h5).

Plain PyTorch of models/mesh_transformer/transformer.hpp (graph-physics'
EncodeTransformDecode): encoder Linear 11->d->d->d->d with ReLU between and RMSNorm,
L pre-norm blocks (RMSNorm, graph-masked multi-head attention from reference_graph.py,
RMSNorm, gated MLP W3(GELU(W1 h) * W2 h)), decoder Linear d->d->d->d->2 with ReLU
between. Attention graph: the mesh edges without self-loops (graph-physics' default).
Computed in float32 and stored as float64: the features x, every weight (named like the
C++ parameter slices), the upstream gradient dy, the output y and every parameter
gradient of L = sum(y * dy).

Run with Debian's python (torch 1.13): /usr/bin/python3 analysis/reference/reference_mesh_transformer.py
"""
import os
import sys
import warnings

import h5py
import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_graph import GraphMultiHeadAttention, csr_from_triangles, grid_triangle_mesh  # noqa: E402

NX, NY = 5, 4  # grid_triangle_mesh(5, 4): 20 nodes
INPUTS, OUTPUTS, DIM, LAYERS, HEADS, MLP_FACTOR = 11, 2, 16, 2, 4, 3
EPS = 1e-6  # nn::RMSNorm's default
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "reference",
                   "mesh_transformer.h5")


class RMSNorm(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt((x * x).mean(-1, keepdim=True) + EPS) * self.weight


def mlp(sizes):
    """Linear layers named 0, 1, ... (as nn::Mlp), ReLU between them."""
    return nn.ModuleDict({str(i): nn.Linear(a, b) for i, (a, b) in enumerate(zip(sizes, sizes[1:]))})


def run_mlp(layers, x):
    for i in range(len(layers)):
        x = layers[str(i)](x)
        if i + 1 < len(layers):
            x = torch.relu(x)
    return x


class GatedMlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.w1, self.w2, self.w3 = nn.Linear(dim, hidden), nn.Linear(dim, hidden), nn.Linear(hidden, dim)

    def forward(self, x):
        return self.w3(nn.functional.gelu(self.w1(x)) * self.w2(x))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm1 = RMSNorm(DIM)
        self.attention = GraphMultiHeadAttention(DIM, HEADS)
        self.norm2 = RMSNorm(DIM)
        self.mlp = GatedMlp(DIM, MLP_FACTOR * DIM)

    def forward(self, x, dst, src):
        h = x + self.attention(self.norm1(x), dst, src)
        return h + self.mlp(self.norm2(h))


class MeshTransformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = mlp([INPUTS, DIM, DIM, DIM, DIM])
        self.encoder_norm = RMSNorm(DIM)
        self.blocks = nn.ModuleList([Block() for _ in range(LAYERS)])
        self.decoder = mlp([DIM, DIM, DIM, DIM, OUTPUTS])

    def forward(self, x, dst, src):
        h = self.encoder_norm(run_mlp(self.encoder, x))
        for block in self.blocks:
            h = block(h, dst, src)
        return run_mlp(self.decoder, h)

    def cpp_names(self):
        """(C++ slice name, parameter) for every parameter."""
        for name, p in self.named_parameters():
            name = name.replace("encoder_norm.", "encoder.norm.")
            if name.startswith("blocks."):
                _, index, rest = name.split(".", 2)
                name = f"block{index}.{rest}"
            yield name, p


def main():
    warnings.filterwarnings("ignore", message="scatter_reduce")  # "in beta", fine in 1.13
    torch.manual_seed(20261205)
    num_nodes, triangles = grid_triangle_mesh(NX, NY)
    row_ptr, col_idx = csr_from_triangles(num_nodes, triangles, self_loops=False)
    dst = torch.from_numpy(np.repeat(np.arange(num_nodes), np.diff(row_ptr)))
    src = torch.from_numpy(col_idx)

    model = MeshTransformer()
    with torch.no_grad():  # norms away from weight 1: generic gradients
        for module in model.modules():
            if isinstance(module, RMSNorm):
                module.weight.add_(0.2 * torch.randn(DIM))
    x = torch.randn(num_nodes, INPUTS)
    dy = torch.randn(num_nodes, OUTPUTS)
    y = model(x, dst, src)
    (y * dy).sum().backward()

    as64 = lambda t: t.detach().numpy().astype(np.float64)
    with h5py.File(OUT, "w") as f:
        g = f.create_group("graph")
        g.attrs["nx"], g.attrs["ny"] = NX, NY
        g["row_ptr"], g["col_idx"] = row_ptr, col_idx
        m = f.create_group("transformer")
        for key, value in dict(inputs=INPUTS, outputs=OUTPUTS, dim=DIM, layers=LAYERS,
                               heads=HEADS, mlp_factor=MLP_FACTOR).items():
            m.attrs[key] = value
        m["x"], m["dy"], m["y"] = as64(x), as64(dy), as64(y)
        for name, p in model.cpp_names():
            m[f"params/{name}"] = as64(p)
            m[f"grads/{name}"] = as64(p.grad)
    print(f"wrote {os.path.normpath(OUT)}: {num_nodes} nodes, {len(col_idx)} edges, "
          f"{sum(p.numel() for p in model.parameters())} parameters")


if __name__ == "__main__":
    main()
