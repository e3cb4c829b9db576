// A plain float64 GPT-2 forward pass (HF GPT2LMHeadModel semantics) over a parameter map, written
// loop by loop with no engine: the independent answer the engine's graphs are checked against.
// Slow (O(T^2 C + T C^2) scalar loops): for tests on tiny models only.
import type { GptModelConfig } from "./config.ts";

type P = ReadonlyMap<string, Float32Array>;

function get(p: P, name: string): Float32Array | null {
  return p.get(name) ?? null;
}

/** x [T, C] -> layer norm over C with weight w and optional bias b. */
function layerNorm(x: number[][], w: Float32Array, b: Float32Array | null, eps: number): number[][] {
  return x.map((row) => {
    const mean = row.reduce((a, v) => a + v, 0) / row.length;
    const v = row.reduce((a, u) => a + (u - mean) ** 2, 0) / row.length;
    const inv = 1 / Math.sqrt(v + eps);
    return row.map((u, c) => (u - mean) * inv * (w[c] as number) + (b ? (b[c] as number) : 0));
  });
}

/** x [T, I] @ W [I, O] (+ b [O]): HF Conv1D. */
function linear(x: number[][], w: Float32Array, b: Float32Array | null, I: number, O: number): number[][] {
  return x.map((row) => {
    const out = new Array<number>(O).fill(0);
    for (let i = 0; i < I; i++) {
      const xi = row[i] as number;
      for (let o = 0; o < O; o++) out[o] = (out[o] as number) + xi * (w[i * O + o] as number);
    }
    return b ? out.map((v, o) => v + (b[o] as number)) : out;
  });
}

const gelu = (x: number): number => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));

/** tokens [T] -> logits [T][V] */
export function referenceLogits(cfg: GptModelConfig, p: P, tokens: number[]): number[][] {
  const { nEmbd: C, nHead: H, vocabSize: V, layerNormEps: eps } = cfg;
  const D = C / H;
  const T = tokens.length;
  const wte = get(p, "transformer.wte.weight") as Float32Array;
  const wpe = get(p, "transformer.wpe.weight") as Float32Array;
  let x = tokens.map((tok, t) =>
    Array.from({ length: C }, (_, c) => (wte[tok * C + c] as number) + (wpe[t * C + c] as number)),
  );
  for (let l = 0; l < cfg.nLayer; l++) {
    const h = `transformer.h.${l}`;
    const a = layerNorm(x, get(p, `${h}.ln_1.weight`)!, get(p, `${h}.ln_1.bias`), eps);
    const qkv = linear(a, get(p, `${h}.attn.c_attn.weight`)!, get(p, `${h}.attn.c_attn.bias`), C, 3 * C);
    const y = x.map(() => new Array<number>(C).fill(0));
    for (let hd = 0; hd < H; hd++) {
      for (let t = 0; t < T; t++) {
        const scores: number[] = [];
        for (let s = 0; s <= t; s++) {
          let dot = 0;
          for (let d = 0; d < D; d++) dot += (qkv[t]![hd * D + d] as number) * (qkv[s]![C + hd * D + d] as number);
          scores.push(dot / Math.sqrt(D));
        }
        const m = Math.max(...scores);
        const e = scores.map((v) => Math.exp(v - m));
        const z = e.reduce((u, v) => u + v, 0);
        for (let s = 0; s <= t; s++)
          for (let d = 0; d < D; d++)
            y[t]![hd * D + d]! += ((e[s] as number) / z) * (qkv[s]![2 * C + hd * D + d] as number);
      }
    }
    const proj = linear(y, get(p, `${h}.attn.c_proj.weight`)!, get(p, `${h}.attn.c_proj.bias`), C, C);
    x = x.map((row, t) => row.map((v, c) => v + (proj[t]![c] as number)));
    const m = layerNorm(x, get(p, `${h}.ln_2.weight`)!, get(p, `${h}.ln_2.bias`), eps);
    const fc = linear(m, get(p, `${h}.mlp.c_fc.weight`)!, get(p, `${h}.mlp.c_fc.bias`), C, 4 * C).map((r) =>
      r.map(gelu),
    );
    const out = linear(fc, get(p, `${h}.mlp.c_proj.weight`)!, get(p, `${h}.mlp.c_proj.bias`), 4 * C, C);
    x = x.map((row, t) => row.map((v, c) => v + (out[t]![c] as number)));
  }
  const f = layerNorm(x, get(p, "transformer.ln_f.weight")!, get(p, "transformer.ln_f.bias"), eps);
  const head = get(p, "lm_head.weight") ?? wte; // [V, C]
  return f.map((row) =>
    Array.from({ length: V }, (_, v) => row.reduce((acc, u, c) => acc + u * (head[v * C + c] as number), 0)),
  );
}
