#!/usr/bin/python3
"""PyTorch reference values for models/hopfield (tests/models/hopfield).

Writes tests/reference/hopfield.h5: the same equations as the C++ layers written in torch
(float32) on the same weights and inputs, stored as float64:
  /retrieval        patterns X, queries, beta; states after 1 and 3 updates and the
                    energies E = -lse(beta, X xi) + xi.xi/2 + log(N)/beta + M^2/2
  /hopfield         Hopfield with 2 heads, LayerNorms, a mask (inputs state, stored, projection)
  /hopfield_pooling HopfieldPooling (learned queries) on a batch of sets
  /hopfield_layer   HopfieldLayer (learned lookup rows)
Each layer group holds the inputs, dy, the output y, input gradients, and params/<slice>,
grads/<slice> named like the C++ parameter slices.

Run with Debian's python (torch 1.13):  /usr/bin/python3 analysis/reference/reference_hopfield.py
"""
import math
import os

import h5py
import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "reference", "hopfield.h5")


def store(group, name, tensor):
    group.create_dataset(name, data=tensor.detach().to(torch.float64).numpy())


def linear_params(params, name, fan_in, fan_out):
    bound = 1.0 / math.sqrt(fan_in)
    params[name + ".weight"] = ((torch.rand(fan_out, fan_in) * 2 - 1) * bound).requires_grad_(True)
    params[name + ".bias"] = ((torch.rand(fan_out) * 2 - 1) * bound).requires_grad_(True)


def norm_params(params, name, features):
    params[name + ".weight"] = (1 + 0.3 * torch.randn(features)).requires_grad_(True)
    params[name + ".bias"] = (0.2 * torch.randn(features)).requires_grad_(True)


def hopfield_params(params, name, o):
    if o["normalize"]:
        norm_params(params, name + ".norm_state", o["state"])
        norm_params(params, name + ".norm_stored", o["stored"])
        norm_params(params, name + ".norm_projection", o["projection"])
    linear_params(params, name + ".wq", o["state"], o["heads"] * o["hidden"])
    linear_params(params, name + ".wk", o["stored"], o["heads"] * o["hidden"])
    linear_params(params, name + ".wv", o["projection"], o["heads"] * o["pattern"])
    linear_params(params, name + ".wo", o["heads"] * o["pattern"], o["output"])


def hopfield(params, name, o, r, y, p, batch, query_len, key_len, mask=None):
    """Z = concat_h(softmax(beta Q_h K_h^T + mask) V_h) Wo^T + bo on LayerNormed inputs."""
    def lin(n, x):
        return F.linear(x, params[n + ".weight"], params[n + ".bias"])

    def norm(n, x):
        if not o["normalize"]:
            return x
        return F.layer_norm(x, (x.shape[1],), params[n + ".weight"], params[n + ".bias"], 1e-5)

    h, hd, pd = o["heads"], o["hidden"], o["pattern"]
    q = lin(name + ".wq", norm(name + ".norm_state", r)).view(batch, query_len, h, hd).transpose(1, 2)
    k = lin(name + ".wk", norm(name + ".norm_stored", y)).view(batch, key_len, h, hd).transpose(1, 2)
    v = lin(name + ".wv", norm(name + ".norm_projection", p)).view(batch, key_len, h, pd).transpose(1, 2)
    scores = o["beta"] * q @ k.transpose(-1, -2)
    if mask is not None:
        scores = scores + mask
    a = torch.softmax(scores, dim=-1)
    context = (a @ v).transpose(1, 2).reshape(batch * query_len, h * pd)
    return lin(name + ".wo", context)


def attrs(group, **values):
    for key, value in values.items():
        group.attrs[key] = value


def finish(group, params, inputs, output, dy, grads):
    output.backward(dy)
    store(group, "y", output)
    store(group, "dy", dy)
    for key, tensor in inputs.items():
        store(group, key, tensor)
    for grad_name, key in grads.items():
        store(group, grad_name, inputs[key].grad)
    for name, tensor in params.items():
        store(group, "params/" + name, tensor)
        store(group, "grads/" + name, tensor.grad)


