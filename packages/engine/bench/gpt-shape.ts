// A GPT-2-shaped train step for benchmarks (the real model lives in @baton/model): pre-LN blocks
// without biases, tanh GELU, learned positions, tied embeddings, as in nanoGPT's bias=False runs.
import {
  adamw,
  compileTrainStep,
  Graph,
  nn,
  normal,
  ones,
  type SessionConfig,
  type Tensor,
  type TrainStep,
} from "../src/index.ts";

export interface GptShape {
  name: string;
  L: number;
  H: number;
  C: number;
  T: number;
  B: number;
  V: number;
}

export const SHAPES: Record<string, GptShape> = {
  "nanogpt-baby": { name: "nanogpt-baby", L: 4, H: 4, C: 128, T: 64, B: 12, V: 65 },
  "nanogpt-shakespeare-char": { name: "nanogpt-shakespeare-char", L: 6, H: 6, C: 384, T: 256, B: 64, V: 65 },
  "gpt2-124m": { name: "gpt2-124m", L: 12, H: 12, C: 768, T: 1024, B: 1, V: 50257 },
};

/** nanoGPT's estimate: 6 N + 12 L C T FLOPs per token, N = non-embedding parameters (+ lm head via tying). */
export function flopsPerToken(s: GptShape): number {
  const nonEmbedding = s.L * 12 * s.C * s.C + s.L * 2 * s.C + s.C;
  return 6 * nonEmbedding + 12 * s.L * s.C * s.T;
}

/**
 * `unfused`: GELU and layer norm from primitives (the reference), to measure what fusing wins.
 * `dropout`: nanoGPT's placement (embeddings, attention probabilities, both residual branches).
 */
export function traceGpt(
  s: GptShape,
  opts: { unfused?: boolean; dropout?: number } = {},
): { g: Graph; loss: { sum: Tensor; count: Tensor } } {
  const drop = (t: Tensor) => nn.dropout(t, opts.dropout ?? 0);
  const layerNorm = opts.unfused ? nn.layerNormFromPrimitives : nn.layerNorm;
  const gelu = opts.unfused ? nn.geluFromPrimitives : nn.gelu;
  const { L, H, C, T, B, V } = s;
  const D = C / H;
  const g = new Graph();
  const idx = g.input("tokens", [B, T], "int64");
  const tgt = g.input("targets", [B * T], "int64");
  const std = 0.02;
  const projStd = 0.02 / Math.sqrt(2 * L);
  const wte = g.param("transformer.wte.weight", [V, C], { init: normal(std) });
  const wpe = g.param("transformer.wpe.weight", [T, C], { init: normal(std) });
  const bias = nn.causalBias(g, T); // [T,T] 0 or -1e9
  let x = drop(wte.gather(idx).add(wpe.gather(nn.arange(g, T)))); // [B,T,C]
  for (let l = 0; l < L; l++) {
    const p = `transformer.h.${l}`;
    const a = layerNorm(x, g.param(`${p}.ln_1.weight`, [C], { init: ones() }), null);
    const qkv = a.matmul(g.param(`${p}.attn.c_attn.weight`, [C, 3 * C], { init: normal(std) })); // [B,T,3C]
    const heads = (i: number) =>
      qkv
        .slice(2, i * C, (i + 1) * C)
        .reshape([B, T, H, D])
        .transpose([0, 2, 1, 3]); // [B,H,T,D]
    const att = heads(0)
      .mul(1 / Math.sqrt(D))
      .matmul(heads(1).mT()); // [B,H,T,T]; scale q ([..,T,D]), not the scores
    // attention dropout as the model does it: the 0/1 mask on the probabilities, 1/(1-p) on the 4x smaller values
    const p0 = opts.dropout ?? 0;
    const probs = nn.dropoutUnscaled(att.add(bias).softmax(-1), p0); // [B,H,T,T]
    const values = p0 > 0 ? heads(2).mul(1 / (1 - p0)) : heads(2);
    const y = probs.matmul(values).transpose([0, 2, 1, 3]).reshape([B, T, C]); // [B,T,C]
    x = x.add(drop(y.matmul(g.param(`${p}.attn.c_proj.weight`, [C, C], { init: normal(projStd) }))));
    const m = layerNorm(x, g.param(`${p}.ln_2.weight`, [C], { init: ones() }), null);
    const h = gelu(m.matmul(g.param(`${p}.mlp.c_fc.weight`, [C, 4 * C], { init: normal(std) }))); // [B,T,4C]
    x = x.add(drop(h.matmul(g.param(`${p}.mlp.c_proj.weight`, [4 * C, C], { init: normal(projStd) }))));
  }
  const lnf = layerNorm(x, g.param("transformer.ln_f.weight", [C], { init: ones() }), null);
  const logits = lnf.reshape([B * T, C]).matmul(wte.mT()); // [B*T, V]
  return { g, loss: nn.crossEntropy(logits, tgt) };
}

export async function compileGpt(
  s: GptShape,
  opts: SessionConfig & { unfused?: boolean; dropout?: number } = {},
): Promise<{ step: TrainStep; traceMs: number }> {
  const t0 = performance.now();
  const { unfused, dropout, ...session } = opts;
  const { g, loss } = traceGpt(s, { unfused: unfused ?? false, dropout: dropout ?? 0 });
  const traceMs = performance.now() - t0;
  const step = await compileTrainStep({
    graph: g,
    loss,
    optimizer: adamw({ beta1: 0.9, beta2: 0.99, weightDecay: 0.1 }),
    clipNorm: 1,
    seed: 1337,
    ...session,
  });
  return { step, traceMs };
}
