#!/usr/bin/python3
"""Reference values for core/optim and core/parallel tests: torch.optim on a small MLP.

Writes tests/reference/optim.h5 (run with Debian's /usr/bin/python3, which has torch):

  /problem/x, /problem/target          data of the least-squares MLP problem
  /initial/<slice>                     initial weights, named like the C++ slices
  /<case>/<dtype>/<slice>              parameters after each of 5 steps (5 x shape)
  /<case>/<dtype>/loss                 loss before each step
    attributes on /<case>: optimizer ("sgd", "adam", "adamw") and its hyper-parameters
  /schedule/warmup_cosine/lr, /schedule/step_decay/lr   lr of steps 0, 1, ...
  /clip/<dtype>/<slice>, /clip/<dtype>/total_norm       clip_grad_norm_ of the MLP gradient
  /lbfgs/<case>/points, /values        every closure evaluation of torch.optim.LBFGS on
                                       the 2-D Rosenbrock function from (-1.5, 2)
  /lbfgs/<case>/final                  the point after one step() call

<dtype> is float64 (torch computes in double) or float32 (torch computes in float; the
values are stored as float64). The data and initial weights are rounded to float32 so
that both precisions start from the same numbers.
"""
import math
import os
import warnings

import h5py
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUTPUT = os.path.join(HERE, "..", "..", "tests", "reference", "optim.h5")

ROWS, IN, HIDDEN, OUT = 16, 4, 8, 3
STEPS = 5
SLICES = ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]

# Hyper-parameters of each optimiser case; the C++ test reads them from the attributes.
CASES = {
    "sgd": dict(optimizer="sgd", lr=0.1),
    "sgd_momentum": dict(optimizer="sgd", lr=0.05, momentum=0.9, dampening=0.1),
    "sgd_nesterov": dict(optimizer="sgd", lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
    "adam": dict(optimizer="adam", lr=0.01),
    "adam_l2_amsgrad": dict(optimizer="adam", lr=0.01, weight_decay=0.1, amsgrad=True),
    "adamw": dict(optimizer="adamw", lr=0.01, weight_decay=0.1),
    # AdamW with a warm-up + cosine learning rate from torch's schedulers.
    "adamw_schedule": dict(optimizer="adamw", lr=0.02, weight_decay=0.05, warmup=2, total=5,
                           min_lr=0.001),
}


def make_problem():
    torch.manual_seed(1234)
    x = torch.randn(ROWS, IN).float().double()
    target = torch.randn(ROWS, OUT).float().double()
    fc1 = torch.nn.Linear(IN, HIDDEN).double()
    fc2 = torch.nn.Linear(HIDDEN, OUT).double()
    initial = {
        "fc1.weight": fc1.weight.detach().float().double(),
        "fc1.bias": fc1.bias.detach().float().double(),
        "fc2.weight": fc2.weight.detach().float().double(),
        "fc2.bias": fc2.bias.detach().float().double(),
    }
    return x, target, initial


class Mlp(torch.nn.Module):
    def __init__(self, initial, dtype):
        super().__init__()
        self.fc1 = torch.nn.Linear(IN, HIDDEN).to(dtype)
        self.fc2 = torch.nn.Linear(HIDDEN, OUT).to(dtype)
        with torch.no_grad():
            for name, p in self.named_parameters():
                p.copy_(initial[name].to(dtype))

    def forward(self, x):
        return self.fc2(torch.tanh(self.fc1(x)))


def make_optimizer(params, case):
    kind = case["optimizer"]
    if kind == "sgd":
        return torch.optim.SGD(params, lr=case["lr"], momentum=case.get("momentum", 0.0),
                               dampening=case.get("dampening", 0.0),
                               nesterov=case.get("nesterov", False),
                               weight_decay=case.get("weight_decay", 0.0))
    cls = torch.optim.Adam if kind == "adam" else torch.optim.AdamW
    return cls(params, lr=case["lr"], betas=(0.9, 0.999), eps=1e-8,
               weight_decay=case.get("weight_decay", 0.0), amsgrad=case.get("amsgrad", False))


def warmup_cosine(optimizer, warmup, total, min_lr):
    first = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda e: (e + 1) / warmup)
    second = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total - warmup,
                                                        eta_min=min_lr)
    return torch.optim.lr_scheduler.SequentialLR(optimizer, [first, second], milestones=[warmup])


def closed_form_warmup_cosine(step, peak, warmup, total, min_lr):
    if step < warmup:
        return peak * (step + 1) / warmup
    if step >= total:
        return min_lr
    t = (step - warmup) / (total - warmup)
    return min_lr + (peak - min_lr) * 0.5 * (1 + math.cos(math.pi * t))


def run_case(case, x, target, initial, dtype):
    model = Mlp(initial, dtype)
    optimizer = make_optimizer(model.parameters(), case)
    scheduler = None
    if "warmup" in case:
        scheduler = warmup_cosine(optimizer, case["warmup"], case["total"], case["min_lr"])
    history = {name: [] for name in SLICES}
    losses = []
    for _ in range(STEPS):
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x.to(dtype)), target.to(dtype))
        loss.backward()
        losses.append(loss.item())
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        for name, p in model.named_parameters():
            history[name].append(p.detach().double().numpy().copy())
    return {name: np.stack(values) for name, values in history.items()}, np.array(losses)


