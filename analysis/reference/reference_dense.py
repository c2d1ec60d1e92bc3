#!/usr/bin/python3
"""PyTorch reference values for the dense layers of core/nn (tests/core/nn/dense).

Writes tests/reference/dense.h5 with one group per case. Each group holds the inputs,
the upstream gradient `dy`, the output `y`, the input gradients (`dx`, and `dkv` for
cross-attention), and `params/<slice>` / `grads/<slice>` named exactly like the C++
parameter slices (Linear: <name>.weight (out x in) and <name>.bias). Sizes and options
are attributes of the group. Everything is computed in float32 by torch (as the C++
test runs in float) and stored as float64.

Run with Debian's python (torch 1.13):  /usr/bin/python3 analysis/reference/reference_dense.py
"""
import math
import os

import h5py
import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "reference", "dense.h5")


def param(shape, scale=1.0, offset=0.0):
    return (torch.randn(*shape) * scale + offset).requires_grad_(True)


def linear_params(params, name, fan_in, fan_out):
    bound = 1.0 / math.sqrt(fan_in)
    params[name + ".weight"] = (torch.rand(fan_out, fan_in) * 2 - 1).mul_(bound).requires_grad_(True)
    params[name + ".bias"] = (torch.rand(fan_out) * 2 - 1).mul_(bound).requires_grad_(True)


def linear(params, name, x):
    return F.linear(x, params[name + ".weight"], params[name + ".bias"])


def rms_norm(x, weight, eps):
    # torch 1.13 has no nn.RMSNorm: x / sqrt(mean(x^2) + eps) * weight.
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight


def attention(params, name, xq, xkv, batch, query_len, key_len, heads, mask):
    """Multi-head attention with explicit ops (rows batch-major, heads split per row)."""
    dim = xq.shape[1]
    d = dim // heads
    q = linear(params, name + ".wq", xq).view(batch, query_len, heads, d).transpose(1, 2)
    k = linear(params, name + ".wk", xkv).view(batch, key_len, heads, d).transpose(1, 2)
    v = linear(params, name + ".wv", xkv).view(batch, key_len, heads, d).transpose(1, 2)
    scores = q @ k.transpose(-1, -2) / math.sqrt(d)
    if mask is not None:
        scores = scores + mask
    probs = torch.softmax(scores, dim=-1)
    context = (probs @ v).transpose(1, 2).reshape(batch * query_len, dim)
    return linear(params, name + ".wo", context)


def store(group, name, tensor):
    group.create_dataset(name, data=tensor.detach().to(torch.float64).numpy())


def finish(group, params, inputs, output, dy, input_names):
    """Runs backward of sum(output * dy) and stores everything of one case."""
    output.backward(dy)
    store(group, "y", output)
    store(group, "dy", dy)
    for key, tensor in inputs.items():
        store(group, key, tensor)
    for grad_name, key in input_names.items():
        store(group, grad_name, inputs[key].grad)
    for name, tensor in params.items():
        store(group, "params/" + name, tensor)
        store(group, "grads/" + name, tensor.grad)


def case_layer_norm(h5):
    rows, features = 6, 16
    g = h5.create_group("layer_norm")
    g.attrs["rows"], g.attrs["features"], g.attrs["eps"] = rows, features, 1e-5
    params = {"ln.weight": param([features], 0.3, 1.0), "ln.bias": param([features], 0.2)}
    x = (torch.randn(rows, features) * 2 + 3).requires_grad_(True)
    y = F.layer_norm(x, (features,), params["ln.weight"], params["ln.bias"], eps=1e-5)
    finish(g, params, {"x": x}, y, torch.randn(rows, features), {"dx": "x"})


def case_rms_norm(h5):
    rows, features = 6, 16
    g = h5.create_group("rms_norm")
    g.attrs["rows"], g.attrs["features"], g.attrs["eps"] = rows, features, 1e-6
    params = {"rms.weight": param([features], 0.3, 1.0)}
    x = (torch.randn(rows, features) * 2 + 0.5).requires_grad_(True)
    y = rms_norm(x, params["rms.weight"], 1e-6)
    finish(g, params, {"x": x}, y, torch.randn(rows, features), {"dx": "x"})


def case_softmax(h5):
    rows, cols = 5, 9
    g = h5.create_group("softmax")
    g.attrs["rows"], g.attrs["cols"] = rows, cols
    x = (torch.randn(rows, cols) * 3).requires_grad_(True)
    y = torch.softmax(x, dim=-1)
    finish(g, {}, {"x": x}, y, torch.randn(rows, cols), {"dx": "x"})


def case_attention(h5):
    batch, query_len, key_len, dim, heads = 2, 5, 7, 16, 4
    g = h5.create_group("attention")
    for key, value in dict(batch=batch, query_len=query_len, key_len=key_len, model_dim=dim,
                           heads=heads).items():
        g.attrs[key] = value
    params = {}
    for w in ("wq", "wk", "wv", "wo"):
        linear_params(params, "attn." + w, dim, dim)
    xq = torch.randn(batch * query_len, dim).requires_grad_(True)
    xkv = torch.randn(batch * key_len, dim).requires_grad_(True)
    # A finite additive bias plus a few forbidden (-inf) pairs, never a whole row.
    mask = torch.randn(query_len, key_len) * 0.5
    mask[0, 3] = mask[2, 0] = mask[2, 6] = mask[4, 1] = float("-inf")
    y = attention(params, "attn", xq, xkv, batch, query_len, key_len, heads, mask)
    dy = torch.randn(batch * query_len, dim)
    finish(g, params, {"xq": xq, "xkv": xkv}, y, dy, {"dxq": "xq", "dxkv": "xkv"})
    store(g, "mask", mask)


