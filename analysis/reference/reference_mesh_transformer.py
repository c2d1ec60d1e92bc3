#!/usr/bin/python3
"""Reference values for the mesh transformer and MeshGraphNet (tests/reference/mesh_transformer.h5).

Plain PyTorch of models/mesh_transformer/transformer.hpp (graph-physics'
EncodeTransformDecode): encoder Linear 11->d->d->d->d with ReLU between and RMSNorm,
L pre-norm blocks (RMSNorm, graph-masked multi-head attention from reference_graph.py,
RMSNorm, gated MLP W3(GELU(W1 h) * W2 h)), decoder Linear d->d->d->d->2 with ReLU
between. Attention graph: the mesh edges without self-loops (graph-physics' default).
A second transformer case has global attention nodes: GLOBAL learned tokens appended after
the encoded mesh rows; every node also attends to every token and each token to every other
row (surrogate.hpp's with_global_nodes, built here on its own); the decoder reads the
mesh rows.
MeshGraphNet (models/mesh_transformer/mesh_graph_net.hpp): node and edge encoders
(3 Linear layers with ReLU between, then LayerNorm), blocks m = LN(MLP_e([v_s, v_r, e])),
v += LN(MLP_v([v, sum of m over received edges])), e += m, decoder without norm; edges
in CSR row order (row r: the edges received by r), features sender - receiver position
and its length. Computed in float32 and stored as float64: the inputs, every weight
(named like the C++ parameter slices), the upstream gradient dy, the output y and every
parameter gradient of L = sum(y * dy).

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
LATENT, BLOCKS, EDGE_INPUTS = 16, 2, 3
GLOBAL = 2  # global attention nodes of the second transformer case
EPS = 1e-6  # nn::RMSNorm's default
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "reference",
                   "mesh_transformer.h5")


class RMSNorm(nn.Module):
    def __init__(self, dim=DIM):
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
    def __init__(self, dim=DIM, hidden=MLP_FACTOR * DIM):
        super().__init__()
        self.w1, self.w2, self.w3 = nn.Linear(dim, hidden), nn.Linear(dim, hidden), nn.Linear(hidden, dim)

    def forward(self, x):
        return self.w3(nn.functional.gelu(self.w1(x)) * self.w2(x))


class Block(nn.Module):
    def __init__(self, dim=DIM, heads=HEADS, mlp_factor=MLP_FACTOR):
        super().__init__()
        self.norm1 = RMSNorm(dim)
        self.attention = GraphMultiHeadAttention(dim, heads)
        self.norm2 = RMSNorm(dim)
        self.mlp = GatedMlp(dim, mlp_factor * dim)

    def forward(self, x, dst, src):
        h = x + self.attention(self.norm1(x), dst, src)
        return h + self.mlp(self.norm2(h))


class MeshTransformer(nn.Module):
    def __init__(self, inputs=INPUTS, outputs=OUTPUTS, dim=DIM, layers=LAYERS, heads=HEADS,
                 mlp_factor=MLP_FACTOR, global_nodes=0):
        super().__init__()
        self.encoder = mlp([inputs, dim, dim, dim, dim])
        self.encoder_norm = RMSNorm(dim)
        # Random values of order 1 (not the model's 0.02 init): a generic gradient check.
        self.tokens = nn.Parameter(torch.randn(global_nodes, dim)) if global_nodes else None
        self.blocks = nn.ModuleList([Block(dim, heads, mlp_factor) for _ in range(layers)])
        self.decoder = mlp([dim, dim, dim, dim, outputs])

    def forward(self, x, dst, src):
        h = self.encoder_norm(run_mlp(self.encoder, x))
        if self.tokens is not None:
            h = torch.cat([h, self.tokens], dim=0)
        for block in self.blocks:
            h = block(h, dst, src)
        return run_mlp(self.decoder, h[:x.shape[0]])

    def cpp_names(self):
        """(C++ slice name, parameter) for every parameter."""
        for name, p in self.named_parameters():
            name = name.replace("encoder_norm.", "encoder.norm.")
            if name == "tokens":
                name = "global.tokens"
            if name.startswith("blocks."):
                _, index, rest = name.split(".", 2)
                name = f"block{index}.{rest}"
            yield name, p


class NormedMlp(nn.Module):
    def __init__(self, inputs, latent=LATENT):
        super().__init__()
        self.mlp = mlp([inputs, latent, latent, latent])
        self.norm = nn.LayerNorm(latent)

    def forward(self, x):
        return self.norm(run_mlp(self.mlp, x))


class MeshGraphNetBlock(nn.Module):
    def __init__(self, latent=LATENT):
        super().__init__()
        self.edge = NormedMlp(3 * latent, latent)
        self.node = NormedMlp(2 * latent, latent)

    def forward(self, v, e, receivers, senders):
        m = self.edge(torch.cat([v[senders], v[receivers], e], dim=1))
        aggregate = torch.zeros_like(v).index_add(0, receivers, m)
        return v + self.node(torch.cat([v, aggregate], dim=1)), e + m


class MeshGraphNet(nn.Module):
    def __init__(self, node_inputs=INPUTS, edge_inputs=EDGE_INPUTS, outputs=OUTPUTS,
                 latent=LATENT, blocks=BLOCKS):
        super().__init__()
        self.node_encoder = NormedMlp(node_inputs, latent)
        self.edge_encoder = NormedMlp(edge_inputs, latent)
        self.blocks = nn.ModuleList([MeshGraphNetBlock(latent) for _ in range(blocks)])
        self.decoder = mlp([latent, latent, latent, outputs])

    def forward(self, nodes, edges, receivers, senders):
        v, e = self.node_encoder(nodes), self.edge_encoder(edges)
        for block in self.blocks:
            v, e = block(v, e, receivers, senders)
        return run_mlp(self.decoder, v)

    def cpp_names(self):
        for name, p in self.named_parameters():
            for old, new in (("node_encoder.mlp.", "encoder.node."),
                             ("node_encoder.norm.", "encoder.node_norm."),
                             ("edge_encoder.mlp.", "encoder.edge."),
                             ("edge_encoder.norm.", "encoder.edge_norm."),
                             (".edge.mlp.", ".edge_mlp."), (".edge.norm.", ".edge_norm."),
                             (".node.mlp.", ".node_mlp."), (".node.norm.", ".node_norm.")):
                name = name.replace(old, new)
            if name.startswith("blocks."):
                _, index, rest = name.split(".", 2)
                name = f"block{index}.{rest}"
            yield name, p


def with_global_nodes(row_ptr, col_idx, global_nodes):
    """Rows n .. n+G-1 appended: each mesh row gains every token, each token row every
    other row (no self loops), columns sorted."""
    n = len(row_ptr) - 1
    rows = [list(col_idx[row_ptr[i]:row_ptr[i + 1]]) + list(range(n, n + global_nodes))
            for i in range(n)]
    rows += [[j for j in range(n + global_nodes) if j != t] for t in range(n, n + global_nodes)]
    new_ptr = np.cumsum([0] + [len(r) for r in rows]).astype(np.int64)
    return new_ptr, np.array([j for r in rows for j in r], dtype=np.int64)


def write_case(f, group, model, inputs, dy, attrs):
    """Forward, L = sum(y * dy), backward; inputs: dataset name -> tensor (also stored)."""
    as64 = lambda t: t.detach().numpy().astype(np.float64)
    y = model(*inputs.values())
    (y * dy).sum().backward()
    g = f.create_group(group)
    for key, value in attrs.items():
        g.attrs[key] = value
    for key, value in inputs.items():
        if value.is_floating_point():
            g[key] = as64(value)
    g["dy"], g["y"] = as64(dy), as64(y)
    for name, p in model.cpp_names():
        g[f"params/{name}"] = as64(p)
        g[f"grads/{name}"] = as64(p.grad)


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
                module.weight.add_(0.2 * torch.randn(module.weight.shape))
    x = torch.randn(num_nodes, INPUTS)

    # MeshGraphNet on the same graph: random node positions, edges in CSR row order.
    mgn = MeshGraphNet()
    with torch.no_grad():
        for module in mgn.modules():
            if isinstance(module, nn.LayerNorm):
                module.weight.add_(0.2 * torch.randn(module.weight.shape))
                module.bias.add_(0.2 * torch.randn(module.bias.shape))
    positions = torch.rand(num_nodes, 2)
    relative = positions[src] - positions[dst]
    edges = torch.cat([relative, relative.norm(dim=1, keepdim=True)], dim=1)
    nodes = torch.randn(num_nodes, INPUTS)

    with h5py.File(OUT, "w") as f:
        g = f.create_group("graph")
        g.attrs["nx"], g.attrs["ny"] = NX, NY
        g["row_ptr"], g["col_idx"] = row_ptr, col_idx
        write_case(f, "transformer", model, {"x": x, "dst": dst, "src": src},
                   torch.randn(num_nodes, OUTPUTS),
                   dict(inputs=INPUTS, outputs=OUTPUTS, dim=DIM, layers=LAYERS, heads=HEADS,
                        mlp_factor=MLP_FACTOR))
        write_case(f, "meshgraphnet", mgn,
                   {"nodes": nodes, "edges": edges, "receivers": dst, "senders": src},
                   torch.randn(num_nodes, OUTPUTS),
                   dict(node_inputs=INPUTS, edge_inputs=EDGE_INPUTS, outputs=OUTPUTS,
                        latent=LATENT, blocks=BLOCKS))

        # The same model shape with global nodes (its own weights, graph with token rows), drawn
        # after the other cases, so that their values stay as they were.
        model_global = MeshTransformer(global_nodes=GLOBAL)
        with torch.no_grad():
            for module in model_global.modules():
                if isinstance(module, RMSNorm):
                    module.weight.add_(0.2 * torch.randn(module.weight.shape))
        global_ptr, global_idx = with_global_nodes(row_ptr, col_idx, GLOBAL)
        global_dst = torch.from_numpy(np.repeat(np.arange(num_nodes + GLOBAL), np.diff(global_ptr)))
        global_src = torch.from_numpy(global_idx)
        x_global = torch.randn(num_nodes, INPUTS)
        write_case(f, "transformer_global", model_global,
                   {"x": x_global, "dst": global_dst, "src": global_src},
                   torch.randn(num_nodes, OUTPUTS),
                   dict(inputs=INPUTS, outputs=OUTPUTS, dim=DIM, layers=LAYERS, heads=HEADS,
                        mlp_factor=MLP_FACTOR, global_nodes=GLOBAL))
        f["transformer_global/row_ptr"], f["transformer_global/col_idx"] = global_ptr, global_idx
    print(f"wrote {os.path.normpath(OUT)}: {num_nodes} nodes, {len(col_idx)} edges, "
          f"{sum(p.numel() for p in model.parameters())} and "
          f"{sum(p.numel() for p in mgn.parameters())} parameters")


if __name__ == "__main__":
    main()
