# The baseline of packages/model/BENCH.md: nanoGPT's (MIT) model.py + train.py loop restated for CPU timing.
# Usage: python3 nanogpt_equivalent.py data=tinyshakespeare.txt n_layer=4 n_head=4 n_embd=128 block_size=64 batch_size=12 max_iters=2000 [eval_interval=250 eval_iters=20 dropout=0 flash=1 threads=2 seed=1337 whole=1 vocab=0]
#   [lr=1e-3 min_lr=1e-4 warmup=100 lr_decay_iters=max_iters beta1=0.9 beta2=0.99 weight_decay=0.1 grad_clip=1.0 bias=0] (nanoGPT's shakespeare_char values by default)
# nanoGPT (model.py + train.py, master) reduced to the CPU training loop, same math and timing:
# char-level Tiny Shakespeare (prepare.py: sorted chars, 90/10 split), get_batch with torch.randint,
# GPT with optional-bias LayerNorm, exact GELU, SDPA causal attention when torch has it, tied
# embeddings, nanoGPT init, AdamW with decay on >=2-D params, warmup + cosine lr, clip 1.0,
# estimate_loss over eval_iters batches. dt per iteration as train.py measures it.
import json, math, resource, sys, time
import numpy as np, torch, torch.nn as nn
import torch_info
from torch.nn import functional as F

a = dict(arg.split("=") for arg in sys.argv[1:])
n_layer, n_head, n_embd = int(a["n_layer"]), int(a["n_head"]), int(a["n_embd"])
block_size, batch_size, max_iters = int(a["block_size"]), int(a["batch_size"]), int(a["max_iters"])
dropout, eval_iters = float(a.get("dropout", 0)), int(a.get("eval_iters", 20))
bias = a.get("bias", "0") == "1"  # nanoGPT's config.bias: Linear and LayerNorm biases (never on lm_head)
eval_interval = int(a.get("eval_interval", 250))
lr, min_lr, warmup, decay_iters = float(a.get("lr", 1e-3)), float(a.get("min_lr", 1e-4)), int(a.get("warmup", 100)), int(a.get("lr_decay_iters", max_iters))
betas, weight_decay, grad_clip = (float(a.get("beta1", 0.9)), float(a.get("beta2", 0.99))), float(a.get("weight_decay", 0.1)), float(a.get("grad_clip", 1.0))
torch.set_num_threads(int(a.get("threads", 2)))
torch.manual_seed(int(a.get("seed", 1337)))

text = open(a["data"]).read()
chars = sorted(set(text)); stoi = {c: i for i, c in enumerate(chars)}
ids = np.array([stoi[c] for c in text], dtype=np.uint16)
n = len(ids); train_data, val_data = ids[: int(n * 0.9)], ids[int(n * 0.9):]
def get_batch(split):
    data = train_data if split == "train" else val_data
    ix = torch.randint(len(data) - block_size, (batch_size,))
    x = torch.stack([torch.from_numpy(data[i:i + block_size].astype(np.int64)) for i in ix])
    y = torch.stack([torch.from_numpy(data[i + 1:i + 1 + block_size].astype(np.int64)) for i in ix])
    return x, y

class LayerNorm(nn.Module):
    def __init__(self, ndim, bias):
        super().__init__(); self.weight = nn.Parameter(torch.ones(ndim)); self.bias = nn.Parameter(torch.zeros(ndim)) if bias else None
    def forward(self, x): return F.layer_norm(x, self.weight.shape, self.weight, self.bias, 1e-5)
class Attn(nn.Module):
    def __init__(s):
        super().__init__(); s.c_attn = nn.Linear(n_embd, 3 * n_embd, bias=bias); s.c_proj = nn.Linear(n_embd, n_embd, bias=bias)
        s.attn_dropout = nn.Dropout(dropout); s.resid_dropout = nn.Dropout(dropout)
        s.flash = hasattr(F, "scaled_dot_product_attention") and a.get("flash", "1") == "1"
        s.register_buffer("bias", torch.tril(torch.ones(block_size, block_size)).view(1, 1, block_size, block_size))
    def forward(s, x):
        B, T, C = x.size()
        q, k, v = s.c_attn(x).split(n_embd, dim=2)
        k = k.view(B, T, n_head, C // n_head).transpose(1, 2); q = q.view(B, T, n_head, C // n_head).transpose(1, 2); v = v.view(B, T, n_head, C // n_head).transpose(1, 2)
        if s.flash:
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=None, dropout_p=dropout if s.training else 0, is_causal=True)
        else:
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            att = att.masked_fill(s.bias[:, :, :T, :T] == 0, float("-inf"))
            att = s.attn_dropout(F.softmax(att, dim=-1)); y = att @ v
        return s.resid_dropout(s.c_proj(y.transpose(1, 2).contiguous().view(B, T, C)))
