# The PyTorch side of `baton bench rollout`: a batched KV-cache sampler over the same model.safetensors.
# Usage: python3 kv_sampler.py model=<folder with config.json + model.safetensors> [threads=2]
#   then one JSON request per stdin line, one JSON answer per stdout line:
#   {"prompts": [[ids], ...], "tokens": 24, "temperature": 1, "seed": 0, "threads": 1, "linear": "blas"}
#   -> {"seconds": s, "tokens": [[ids], ...]}   (seconds: prompts in, every new token out, prefill included)
#   The first line it prints describes torch: version, BLAS, the library BLAS calls land in.
# HF GPT-2 as Baton writes it (packages/model/src/checkpoint/hf-gpt2.ts): Conv1D weights [in, out], gelu_new
# (tanh GELU), tied lm head unless lm_head.weight is stored. The safetensors file is parsed here with numpy.
# Rows of different prompt lengths are left-padded to the longest (P), as HF generate does, so every row
# writes the same cache column each step; a row's positions start at 0 after its padding, and its padding
# keys are masked. Cache [B, H, P + tokens, D] allocated once; attention reads only the columns written.
# Linear layers two ways, chosen per request: "blas" = x @ W + b, a GEMM in whatever libblas.so.3 the
# system provides (Debian's torch is built against the generic one, which may be the slow reference
# BLAS); "mkldnn" = oneDNN's inner product, which torch bundles, independent of the system BLAS.
import json, math, os, struct, sys, time
import numpy as np, torch
import torch_info
from torch.nn import functional as F

a = dict(arg.split("=", 1) for arg in sys.argv[1:])
torch.set_num_threads(int(a.get("threads", 2)))
cfg = json.load(open(os.path.join(a["model"], "config.json")))
L, H, C, S = cfg["n_layer"], cfg["n_head"], cfg["n_embd"], cfg["n_positions"]
D, eps = C // H, cfg.get("layer_norm_epsilon", 1e-5)
if cfg.get("activation_function", "gelu_new") not in ("gelu_new", "gelu_pytorch_tanh", "gelu_fast"): sys.exit(f"kv_sampler: activation_function {cfg['activation_function']} is not gelu_new")

