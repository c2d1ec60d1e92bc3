#!/usr/bin/python3
"""PyTorch side of experiments/bench/bench_graph.cpp: forward + backward of the graph
transformer block and of graph attention alone, with edge scores by index_select, a
scatter softmax (scatter_reduce amax + index_add) and index_add messages, on the same
grid_triangle_mesh(50, 40) graph, float32. Prints a JSON list of rows.

Threads: torch.set_num_threads(OPENBLAS_NUM_THREADS, default 1), the same count the
C++ side gives OpenBLAS.

Run: OPENBLAS_NUM_THREADS=1 /usr/bin/python3 analysis/reference/bench_graph_torch.py [--quick]
"""
import os
import sys
import warnings

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import emit, row, sample_times, setup  # noqa: E402
from reference_graph import (GraphMultiHeadAttention, GraphTransformerBlock,  # noqa: E402
                             csr_from_triangles, grid_triangle_mesh)

MODEL_DIM, HEADS = 64, 4
MLP_HIDDENS = (4 * MODEL_DIM, MODEL_DIM)
REPEATS, WARMUP = 20, 3


def attention_flops(nodes, edges, d):
    """Counted as on the C++ side: gemms 2mnk (forward, dW, dx), edge dots/axpys 2d."""
    return 4 * 3 * 2 * nodes * d * d + (2 + 2 + 2 + 2 + 4) * edges * d


def block_flops(nodes, edges, d, hidden):
    return attention_flops(nodes, edges, d) + 2 * 3 * 2 * nodes * d * hidden


def main():
    warnings.filterwarnings("ignore", message="scatter_reduce")
    quick, threads, _, _ = setup()  # REPEATS, WARMUP even with --quick
    torch.manual_seed(0)
    nx, ny = (10, 8) if quick else (50, 40)
    num_nodes, triangles = grid_triangle_mesh(nx, ny)
    row_ptr, col_idx = csr_from_triangles(num_nodes, triangles)
    edges = len(col_idx)
    dst = torch.from_numpy(np.repeat(np.arange(num_nodes), np.diff(row_ptr)))
    src = torch.from_numpy(col_idx)
    x = torch.randn(num_nodes, MODEL_DIM, requires_grad=True)
    dy = torch.randn(num_nodes, MODEL_DIM)
    shape = f"nodes={num_nodes} edges={edges} hidden={MODEL_DIM} heads={HEADS}"
    note = f"torch {torch.__version__}, {threads} thread(s); extra = edges"
    rows = []
    cases = [("graph_block_fwd_bwd", GraphTransformerBlock(MODEL_DIM, HEADS, hidden),
              block_flops(num_nodes, edges, MODEL_DIM, hidden), f"{shape} mlp_hidden={hidden}")
             for hidden in MLP_HIDDENS]
    cases.append(("graph_attention_fwd_bwd", GraphMultiHeadAttention(MODEL_DIM, HEADS),
                  attention_flops(num_nodes, edges, MODEL_DIM), shape))
    for name, module, flops, row_shape in cases:
        def step():
            module.zero_grad(set_to_none=True)
            x.grad = None
            module(x, dst, src).backward(dy)

        seconds = float(np.median(sample_times(step, REPEATS, WARMUP)))
        rows.append(row(name, row_shape, seconds, flops, note, extra=edges))
    emit(rows)


if __name__ == "__main__":
    main()
