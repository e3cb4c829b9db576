# Writes adamw-golden.json, the reference that optim.test.ts holds the engine's AdamW to: PyTorch's
# torch.optim.AdamW after torch.nn.utils.clip_grad_norm_, over 10 steps, on four tensors in two param
# groups (weight decay on the matrices, none on the vectors, as the engine's layout and nanoGPT group
# them), with fixed gradients given per step. Run once; the test reads only the JSON (no torch then).
# Usage: /usr/bin/python3 packages/engine/src/testing/adamw_golden.py > packages/engine/src/testing/adamw-golden.json
# Numbers are float32 values written with 9 significant digits, which round-trip float32 exactly.
import json, math, sys
import numpy as np, torch

torch.set_num_threads(1)
STEPS = 10
# name, shape, decayed. "emb" has 140 values, so the decayed region crosses the layout's 64-float blocks.
TENSORS = [("w", [3, 5], True), ("emb", [70, 2], True), ("b", [7], False), ("ln", [4], False)]

# Two settings: nanoGPT's (where eps hardly matters), and one with a large lr, decay and eps so that
# the order of decay and step, each bias correction and the place of eps all move the result by far
# more than the test's tolerance.
CASES = [
    dict(name="nanogpt", lr=[1e-2 * (t + 1) / STEPS for t in range(STEPS)], betas=(0.9, 0.99), eps=1e-8, weight_decay=0.1, max_norm=1.0),
    dict(name="exaggerated", lr=[0.1 - 0.005 * t for t in range(STEPS)], betas=(0.8, 0.95), eps=1e-3, weight_decay=0.5, max_norm=0.5),
]

def f32(x):  # float32 values as JSON numbers that read back to the same float32
    return [float(f"{v:.9g}") for v in np.asarray(x, dtype=np.float32).reshape(-1)]

def values(n, k, t):  # a fixed, smooth pattern per (tensor k, step t), in float32
    i = np.arange(n, dtype=np.float64)
    return np.sin(0.37 * i + 1.3 * t + 0.7 * k) * np.cos(0.11 * i * (k + 1) - 0.5 * t)

def grad_scale(t):  # global gradient norms from about 0.2 to 3: clipping acts on some steps only
    return [0.3, 0.02, 0.15, 0.04, 0.25, 0.01, 0.08, 0.2, 0.03, 0.12][t]

def run(case):
    init = {name: torch.tensor(values(math.prod(shape), k, -1) * 0.5, dtype=torch.float32).reshape(shape) for k, (name, shape, _) in enumerate(TENSORS)}
    params = {name: torch.nn.Parameter(init[name].clone()) for name, _, _ in TENSORS}
    decayed = [params[n] for n, _, d in TENSORS if d]
    plain = [params[n] for n, _, d in TENSORS if not d]
    opt = torch.optim.AdamW([{"params": decayed, "weight_decay": case["weight_decay"]}, {"params": plain, "weight_decay": 0.0}], lr=case["lr"][0], betas=case["betas"], eps=case["eps"])
    steps = []
    for t in range(STEPS):
        grads = {name: torch.tensor(values(math.prod(shape), k, t) * grad_scale(t), dtype=torch.float32).reshape(shape) for k, (name, shape, _) in enumerate(TENSORS)}
        for name, _, _ in TENSORS: params[name].grad = grads[name].clone()
        norm = torch.nn.utils.clip_grad_norm_(list(params.values()), case["max_norm"])
        for group in opt.param_groups: group["lr"] = case["lr"][t]
        opt.step()
        opt.zero_grad(set_to_none=True)
        steps.append(dict(lr=case["lr"][t], gradNorm=float(norm), grads={n: f32(g) for n, g in grads.items()}, params={n: f32(p.detach()) for n, p in params.items()}))
    state = {n: opt.state[params[n]] for n, _, _ in TENSORS}
    return dict(
        name=case["name"], beta1=case["betas"][0], beta2=case["betas"][1], eps=case["eps"], weightDecay=case["weight_decay"], maxNorm=case["max_norm"],
        tensors=[dict(name=n, shape=s, decay=d, init=f32(init[n])) for n, s, d in TENSORS],
        steps=steps,
        m={n: f32(state[n]["exp_avg"]) for n in state}, v={n: f32(state[n]["exp_avg_sq"]) for n in state},
    )

json.dump(dict(generator="packages/engine/src/testing/adamw_golden.py", torch=torch.__version__, cases=[run(c) for c in CASES]), sys.stdout, separators=(",", ":"))
sys.stdout.write("\n")