def case_gated_mlp(h5):
    rows, fin, hidden, fout = 10, 8, 12, 6
    g = h5.create_group("gated_mlp")
    for key, value in dict(rows=rows, in_features=fin, hidden=hidden, out_features=fout).items():
        g.attrs[key] = value
    params = {}
    linear_params(params, "gmlp.w1", fin, hidden)
    linear_params(params, "gmlp.w2", fin, hidden)
    linear_params(params, "gmlp.w3", hidden, fout)
    x = torch.randn(rows, fin).requires_grad_(True)
    h = F.gelu(linear(params, "gmlp.w1", x)) * linear(params, "gmlp.w2", x)
    y = linear(params, "gmlp.w3", h)
    finish(g, params, {"x": x}, y, torch.randn(rows, fout), {"dx": "x"})


def case_mlp(h5):
    rows, sizes = 10, [8, 16, 12, 4]
    g = h5.create_group("mlp")
    g.attrs["rows"] = rows
    g.create_dataset("sizes", data=np.array(sizes, dtype=np.float64))
    params = {}
    for l in range(len(sizes) - 1):
        linear_params(params, "mlp.%d" % l, sizes[l], sizes[l + 1])
    x = torch.randn(rows, sizes[0]).requires_grad_(True)
    h = x
    for l in range(len(sizes) - 1):
        h = linear(params, "mlp.%d" % l, h)
        if l + 2 < len(sizes):
            h = F.gelu(h, approximate="tanh")
    finish(g, params, {"x": x}, h, torch.randn(rows, sizes[-1]), {"dx": "x"})


def case_losses(h5):
    rows, cols = 8, 5
    g = h5.create_group("losses")
    g.attrs["rows"], g.attrs["cols"] = rows, cols
    target = torch.randn(rows, cols)
    mask = (torch.rand(rows, cols) < 0.6).float()
    weights = torch.rand(rows, cols) * 2
    store(g, "target", target)
    store(g, "mask", mask)
    store(g, "weights", weights)
    for name in ("mse", "masked_mse", "masked_mae"):
        pred = torch.randn(rows, cols).requires_grad_(True)
        if name == "mse":
            loss = F.mse_loss(pred, target)
        elif name == "masked_mse":
            loss = ((pred - target).pow(2) * mask).sum() / mask.sum()
        else:
            loss = ((pred - target).abs() * weights).sum() / weights.sum()
        loss.backward()
        store(g, name + "/prediction", pred)
        store(g, name + "/loss", loss.reshape(1))
        store(g, name + "/grad", pred.grad)


def case_transformer_block(h5):
    batch, length, dim, heads, hidden = 3, 6, 16, 4, 32
    g = h5.create_group("transformer_block")
    for key, value in dict(batch=batch, len=length, model_dim=dim, heads=heads,
                           mlp_hidden=hidden).items():
        g.attrs[key] = value
    params = {"blk.ln1.weight": param([dim], 0.2, 1.0), "blk.ln1.bias": param([dim], 0.1)}
    for w in ("wq", "wk", "wv", "wo"):
        linear_params(params, "blk.attn." + w, dim, dim)
    params["blk.ln2.weight"] = param([dim], 0.2, 1.0)
    params["blk.ln2.bias"] = param([dim], 0.1)
    linear_params(params, "blk.mlp.0", dim, hidden)
    linear_params(params, "blk.mlp.1", hidden, dim)
    # Causal mask: step t attends to steps <= t.
    mask = torch.triu(torch.full((length, length), float("-inf")), diagonal=1)
    x = torch.randn(batch * length, dim).requires_grad_(True)
    n1 = F.layer_norm(x, (dim,), params["blk.ln1.weight"], params["blk.ln1.bias"], eps=1e-5)
    h = x + attention(params, "blk.attn", n1, n1, batch, length, length, heads, mask)
    n2 = F.layer_norm(h, (dim,), params["blk.ln2.weight"], params["blk.ln2.bias"], eps=1e-5)
    y = h + linear(params, "blk.mlp.1", F.gelu(linear(params, "blk.mlp.0", n2)))
    finish(g, params, {"x": x}, y, torch.randn(batch * length, dim), {"dx": "x"})
    store(g, "mask", mask)


def main():
    torch.manual_seed(20240611)
    torch.set_num_threads(1)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with h5py.File(OUT, "w") as h5:
        h5.attrs["generator"] = "analysis/reference/reference_dense.py, torch " + torch.__version__
        for case in (case_layer_norm, case_rms_norm, case_softmax, case_attention, case_gated_mlp,
                     case_mlp, case_losses, case_transformer_block):
            case(h5)
    print("wrote", OUT, os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
