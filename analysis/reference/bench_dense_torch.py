#!/usr/bin/python3
"""PyTorch side of `bench_dense` (experiments/bench/bench_dense.cpp), float32, autograd:

  linear_fwd_bwd             torch.nn.Linear(h, h) on 4096 rows, input requiring grad
                             (3 gemms), y.backward(dy);
  mlp3_fwd_bwd               Sequential(Linear, GELU, Linear, GELU, Linear) of width h,
                             input not requiring grad (8 gemms);
  attention_fwd_bwd          self-attention with separate q/k/v/o nn.Linear and explicit
                             scores / softmax / context (as reference_dense.py);
  transformer_block_fwd_bwd  pre-norm block: x + MHA(LN1(x)), + MLP(LN2(.)) with GELU;

on the same shapes and with the same nominal GFLOP counts as the C++ rows (temporal:
batch 228, length 12; spatial: batch 12, length 228; hidden 64, 4 heads). Parameter
gradients are reset to None before each step (torch's zero_grad(set_to_none=True)).

Prints a JSON list of rows {"benchmark", "shape", "seconds", "gflops", "extra", "note"};
threads from OPENBLAS_NUM_THREADS (default 1), as for the C++ side.
    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 analysis/reference/bench_dense_torch.py [--quick]
"""
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import emit, row, setup, time_median  # noqa: E402


class Attention(torch.nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.wq, self.wk = torch.nn.Linear(dim, dim), torch.nn.Linear(dim, dim)
        self.wv, self.wo = torch.nn.Linear(dim, dim), torch.nn.Linear(dim, dim)

    def forward(self, x, batch, length):
        dim = x.shape[1]
        d = dim // self.heads
        q = self.wq(x).view(batch, length, self.heads, d).transpose(1, 2)
        k = self.wk(x).view(batch, length, self.heads, d).transpose(1, 2)
        v = self.wv(x).view(batch, length, self.heads, d).transpose(1, 2)
        probs = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d), dim=-1)
        return self.wo((probs @ v).transpose(1, 2).reshape(batch * length, dim))


class Block(torch.nn.Module):
    def __init__(self, dim, heads, hidden):
        super().__init__()
        self.ln1, self.ln2 = torch.nn.LayerNorm(dim), torch.nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.mlp = torch.nn.Sequential(torch.nn.Linear(dim, hidden), torch.nn.GELU(),
                                       torch.nn.Linear(hidden, dim))

    def forward(self, x, batch, length):
        h = x + self.attn(self.ln1(x), batch, length)
        return h + self.mlp(self.ln2(h))


def step(module, x, dy, *args):
    for p in module.parameters():
        p.grad = None
    if x.requires_grad:
        x.grad = None
    module(x, *args).backward(dy)


def main():
    quick, threads, repeats, warmup = setup()
    torch.manual_seed(1)
    note = f"torch {torch.__version__}, threads={threads}"
    rows = 256 if quick else 4096
    hiddens = [64, 128] if quick else [64, 128, 256, 512, 1024]
    out = []

    for h in hiddens:
        linear = torch.nn.Linear(h, h)
        x = torch.randn(rows, h, requires_grad=True)
        dy = torch.randn(rows, h)
        seconds = time_median(lambda: step(linear, x, dy), repeats, warmup)
        out.append(row("linear_fwd_bwd", f"rows={rows} in={h} out={h}", seconds,
                       3 * 2.0 * rows * h * h, note))
    for h in hiddens:
        mlp = torch.nn.Sequential(torch.nn.Linear(h, h), torch.nn.GELU(), torch.nn.Linear(h, h),
                                  torch.nn.GELU(), torch.nn.Linear(h, h))
        x = torch.randn(rows, h)
        dy = torch.randn(rows, h)
        seconds = time_median(lambda: step(mlp, x, dy), repeats, warmup)
        out.append(row("mlp3_fwd_bwd", f"rows={rows} sizes={{{h},{h},{h},{h}}} gelu", seconds,
                       8 * 2.0 * rows * h * h, note))

    nodes, steps = (8, 6) if quick else (228, 12)
    dim, heads = (16, 4) if quick else (64, 4)
    hidden = 4 * dim
    for arrangement, batch, length in (("temporal", nodes, steps), ("spatial", steps, nodes)):
        n = batch * length
        shape = f"{arrangement} batch={batch} len={length} dim={dim} heads={heads}"
        projection, core, mlp_flops = 24.0 * n * dim * dim, 12.0 * batch * length ** 2 * dim, \
            48.0 * n * dim * dim
        x = torch.randn(n, dim, requires_grad=True)
        dy = torch.randn(n, dim)
        attention = Attention(dim, heads)
        seconds = time_median(lambda: step(attention, x, dy, batch, length), repeats, warmup)
        out.append(row("attention_fwd_bwd", shape, seconds, projection + core, note))
        block = Block(dim, heads, hidden)
        seconds = time_median(lambda: step(block, x, dy, batch, length), repeats, warmup)
        out.append(row("transformer_block_fwd_bwd", shape + f" mlp_hidden={hidden}", seconds,
                       projection + core + mlp_flops, note))
    emit(out)


if __name__ == "__main__":
    main()
