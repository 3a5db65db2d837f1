#!/usr/bin/env python3
"""Golden fixtures for ssm4j's optimizers (dev.ssm4j.train.optim), made by torch.optim.

The Java tests only READ the files this script writes (CI has no Python). Regenerate with:

    /opt/golden-venv/bin/python tools/golden/make_optim_goldens.py

(torch 2.13.0+cpu; see make_model_goldens.py for how the venv is made.)

Writes into ssm-train/src/test/resources/optim/:
  adamw.json   torch.optim.AdamW, 5 steps, two parameter groups
  sgd.json     torch.optim.SGD with momentum: several settings (dampening, nesterov, weight decay), 5 steps each
  clip.json    torch.nn.utils.clip_grad_norm_ on gradients of the same parameters

The parameters are small tensors with Hugging Face Mamba names, in a fixed order, interleaving the
two groups, so that the Java ParameterStore's grouping rule (the same NO_DECAY_SUFFIXES as the model
fixtures) and its group ranges are exercised. Group "decay" uses lr = base_lr and weight_decay = wd;
group "no_decay" uses lr = base_lr * no_decay_lr_scale and weight_decay = 0. The base lr changes from
step to step (lrs[t]) as a schedule would change it. Gradients contain exact zeros and tiny values so
that eps matters. Every tensor is written as a flat list of float32 values (row-major) with its shape.

Both optimizers run on their single-tensor path (foreach=False, which is also torch's default on CPU).
"""
import json
import os
import sys

import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "ssm-train", "src", "test", "resources", "optim")

NO_DECAY_SUFFIXES = ("A_log", ".D", "dt_proj.bias", "dt_bias", "norm.weight", "norm_f.weight", ".bias")

# (name, shape) in store order: the two groups interleave.
PARAMS = [
    ("backbone.embeddings.weight", [7, 5]),
    ("backbone.layers.0.norm.weight", [5]),
    ("backbone.layers.0.mixer.in_proj.weight", [6, 5]),
    ("backbone.layers.0.mixer.conv1d.bias", [3]),
    ("backbone.layers.0.mixer.A_log", [3, 4]),
    ("backbone.layers.0.mixer.D", [3]),
    ("backbone.layers.0.mixer.dt_proj.weight", [3, 2]),
    ("backbone.layers.0.mixer.dt_proj.bias", [3]),
    ("backbone.layers.0.mixer.out_proj.weight", [5, 3]),
    ("backbone.norm_f.weight", [5]),
]
STEPS = 5
LRS = [1e-2, 2e-2, 1.5e-2, 1e-2, 5e-3]
NO_DECAY_LR_SCALE = 0.5


def group_of(name):
    return "no_decay" if name.endswith(NO_DECAY_SUFFIXES) else "decay"


def flat(t):
    return [float(x) for x in t.detach().reshape(-1).tolist()]


def make_problem(seed):
    g = torch.Generator().manual_seed(seed)
    params = [torch.randn(shape, generator=g, dtype=torch.float32) for _, shape in PARAMS]
    grads = []  # grads[t][i]
    for t in range(STEPS):
        step = []
        for i, (_, shape) in enumerate(PARAMS):
            x = torch.randn(shape, generator=g, dtype=torch.float32) * (0.5 + t * 0.3)
            x = x.reshape(-1)
            x[0] = 0.0                       # a zero gradient: the update is m/(sqrt(v)+eps) with m, v decaying
            if x.numel() > 2:
                x[1] = x[1] * 1e-6           # a tiny gradient: sqrt(v) of the order of eps
            step.append(x.reshape(shape))
        grads.append(step)
    return params, grads


def param_groups(tensors, wd):
    decay = [p for (n, _), p in zip(PARAMS, tensors) if group_of(n) == "decay"]
    no_decay = [p for (n, _), p in zip(PARAMS, tensors) if group_of(n) == "no_decay"]
    return [{"params": decay, "weight_decay": wd, "name": "decay"},
            {"params": no_decay, "weight_decay": 0.0, "name": "no_decay"}]