class MLP(nn.Module):
    def __init__(s):
        super().__init__(); s.c_fc = nn.Linear(n_embd, 4 * n_embd, bias=bias); s.gelu = nn.GELU(); s.c_proj = nn.Linear(4 * n_embd, n_embd, bias=bias); s.dropout = nn.Dropout(dropout)
    def forward(s, x): return s.dropout(s.c_proj(s.gelu(s.c_fc(x))))
class Block(nn.Module):
    def __init__(s):
        super().__init__(); s.ln_1 = LayerNorm(n_embd, bias); s.attn = Attn(); s.ln_2 = LayerNorm(n_embd, bias); s.mlp = MLP()
    def forward(s, x): x = x + s.attn(s.ln_1(x)); return x + s.mlp(s.ln_2(x))
class GPT(nn.Module):
    def __init__(s, V):
        super().__init__()
        s.transformer = nn.ModuleDict(dict(wte=nn.Embedding(V, n_embd), wpe=nn.Embedding(block_size, n_embd), drop=nn.Dropout(dropout), h=nn.ModuleList([Block() for _ in range(n_layer)]), ln_f=LayerNorm(n_embd, bias)))
        s.lm_head = nn.Linear(n_embd, V, bias=False); s.transformer.wte.weight = s.lm_head.weight
        s.apply(s._init)
        for pn, p in s.named_parameters():
            if pn.endswith("c_proj.weight"): torch.nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * n_layer))
    def _init(s, m):
        if isinstance(m, (nn.Linear, nn.Embedding)): torch.nn.init.normal_(m.weight, mean=0.0, std=0.02)
        if isinstance(m, nn.Linear) and m.bias is not None: torch.nn.init.zeros_(m.bias)
    def forward(s, idx, targets):
        t = idx.size(1); pos = torch.arange(0, t, dtype=torch.long)
        x = s.transformer.drop(s.transformer.wte(idx) + s.transformer.wpe(pos))
        for b in s.transformer.h: x = b(x)
        logits = s.lm_head(s.transformer.ln_f(x))
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)

model = GPT(max(len(chars), int(a.get("vocab", 0))))  # vocab=50257: GPT-2's embedding size on char data (memory runs)
params = [p for p in model.parameters()]
opt = torch.optim.AdamW([{"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay}, {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}], lr=lr, betas=betas)
def get_lr(it):
    if it < warmup: return lr * (it + 1) / (warmup + 1)
    if it > decay_iters: return min_lr
    r = (it - warmup) / (decay_iters - warmup); return min_lr + 0.5 * (1.0 + math.cos(math.pi * r)) * (lr - min_lr)
@torch.no_grad()
def estimate_loss():
    out = {}; model.eval()
    for split in ["train", "val"]:
        out[split] = float(np.mean([model(*get_batch(split)).item() for _ in range(eval_iters)]))
    model.train(); return out

@torch.no_grad()
def whole_split_loss(data):
    # every val token predicted once: consecutive block_size windows, the last one partial (as baton bench's valLossWholeSplit)
    model.eval(); total, count = 0.0, 0
    for at in range(0, len(data) - 1, block_size):
        n = min(block_size, len(data) - 1 - at)
        x = torch.from_numpy(data[at:at + n].astype(np.int64))[None]; y = torch.from_numpy(data[at + 1:at + 1 + n].astype(np.int64))[None]
        total += model(x, y).item() * n; count += n
    model.train(); return total / count

dts, evals = [], []
X, Y = get_batch("train"); t0 = time.time()
for it in range(max_iters + 1):
    for g in opt.param_groups: g["lr"] = get_lr(it)
    if eval_interval > 0 and it % eval_interval == 0 or it == max_iters:
        evals.append(dict(step=it, **estimate_loss()))
        if it == max_iters: break
    loss = model(X, Y); X, Y = get_batch("train")
    loss.backward(); torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip); opt.step(); opt.zero_grad(set_to_none=True)
    t1 = time.time(); dt = t1 - t0; t0 = t1; lossf = loss.item()
    if not (eval_interval > 0 and it % eval_interval == 0): dts.append(dt * 1000)  # eval iterations excluded
ms = float(np.median(dts[2:] if len(dts) > 4 else dts))
print(json.dumps(dict(bench="nanogpt-equivalent", **torch_info.describe(), flash=bool(model.transformer.h[0].attn.flash), n_layer=n_layer, n_embd=n_embd, block_size=block_size, batch_size=batch_size, params=sum(p.numel() for p in model.parameters()), iters=max_iters, msPerIter=round(ms, 2), tokensPerSec=round(batch_size * block_size / ms * 1000), trainLoss=round(evals[-1]["train"], 4), valLoss=round(evals[-1]["val"], 4), evalIters=eval_iters, valLossWholeSplit=round(whole_split_loss(val_data), 4) if a.get("whole", "1") == "1" else None, evals=evals, lastLoss=round(lossf, 4), peakRssMb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))), flush=True)
