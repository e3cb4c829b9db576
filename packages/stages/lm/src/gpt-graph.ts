// The GPT-2 forward pass the supervised stages train and sample, traced on the engine with the HF
// GPT-2 parameter names of @baton/model's gptTensorSpecs (so a stage's weights are a checkpoint
// without renaming). Pre-LN blocks, tanh GELU, learned positions, tied embeddings.
//
// Dimension glossary: B batch, T block (sequence), C width, H heads, D = C / H, V vocab, N = B*T.
//
// Two inputs beyond the tokens make one graph serve every stage:
//   positions [B,T] int64  - restart at 0 for each packed document, so a document is seen at the
//                            positions it has at sampling time;
//   segments  [B,T] int64  - attention stays inside equal segment ids (packing without attention
//                            across documents); pretraining feeds all ones.
// Weights a caller freezes (a stage that trains only the last layers) become plain float inputs of
// the same name instead of parameters: no gradient, no optimizer state, fed every run.
import { type Graph, type Tensor, nn, normal, ones, where, zeros } from "@baton/engine";
import { type GptConfig, gptTensorSpecs } from "@baton/model";

export interface GptInputs {
  tokens: Tensor; // [B,T] int64
  positions: Tensor; // [B,T] int64
  segments: Tensor; // [B,T] int64
}

export interface GptGraphOptions {
  /** false for a weight fed as an input (frozen). Default: every weight trains. */
  trainable?: (name: string) => boolean;
  /** Apply dropout (train graphs only). */
  train?: boolean;
}

/** Declares the model's inputs on g: tokens, positions and segments, all [B,T] int64. */
export function gptInputs(g: Graph, B: number, T: number): GptInputs {
  return {
    tokens: g.input("tokens", [B, T], "int64"),
    positions: g.input("positions", [B, T], "int64"),
    segments: g.input("segments", [B, T], "int64"),
  };
}

/** Names of the weights fed as inputs (frozen) under `trainable`. */
export function frozenWeights(config: GptConfig, trainable: (name: string) => boolean): { name: string; shape: number[] }[] {
  return gptTensorSpecs(config).filter((s) => !trainable(s.name));
}

/** Logits [N, V] of the GPT for `inputs` (N = B*T). */
export function gptLogits(g: Graph, config: GptConfig, inputs: GptInputs, options: GptGraphOptions = {}): Tensor {
  const { nLayer: L, nHead: H, nEmbd: C, vocabSize: V, layerNormEps: eps } = config;
  const [B, T] = inputs.tokens.shape as [number, number];
  const trainable = options.trainable ?? (() => true);
  const p = options.train ? config.dropout : 0;
  const specs = new Map(gptTensorSpecs(config).map((s) => [s.name, s.shape]));
  const w = (name: string): Tensor => {
    const shape = specs.get(name);
    if (!shape) throw new Error(`gpt graph: no parameter "${name}" in this config (bias: ${config.bias})`);
    if (!trainable(name)) return g.input(name, shape, "float32");
    const isNorm = /\.ln_\d\.|ln_f/.test(name);
    const isBias = name.endsWith(".bias");
    // GPT-2's init: N(0, 0.02), residual projections scaled by 1/sqrt(2L); norms 1, biases 0.
    const std = /c_proj\.weight$/.test(name) ? 0.02 / Math.sqrt(2 * L) : 0.02;
    const init = isNorm && !isBias ? ones() : isBias ? zeros() : normal(std);
    return g.param(name, shape, { init, decay: shape.length >= 2 });
  };
  const b = (name: string): Tensor | null => (config.bias ? w(name) : null);

  // attention allowed where key s <= query t and both lie in the same segment: [B,1,T,T]
  const causal = nn.causalMask(g, T).reshape([1, 1, T, T]);
  const same = inputs.segments.reshape([B, 1, T, 1]).eq(inputs.segments.reshape([B, 1, 1, T]));

  const wte = w("transformer.wte.weight"); // [V,C]
  let x = nn.dropout(wte.gather(inputs.tokens).add(w("transformer.wpe.weight").gather(inputs.positions)), p); // [B,T,C]
  const D = C / H;
  for (let l = 0; l < L; l++) {
    const h = `transformer.h.${l}`;
    const a = nn.layerNorm(x, w(`${h}.ln_1.weight`), b(`${h}.ln_1.bias`), eps);
    const qkv = nn.linear(a, w(`${h}.attn.c_attn.weight`), b(`${h}.attn.c_attn.bias`)); // [B,T,3C]
    const heads = (i: number) => qkv.slice(2, i * C, (i + 1) * C).reshape([B, T, H, D]).transpose([0, 2, 1, 3]); // [B,H,T,D]
    const att = heads(0).matmul(heads(1).mT()).mul(1 / Math.sqrt(D)); // [B,H,T,T]
    const probs = where(causal, where(same, att, -1e9), -1e9).softmax(-1);
    const y = probs.matmul(heads(2)).transpose([0, 2, 1, 3]).reshape([B, T, C]); // [B,T,C]
    x = x.add(nn.dropout(nn.linear(y, w(`${h}.attn.c_proj.weight`), b(`${h}.attn.c_proj.bias`)), p));
    const m = nn.layerNorm(x, w(`${h}.ln_2.weight`), b(`${h}.ln_2.bias`), eps);
    const f = nn.gelu(nn.linear(m, w(`${h}.mlp.c_fc.weight`), b(`${h}.mlp.c_fc.bias`))); // [B,T,4C]
    x = x.add(nn.dropout(nn.linear(f, w(`${h}.mlp.c_proj.weight`), b(`${h}.mlp.c_proj.bias`)), p));
  }
  const out = nn.layerNorm(x, w("transformer.ln_f.weight"), b("transformer.ln_f.bias"), eps).reshape([B * T, C]);
  const head = config.tieWordEmbeddings ? wte : w("lm_head.weight"); // [V,C]
  const logits = out.matmul(head.mT()); // [N,V]
  if (logits.shape[1] !== V) throw new Error(`gpt graph: logits have ${logits.shape[1]} columns, expected V = ${V}`);
  return logits;
}

/**
 * Masked next-token loss: targets [N] int64, mask [N] float32 (1 = this target is trained). The same
 * graph serves pretraining (mask all ones) and the supervised stages (completion / assistant tokens).
 */
export function gptLoss(g: Graph, config: GptConfig, B: number, T: number, options: GptGraphOptions = {}) {
  const inputs = gptInputs(g, B, T);
  const targets = g.input("targets", [B * T], "int64");
  const mask = g.input("mask", [B * T], "float32");
  const logits = gptLogits(g, config, inputs, options);
  return nn.crossEntropy(logits, targets, { mask });
}
