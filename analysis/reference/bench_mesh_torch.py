#!/usr/bin/python3
"""PyTorch side of experiments/bench/bench_mesh.cpp: one training step (forward, backward
of L = sum(y * dy), AdamW) of the mesh transformer and MeshGraphNet, the reference models
of reference_mesh_transformer.py, on the same grid graphs and sizes, float32. Prints a
JSON list of rows.

Threads: torch.set_num_threads(OPENBLAS_NUM_THREADS, default 1), the same count the
C++ side gives OpenBLAS.

Run: OPENBLAS_NUM_THREADS=1 /usr/bin/python3 analysis/reference/bench_mesh_torch.py [--quick]
"""
import os
import sys
import warnings

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import emit, row, sample_times, setup  # noqa: E402
from reference_graph import csr_from_triangles, grid_triangle_mesh  # noqa: E402
from reference_mesh_transformer import MeshGraphNet, MeshTransformer  # noqa: E402

INPUTS = 11
REPEATS, WARMUP = 20, 3


def transformer_flops(nodes, edges, inputs, d, layers):
    """The nominal count of bench_mesh.cpp: 6 x rows x MACs of the dense layers + 12 E d."""
    node_mac = inputs * d + 3 * d * d + layers * 13 * d * d + 3 * d * d + 2 * d
    return 6 * nodes * node_mac + layers * 12 * edges * d


def meshgraphnet_flops(nodes, edges, inputs, latent, blocks):
    node_mac = inputs * latent + 2 * latent ** 2 + blocks * 4 * latent ** 2 + 2 * latent ** 2 + 2 * latent
    edge_mac = 3 * latent + 2 * latent ** 2 + blocks * 5 * latent ** 2
    return 6 * (nodes * node_mac + edges * edge_mac)


def main():
    warnings.filterwarnings("ignore", message="scatter_reduce")
    quick, threads, _, _ = setup()
    torch.manual_seed(0)
    if quick:
        cases = [(10, 8, "transformer", 16, 2), (10, 8, "meshgraphnet", 16, 2)]
    else:
        cases = []
        for nx, ny in ((48, 40), (120, 117), (240, 225)):
            cases.append((nx, ny, "transformer", 64, 5))
            if nx * ny < 20000:
                cases += [(nx, ny, "transformer", 128, 15), (nx, ny, "meshgraphnet", 128, 15)]
    rows = []
    note = f"torch {torch.__version__}, {threads} thread(s); extra = parameters"
    for nx, ny, kind, width, depth in cases:
        num_nodes, triangles = grid_triangle_mesh(nx, ny)
        row_ptr, col_idx = csr_from_triangles(num_nodes, triangles, self_loops=False)
        edges = len(col_idx)
        dst = torch.from_numpy(np.repeat(np.arange(num_nodes), np.diff(row_ptr)))
        src = torch.from_numpy(col_idx)
        x = torch.randn(num_nodes, INPUTS)
        e = torch.randn(edges, 3)
        dy = torch.randn(num_nodes, 2)
        if kind == "transformer":
            model = MeshTransformer(INPUTS, 2, width, depth, 4, 3)
            forward = lambda: model(x, dst, src)  # noqa: E731
            flops = transformer_flops(num_nodes, edges, INPUTS, width, depth)
            name = "mesh_transformer_step"
        else:
            model = MeshGraphNet(INPUTS, 3, 2, width, depth)
            forward = lambda: model(x, e, dst, src)  # noqa: E731
            flops = meshgraphnet_flops(num_nodes, edges, INPUTS, width, depth)
            name = "meshgraphnet_step"
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)

        def step():
            optimizer.zero_grad(set_to_none=True)
            forward().backward(dy)
            optimizer.step()

        repeats = min(REPEATS, 3) if flops > 2e11 else min(REPEATS, 5) if flops > 2e10 else REPEATS
        seconds = float(np.median(sample_times(step, repeats, min(WARMUP, repeats))))
        parameters = sum(p.numel() for p in model.parameters())
        rows.append(row(name, f"nodes={num_nodes} edges={edges} model={width}x{depth}", seconds,
                        flops, note, extra=parameters))
    emit(rows)


if __name__ == "__main__":
    main()