def read_safetensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]; header = json.loads(raw[8:8 + n]); base = 8 + n
    kinds = {"F32": np.float32, "F16": np.float16, "F64": np.float64}
    out = {}
    for name, t in header.items():
        if name == "__metadata__": continue
        if t["dtype"] not in kinds: sys.exit(f"kv_sampler: {path}: tensor {name} is {t['dtype']}; only F32, F16, F64 are read")
        lo, hi = t["data_offsets"]
        out[name.removeprefix("transformer.")] = torch.from_numpy(np.frombuffer(raw, kinds[t["dtype"]], (hi - lo) // np.dtype(kinds[t["dtype"]]).itemsize, base + lo).astype(np.float32).reshape(t["shape"]))
    return out

w = read_safetensors(os.path.join(a["model"], "model.safetensors"))
zeros = lambda n: torch.zeros(n)
def lin(name, n_out):  # Conv1D weight [in, out], bias [out]: both forms of y = x @ W + b
    W, b = w[name + ".weight"].contiguous(), w.get(name + ".bias", zeros(n_out))
    Wm, bm = W.t().contiguous().to_mkldnn(), b.to_mkldnn()  # oneDNN wants [out, in]
    def mkldnn(x):
        y = torch._C._nn.mkldnn_linear(x.reshape(-1, x.shape[-1]).to_mkldnn(), Wm, bm).to_dense()
        return y.view(*x.shape[:-1], n_out)
    return dict(blas=lambda x: torch.addmm(b, x.reshape(-1, x.shape[-1]), W).view(*x.shape[:-1], n_out), mkldnn=mkldnn)
def norm(name): return w[name + ".weight"], w.get(name + ".bias", zeros(C))
blocks = [dict(ln1=norm(f"h.{l}.ln_1"), attn=lin(f"h.{l}.attn.c_attn", 3 * C), proj=lin(f"h.{l}.attn.c_proj", C), ln2=norm(f"h.{l}.ln_2"), fc=lin(f"h.{l}.mlp.c_fc", 4 * C), fc_proj=lin(f"h.{l}.mlp.c_proj", C)) for l in range(L)]
wte, wpe, lnf = w["wte.weight"], w["wpe.weight"], norm("ln_f")
head = w.get("lm_head.weight", wte) if cfg.get("tie_word_embeddings", True) is False else wte  # [V, C]
head_in_out = dict(blas=head.t().contiguous())
head_mkldnn = head.contiguous().to_mkldnn()

def forward(ids, pos, keep, ks, vs, at, mode):
    # ids, pos [B, T]; keep [B, 1, T, at + T] bool (True = may attend); writes cache columns at..at+T-1
    x = wte[ids] + wpe[pos]  # [B, T, C]
    B, T, _ = x.shape
    for b, k_cache, v_cache in zip(blocks, ks, vs):
        q, k, v = b["attn"][mode](F.layer_norm(x, (C,), *b["ln1"], eps)).split(C, dim=2)
        q, k, v = (t.view(B, T, H, D).transpose(1, 2) for t in (q, k, v))  # (B, H, T, D)
        k_cache[:, :, at:at + T] = k; v_cache[:, :, at:at + T] = v
        att = (q @ k_cache[:, :, :at + T].transpose(-2, -1)) * (1.0 / math.sqrt(D))  # (B, H, T, at + T)
        y = F.softmax(att.masked_fill(~keep, float("-inf")), dim=-1) @ v_cache[:, :, :at + T]
        x = x + b["proj"][mode](y.transpose(1, 2).reshape(B, T, C))
        x = x + b["fc_proj"][mode](F.gelu(b["fc"][mode](F.layer_norm(x, (C,), *b["ln2"], eps)), approximate="tanh"))
    h = F.layer_norm(x[:, -1], (C,), *lnf, eps)  # [B, C]: only each row's last token is read
    if mode == "mkldnn": return torch._C._nn.mkldnn_linear(h.to_mkldnn(), head_mkldnn, None).to_dense()  # logits [B, V]
    return h @ head_in_out["blas"]

@torch.no_grad()
def generate(prompts, tokens, temperature, seed, mode):
    B, P = len(prompts), max(len(p) for p in prompts)
    if P + tokens > S: raise ValueError(f"a prompt of {P} tokens plus {tokens} new ones exceeds the block of {S}")
    pad = torch.tensor([P - len(p) for p in prompts])
    ids = torch.tensor([[0] * (P - len(p)) + p for p in prompts])
    col = torch.arange(P + tokens)
    valid = col[None, :] >= pad[:, None]  # [B, P + tokens]: keys that are not padding
    pos = (col[None, :] - pad[:, None]).clamp(min=0)
    ks = [torch.zeros(B, H, P + tokens, D) for _ in range(L)]; vs = [torch.zeros(B, H, P + tokens, D) for _ in range(L)]
    causal = torch.tril(torch.ones(P, P, dtype=torch.bool))
    keep = (causal[None] & valid[:, None, :P]) | torch.eye(P, dtype=torch.bool)[None]  # a padding query sees itself (its output is unread)
    logits = forward(ids, pos[:, :P], keep[:, None], ks, vs, 0, mode)
    g = torch.Generator().manual_seed(seed)
    out = []
    for i in range(tokens):
        nxt = logits.argmax(-1) if temperature == 0 else torch.multinomial(F.softmax(logits / temperature, dim=-1), 1, generator=g)[:, 0]
        out.append(nxt)
        if i + 1 == tokens: break
        at = P + i
        logits = forward(nxt[:, None], pos[:, at:at + 1], valid[:, None, None, :at + 1], ks, vs, at, mode)
    return torch.stack(out, 1).tolist()

print(json.dumps(torch_info.describe()), flush=True)
for line in sys.stdin:
    r = json.loads(line)
    torch.set_num_threads(int(r.get("threads", torch.get_num_threads())))
    t0 = time.perf_counter()
    mode = r.get("linear", "blas")
    if mode not in ("blas", "mkldnn"): print(json.dumps(dict(error=f'linear must be "blas" or "mkldnn", got {mode!r}')), flush=True); continue
    try: toks = generate(r["prompts"], int(r["tokens"]), float(r.get("temperature", 1)), int(r.get("seed", 0)), mode)
    except ValueError as e: print(json.dumps(dict(error=str(e))), flush=True); continue
    print(json.dumps(dict(seconds=time.perf_counter() - t0, threads=torch.get_num_threads(), linear=mode, tokens=toks)), flush=True)