def options_attrs(group, o):
    attrs(group, state_size=o["state"], stored_size=o["stored"], projection_size=o["projection"],
          hidden_size=o["hidden"], pattern_size=o["pattern"], output_size=o["output"],
          heads=o["heads"], beta=o["beta"], normalize=int(o["normalize"]))


def case_retrieval(h5):
    n, d, b, beta = 40, 16, 6, 0.35
    g = h5.create_group("retrieval")
    attrs(g, beta=beta)
    x = torch.randn(n, d)
    xi = torch.randn(b, d)
    store(g, "patterns", x)
    store(g, "queries", xi)
    m = x.norm(dim=1).max()

    def energy(s):
        lse = torch.logsumexp(beta * s @ x.T, dim=1) / beta
        return -lse + 0.5 * (s * s).sum(1) + math.log(n) / beta + 0.5 * m * m

    energies = [energy(xi)]
    for step in range(3):
        xi = torch.softmax(beta * xi @ x.T, dim=1) @ x
        energies.append(energy(xi))
        if step == 0:
            store(g, "states_1", xi)
    store(g, "states_3", xi)
    store(g, "energy", torch.stack(energies))


def case_hopfield(h5):
    batch, query_len, key_len = 2, 5, 7
    o = dict(state=12, stored=10, projection=8, hidden=6, pattern=4, output=9, heads=2,
             beta=0.45, normalize=True)
    g = h5.create_group("hopfield")
    options_attrs(g, o)
    attrs(g, batch=batch, query_len=query_len, key_len=key_len)
    params = {}
    hopfield_params(params, "hf", o)
    r = torch.randn(batch * query_len, o["state"]).requires_grad_(True)
    y = (torch.randn(batch * key_len, o["stored"]) + 0.5).requires_grad_(True)
    p = torch.randn(batch * key_len, o["projection"]).requires_grad_(True)
    mask = torch.randn(query_len, key_len) * 0.5
    mask[0, 3] = mask[2, 0] = mask[4, 6] = float("-inf")
    z = hopfield(params, "hf", o, r, y, p, batch, query_len, key_len, mask)
    finish(g, params, {"state": r, "stored": y, "projection": p}, z, torch.randn_like(z),
           {"d_state": "state", "d_stored": "stored", "d_projection": "projection"})
    store(g, "mask", mask)


def case_pooling(h5):
    batch, length, quantity = 3, 6, 2
    o = dict(state=8, stored=8, projection=8, hidden=4, pattern=4, output=5, heads=2,
             beta=0.5, normalize=True)
    g = h5.create_group("hopfield_pooling")
    options_attrs(g, o)
    attrs(g, batch=batch, len=length, quantity=quantity)
    params = {"pool.query": torch.randn(quantity, o["state"]).requires_grad_(True)}
    hopfield_params(params, "pool.hopfield", o)
    x = torch.randn(batch * length, o["state"]).requires_grad_(True)
    state = params["pool.query"].repeat(batch, 1)
    z = hopfield(params, "pool.hopfield", o, state, x, x, batch, quantity, length)
    finish(g, params, {"x": x}, z, torch.randn_like(z), {"dx": "x"})


def case_lookup(h5):
    rows, quantity = 7, 9
    o = dict(state=6, stored=5, projection=5, hidden=4, pattern=4, output=3, heads=1,
             beta=1.2, normalize=False)
    g = h5.create_group("hopfield_layer")
    options_attrs(g, o)
    attrs(g, rows=rows, quantity=quantity)
    params = {"lookup.lookup": torch.randn(quantity, o["stored"]).requires_grad_(True)}
    hopfield_params(params, "lookup.hopfield", o)
    x = torch.randn(rows, o["state"]).requires_grad_(True)
    table = params["lookup.lookup"]
    z = hopfield(params, "lookup.hopfield", o, x, table, table, 1, rows, quantity)
    finish(g, params, {"x": x}, z, torch.randn_like(z), {"dx": "x"})


def main():
    torch.manual_seed(6)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with h5py.File(OUT, "w") as h5:
        h5.attrs["torch_version"] = str(torch.__version__).encode()
        case_retrieval(h5)
        case_hopfield(h5)
        case_pooling(h5)
        case_lookup(h5)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
