#!/usr/bin/env python3
"""graph-physics' EncodeTransformDecode against Tessera's transformer, weight for weight.

Copies the weights of graph-physics' transformer (DGL sparse attention) into Tessera's
plain-PyTorch twin (analysis/reference/reference_mesh_transformer.py, which the C++
tests match to 1e-5) and compares the outputs on one of Tessera's meshes. The mapping
shows how the two models differ:

  - heads: graph-physics reshapes Q/K/V to (N, d/H, H), so head h owns the channels
    h, h+H, h+2H, ...; Tessera's head h owns the block h*d/H .. (h+1)*d/H-1. The same
    function up to a fixed permutation of the Q/K/V rows and the output projection's
    columns (applied here);
  - the MLP branch of each block is RMSNorm(RMSNorm(x)) in graph-physics (the block's
    norm2, then the RMSNorm that build_gated_mlp puts first): one extra scale vector per
    block (+d parameters). With both scales at 1 (initialisation) the second norm is the
    identity up to eps, so the models agree; once the scales move they do not (shown by
    perturbing them);
  - RMSNorm: x / (||x||/sqrt(d) + 1e-8) in graph-physics, x / sqrt(mean(x^2) + 1e-6) in
    Tessera (differences of order 1e-6 relative).

Usage: analysis/peers/graph_physics/venv/bin/python analysis/peers/graph_physics/compare_models.py [--test FILE] [--exact]
"""
import argparse
import os
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")
import h5py  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from loguru import logger  # noqa: E402

logger.remove()
from torch_geometric.data import Data  # noqa: E402
from torch_geometric.transforms import FaceToEdge  # noqa: E402

import graphphysics.models.layers as gp_layers  # noqa: E402
from graphphysics.models.processors import EncodeTransformDecode  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "reference"))
from reference_mesh_transformer import MeshTransformer  # noqa: E402


def copy_linear(dst, src, rows=None, cols=None):
    w, b = src.weight.detach().clone(), src.bias.detach().clone()
    if rows is not None:
        w, b = w[rows], b[rows]
    if cols is not None:
        w = w[:, cols]
    dst.weight.data.copy_(w)
    dst.bias.data.copy_(b)


def map_weights(gp, ref, d, heads):
    dh = d // heads
    # Tessera channel h*dh + i  <-  graph-physics channel i*heads + h
    perm = torch.tensor([i * heads + h for h in range(heads) for i in range(dh)])
    lin = [m for m in gp.nodes_encoder if isinstance(m, torch.nn.Linear)]
    for k, m in enumerate(lin):
        copy_linear(ref.encoder[str(k)], m)
    ref.encoder_norm.weight.data.copy_(gp.nodes_encoder[-1].scale.detach())
    for block, rb in zip(gp.processor_list, ref.blocks):
        a = block.attention
        copy_linear(rb.attention.wq, a.q_proj, rows=perm)
        copy_linear(rb.attention.wk, a.k_proj, rows=perm)
        copy_linear(rb.attention.wv, a.v_proj, rows=perm)
        copy_linear(rb.attention.wo, a.proj, cols=perm)
        rb.norm1.weight.data.copy_(block.norm1.scale.detach())
        # graph-physics: norm2 then gated_mlp[0] (a second RMSNorm); Tessera has one norm.
        rb.norm2.weight.data.copy_(block.norm2.scale.detach() * block.gated_mlp[0].scale.detach())
        copy_linear(rb.mlp.w1, block.gated_mlp[1].linear1)
        copy_linear(rb.mlp.w2, block.gated_mlp[1].linear2)
        copy_linear(rb.mlp.w3, block.gated_mlp[2])
    lin = [m for m in gp.decode_module if isinstance(m, torch.nn.Linear)]
    for k, m in enumerate(lin):
        copy_linear(ref.decoder[str(k)], m)


def mesh_graph(path):
    with h5py.File(path, "r") as f:
        g = f[sorted(f.keys())[0]]
        cells = torch.from_numpy(g["cells"][0].astype(np.int64)).T
        pos = torch.from_numpy(g["mesh_pos"][0])
    data = FaceToEdge(remove_faces=False)(Data(pos=pos, face=cells, num_nodes=pos.shape[0]))
    return data


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--test", default="/tmp/gp_data/test.h5")
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--layers", type=int, default=5)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--exact", action="store_true",
                    help="float64 and Tessera's RMSNorm eps 0: isolates the mapping from rounding")
    args = ap.parse_args()
    if args.exact:
        import reference_mesh_transformer

        reference_mesh_transformer.EPS = 0.0
        torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)
    assert gp_layers.HAS_DGL_SPARSE, "dgl.sparse missing: graph-physics would use TransformerConv"
    torch.manual_seed(0)
    graph = mesh_graph(args.test)
    n = graph.num_nodes
    graph.x = torch.randn(n, 11)
    gp = EncodeTransformDecode(message_passing_num=args.layers, node_input_size=11, output_size=2,
                               hidden_size=args.dim, num_heads=args.heads)
    ref = MeshTransformer(11, 2, args.dim, args.layers, args.heads, 3)
    n_gp = sum(p.numel() for p in gp.parameters())
    n_ref = sum(p.numel() for p in ref.parameters())
    print(f"mesh: {n} nodes, {graph.edge_index.shape[1]} directed edges (no self loops: "
          f"{bool((graph.edge_index[0] != graph.edge_index[1]).all())})")
    print(f"parameters: graph-physics {n_gp:,}, Tessera {n_ref:,} "
          f"(difference {n_gp - n_ref} = {args.layers} blocks x {args.dim}: the second RMSNorm)")
    # DGL: A[i, j] for (i, j) = edge_index columns, softmax over row i, y_i = sum_j a_ij v_j:
    # node edge_index[0] attends to edge_index[1]. Tessera: dst (query) attends to src.
    dst, src = graph.edge_index[0], graph.edge_index[1]

    def compare(label):
        map_weights(gp, ref, args.dim, args.heads)
        with torch.no_grad():
            y_gp = gp(graph)
            y_ref = ref(graph.x, dst, src)
        rel = float((y_gp - y_ref).norm() / y_ref.norm())
        print(f"{label}: |y_gp - y_tessera| / |y_tessera| = {rel:.2e}")
        return rel

    at_init = compare("at initialisation (norm scales 1)")
    with torch.no_grad():
        for m in gp.modules():
            if isinstance(m, gp_layers.RMSNorm):
                m.scale.add_(0.3 * torch.randn_like(m.scale))
    moved = compare("norm scales perturbed (0.3 N(0,1)), norm2 * inner scale folded")
    print("OK: same function at initialisation" if at_init < 1e-4 else "MISMATCH at initialisation")
    print("the double RMSNorm differs from one norm once its scales move"
          if moved > 1e-4 else "double RMSNorm indistinguishable here")


if __name__ == "__main__":
    main()
