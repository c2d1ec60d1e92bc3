#!/usr/bin/python3
"""Reference values for graph attention over CSR neighbourhoods (tests/reference/graph.h5).

PyTorch implementation of core/nn/graph_attention.hpp and
core/nn/graph_transformer_block.hpp on the same triangle-mesh graph: scores on the
edges by index_select, a max-shifted softmax per receiving node by scatter_reduce
(amax) and index_add, messages summed by index_add. Computed in float32 and stored as
float64: inputs, weights (named exactly like the C++ parameter slices), the upstream
gradient dy, outputs, the input gradient and every parameter gradient of
L = sum(y * dy).

Run with Debian's python (torch 1.13): /usr/bin/python3 analysis/reference/reference_graph.py
"""
import math
import os
import warnings

import h5py
import numpy as np
import torch
from torch import nn

NX, NY = 6, 5  # grid_triangle_mesh(6, 5): 30 nodes
MODEL_DIM, HEADS, MLP_HIDDEN = 16, 4, 32
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "reference",
                   "graph.h5")


def grid_triangle_mesh(nx, ny):
    """Same node numbering and triangles as graph::grid_triangle_mesh."""
    node = lambda ix, iy: iy * nx + ix
    triangles = []
    for iy in range(ny - 1):
        for ix in range(nx - 1):
            triangles.append((node(ix, iy), node(ix + 1, iy), node(ix + 1, iy + 1)))
            triangles.append((node(ix, iy), node(ix + 1, iy + 1), node(ix, iy + 1)))
    return nx * ny, triangles


def csr_from_triangles(num_nodes, triangles, self_loops=True):
    """Symmetric adjacency with self loops, sorted rows, as graph::csr_from_triangles."""
    neighbours = [set([i]) if self_loops else set() for i in range(num_nodes)]
    for t in triangles:
        for a in range(3):
            u, v = t[a], t[(a + 1) % 3]
            if u != v:
                neighbours[u].add(v)
                neighbours[v].add(u)
    row_ptr, col_idx = [0], []
    for row in neighbours:
        col_idx.extend(sorted(row))
        row_ptr.append(len(col_idx))
    return np.array(row_ptr, dtype=np.int64), np.array(col_idx, dtype=np.int64)


class GraphMultiHeadAttention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.wq = nn.Linear(dim, dim)
        self.wk = nn.Linear(dim, dim)
        self.wv = nn.Linear(dim, dim)
        self.wo = nn.Linear(dim, dim)

    def forward(self, x, dst, src):
        """dst: receiving (query) node of each edge, src: sending (key/value) node."""
        n, dim = x.shape
        e, h = dst.shape[0], self.heads
        dh = dim // h
        q = self.wq(x).view(n, h, dh)
        k = self.wk(x).view(n, h, dh)
        v = self.wv(x).view(n, h, dh)
        scores = (q.index_select(0, dst) * k.index_select(0, src)).sum(-1) / math.sqrt(dh)
        # The shift does not change the softmax: no gradient through it.
        top = torch.full((n, h), -math.inf, dtype=x.dtype).scatter_reduce(
            0, dst[:, None].expand(e, h), scores.detach(), reduce="amax", include_self=True)
        w = torch.exp(scores - top.index_select(0, dst))
        total = torch.zeros(n, h, dtype=x.dtype).index_add(0, dst, w)
        p = w / total.index_select(0, dst)
        context = torch.zeros(n, h, dh, dtype=x.dtype).index_add(
            0, dst, p[:, :, None] * v.index_select(0, src))
        self.probabilities = p
        return self.wo(context.reshape(n, dim))


class GraphTransformerBlock(nn.Module):
    def __init__(self, dim, heads, hidden):
        super().__init__()
        self.ln1 = nn.LayerNorm(dim)
        self.attention = GraphMultiHeadAttention(dim, heads)
        self.ln2 = nn.LayerNorm(dim)
        # ModuleDict keeps the C++ names mlp.0 / mlp.1 (Sequential would say mlp.2).
        self.mlp = nn.ModuleDict({"0": nn.Linear(dim, hidden), "1": nn.Linear(hidden, dim)})
        self.act = nn.GELU()

    def forward(self, x, dst, src):
        h = x + self.attention(self.ln1(x), dst, src)
        return h + self.mlp["1"](self.act(self.mlp["0"](self.ln2(h))))


def write_case(f, group, prefix, module, x, dy, dst, src, attrs):
    x = x.clone().requires_grad_(True)
    y = module(x, dst, src)
    (y * dy).sum().backward()
    g = f.create_group(group)
    for key, value in attrs.items():
        g.attrs[key] = value
    as64 = lambda t: t.detach().numpy().astype(np.float64)
    g["x"] = as64(x)
    g["dy"] = as64(dy)
    g["y"] = as64(y)
    g["dx"] = as64(x.grad)
    for name, p in module.named_parameters():
        g[f"params/{prefix}.{name}"] = as64(p)
        g[f"grads/{prefix}.{name}"] = as64(p.grad)
    return g


def main():
    warnings.filterwarnings("ignore", message="scatter_reduce")  # "in beta", fine in 1.13
    torch.manual_seed(20240611)
    num_nodes, triangles = grid_triangle_mesh(NX, NY)
    row_ptr, col_idx = csr_from_triangles(num_nodes, triangles)
    dst = torch.from_numpy(np.repeat(np.arange(num_nodes), np.diff(row_ptr)))
    src = torch.from_numpy(col_idx)

    with h5py.File(OUT, "w") as f:
        g = f.create_group("graph")
        g.attrs["nx"], g.attrs["ny"] = NX, NY
        g["row_ptr"], g["col_idx"] = row_ptr, col_idx

        attention = GraphMultiHeadAttention(MODEL_DIM, HEADS)
        x = torch.randn(num_nodes, MODEL_DIM)
        dy = torch.randn(num_nodes, MODEL_DIM)
        a = write_case(f, "attention", "attn", attention, x, dy, dst, src,
                       {"model_dim": MODEL_DIM, "heads": HEADS})
        a["probabilities"] = attention.probabilities.detach().numpy().astype(np.float64)

        block = GraphTransformerBlock(MODEL_DIM, HEADS, MLP_HIDDEN)
        with torch.no_grad():  # norms away from weight 1 / bias 0: generic gradients
            for ln in (block.ln1, block.ln2):
                ln.weight.add_(0.2 * torch.randn(MODEL_DIM))
                ln.bias.add_(0.2 * torch.randn(MODEL_DIM))
        x = torch.randn(num_nodes, MODEL_DIM)
        dy = torch.randn(num_nodes, MODEL_DIM)
        write_case(f, "block", "block", block, x, dy, dst, src,
                   {"model_dim": MODEL_DIM, "heads": HEADS, "mlp_hidden": MLP_HIDDEN})
    print(f"wrote {os.path.normpath(OUT)}: {num_nodes} nodes, {len(col_idx)} edges")


if __name__ == "__main__":
    main()