def schedules(out):
    group = out.create_group("schedule")
    peak, warmup, total, min_lr = 0.1, 5, 20, 0.002
    dummy = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([dummy], lr=peak)
    sched = warmup_cosine(opt, warmup, total, min_lr)
    lrs = []
    for _ in range(total + 1):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    for step, lr in enumerate(lrs):
        expected = closed_form_warmup_cosine(step, peak, warmup, total, min_lr)
        assert abs(lr - expected) <= 1e-12 * peak, (step, lr, expected)
    wc = group.create_group("warmup_cosine")
    wc.create_dataset("lr", data=np.array(lrs))
    wc.attrs.update(dict(peak_lr=peak, warmup_steps=warmup, total_steps=total, min_lr=min_lr))

    base, step_size, gamma = 0.3, 4, 0.5
    opt = torch.optim.SGD([dummy], lr=base)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=step_size, gamma=gamma)
    lrs = []
    for _ in range(17):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    sd = group.create_group("step_decay")
    sd.create_dataset("lr", data=np.array(lrs))
    sd.attrs.update(dict(lr=base, step_size=step_size, gamma=gamma))


def clipping(out, x, target, initial):
    group = out.create_group("clip")
    for dtype, label in [(torch.float64, "float64"), (torch.float32, "float32")]:
        model = Mlp(initial, dtype)
        loss = torch.nn.functional.mse_loss(model(x.to(dtype)), target.to(dtype))
        loss.backward()
        norm = math.sqrt(sum(float((p.grad.double() ** 2).sum()) for p in model.parameters()))
        max_norm = 0.25 * norm
        total = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        sub = group.create_group(label)
        sub.attrs["max_norm"] = max_norm
        sub.create_dataset("total_norm", data=np.array([float(total)]))
        for name, p in model.named_parameters():
            sub.create_dataset(name, data=p.grad.double().numpy())


def rosenbrock_lbfgs(out):
    cases = {
        # Tolerances below torch's defaults: with tolerance_change = 1e-9 the loss-change
        # test stops torch 2.7e-6 away from (1, 1).
        "strong_wolfe": dict(lr=1.0, max_iter=200, history_size=100, tolerance_grad=1e-10,
                             tolerance_change=1e-14, line_search_fn="strong_wolfe"),
        "history3": dict(lr=1.0, max_iter=200, history_size=3, tolerance_grad=1e-10,
                         tolerance_change=1e-14, line_search_fn="strong_wolfe"),
        "fixed_step": dict(lr=1.0, max_iter=20, history_size=5, tolerance_grad=1e-7,
                           tolerance_change=1e-9, line_search_fn=None),
    }
    group = out.create_group("lbfgs")
    for name, options in cases.items():
        x = torch.tensor([-1.5, 2.0], dtype=torch.float64, requires_grad=True)
        opt = torch.optim.LBFGS([x], **options)
        points, values = [], []

        def closure():
            opt.zero_grad()
            f = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
            f.backward()
            points.append(x.detach().numpy().copy())
            values.append(f.item())
            return f

        opt.step(closure)
        sub = group.create_group(name)
        sub.create_dataset("points", data=np.stack(points))
        sub.create_dataset("values", data=np.array(values))
        sub.create_dataset("final", data=x.detach().numpy().copy())
        attrs = {k: v for k, v in options.items() if k != "line_search_fn"}
        attrs["strong_wolfe"] = 1 if options["line_search_fn"] == "strong_wolfe" else 0
        attrs["n_iter"] = opt.state[x]["n_iter"]
        attrs["func_evals"] = opt.state[x]["func_evals"]
        sub.attrs.update(attrs)


def main():
    # SequentialLR steps its second scheduler with an explicit epoch, which torch 1.13
    # flags as deprecated; the closed form it then uses is what we want.
    warnings.filterwarnings("ignore", message="The epoch parameter")
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    x, target, initial = make_problem()
    os.makedirs(os.path.dirname(OUTPUT), exist_ok=True)
    with h5py.File(OUTPUT, "w") as out:
        out.attrs["generator"] = "analysis/reference/reference_optim.py, torch " + torch.__version__
        out.create_dataset("problem/x", data=x.numpy())
        out.create_dataset("problem/target", data=target.numpy())
        for name, value in initial.items():
            out.create_dataset("initial/" + name, data=value.numpy())
        for case_name, case in CASES.items():
            group = out.create_group(case_name)
            # Every hyper-parameter on every case (0 when unused), so the C++ test
            # reads them all the same way.
            attrs = dict(momentum=0.0, dampening=0.0, nesterov=0, weight_decay=0.0, amsgrad=0,
                         warmup=0, total=0, min_lr=0.0)
            attrs.update({k: (int(v) if isinstance(v, bool) else v) for k, v in case.items()})
            # Fixed-length ASCII: io::Hdf5Reader reads those (h5py's default variable-length
            # UTF-8 strings come back empty from it).
            attrs["optimizer"] = np.bytes_(case["optimizer"])
            group.attrs.update(attrs)
            for dtype, label in [(torch.float64, "float64"), (torch.float32, "float32")]:
                history, losses = run_case(case, x, target, initial, dtype)
                sub = group.create_group(label)
                for name, values in history.items():
                    sub.create_dataset(name, data=values)
                sub.create_dataset("loss", data=losses)
        schedules(out)
        clipping(out, x, target, initial)
        rosenbrock_lbfgs(out)
    print("wrote", os.path.normpath(OUTPUT), os.path.getsize(OUTPUT), "bytes")


if __name__ == "__main__":
    main()