def run(make_opt, params0, grads):
    tensors = [p.clone().requires_grad_(True) for p in params0]
    opt = make_opt(tensors)
    for t in range(STEPS):
        for group in opt.param_groups:
            scale = 1.0 if group["name"] == "decay" else NO_DECAY_LR_SCALE
            group["lr"] = LRS[t] * scale
        for p, g in zip(tensors, grads[t]):
            p.grad = g.clone()
        opt.step()
    return tensors, opt


def problem_json(params0, grads):
    return {
        "params": [{"name": n, "shape": s, "group": group_of(n), "data": flat(p)}
                   for (n, s), p in zip(PARAMS, params0)],
        "grads": [[flat(g) for g in step] for step in grads],
        "lrs": LRS,
        "no_decay_lr_scale": NO_DECAY_LR_SCALE,
        "no_weight_decay_suffixes": list(NO_DECAY_SUFFIXES),
    }


def write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


def adamw(params0, grads):
    hp = dict(betas=[0.9, 0.999], eps=1e-8, weight_decay=0.1)
    tensors, opt = run(lambda ts: torch.optim.AdamW(param_groups(ts, hp["weight_decay"]), lr=LRS[0],
                                                    betas=tuple(hp["betas"]), eps=hp["eps"], foreach=False),
                       params0, grads)
    m = [flat(opt.state[p]["exp_avg"]) for p in tensors]
    v = [flat(opt.state[p]["exp_avg_sq"]) for p in tensors]
    obj = problem_json(params0, grads)
    obj.update({"optimizer": "torch.optim.AdamW", "hyper_parameters": hp,
                "expected_params": [flat(p) for p in tensors], "expected_exp_avg": m, "expected_exp_avg_sq": v,
                "note": "torch " + torch.__version__ + ", foreach=False"})
    return obj


SGD_CASES = [
    dict(momentum=0.9, dampening=0.0, nesterov=False, weight_decay=0.0),
    dict(momentum=0.9, dampening=0.0, nesterov=True, weight_decay=0.01),
    dict(momentum=0.8, dampening=0.25, nesterov=False, weight_decay=0.01),
    dict(momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.05),
]


def sgd(params0, grads):
    cases = []
    for hp in SGD_CASES:
        tensors, opt = run(lambda ts: torch.optim.SGD(param_groups(ts, hp["weight_decay"]), lr=LRS[0],
                                                      momentum=hp["momentum"], dampening=hp["dampening"],
                                                      nesterov=hp["nesterov"], foreach=False),
                           params0, grads)
        bufs = [flat(opt.state[p]["momentum_buffer"]) if opt.state[p].get("momentum_buffer") is not None
                else None for p in tensors]
        cases.append({"hyper_parameters": hp, "expected_params": [flat(p) for p in tensors],
                      "expected_momentum_buffer": bufs})
    obj = problem_json(params0, grads)
    obj.update({"optimizer": "torch.optim.SGD", "cases": cases,
                "note": "torch " + torch.__version__ + ", foreach=False; weight decay is the coupled L2 of SGD"})
    return obj


def clip(params0, grads):
    cases = []
    for t, max_norm in [(0, 1.0), (1, 100.0), (4, 0.5)]:
        tensors = [p.clone().requires_grad_(True) for p in params0]
        for p, g in zip(tensors, grads[t]):
            p.grad = g.clone()
        norm = torch.nn.utils.clip_grad_norm_(tensors, max_norm, foreach=False)
        cases.append({"grads_step": t, "max_norm": max_norm, "expected_norm": float(norm),
                      "expected_grads": [flat(p.grad) for p in tensors]})
    obj = problem_json(params0, grads)
    obj.update({"function": "torch.nn.utils.clip_grad_norm_", "cases": cases,
                "note": "torch " + torch.__version__ + "; clip coefficient = max_norm / (norm + 1e-6), clamped to 1"})
    return obj


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    os.makedirs(OUT, exist_ok=True)
    params0, grads = make_problem(4242)
    write_json(os.path.join(OUT, "adamw.json"), adamw(params0, grads))
    write_json(os.path.join(OUT, "sgd.json"), sgd(params0, grads))
    write_json(os.path.join(OUT, "clip.json"), clip(params0, grads))
    print("wrote", OUT)


if __name__ == "__main__":
    sys.exit(main())
