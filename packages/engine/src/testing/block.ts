// A GPT-2 style pre-LN transformer block written against the engine, for tests: the whole-model
// gradient check and the sequence-reversal task. Weights are passed in, so the same code runs with
// float64 inputs (finite differences) and float32 params (training).
import { causalBias, gelu, layerNorm } from "../composites.ts";
import type { Graph, Tensor } from "../tensor.ts";

export interface BlockWeights {
  ln1w: Tensor; // [C]
  ln1b: Tensor; // [C]
  attn: Tensor; // [C, 3C] (q, k, v)
  proj: Tensor; // [C, C]
  ln2w: Tensor; // [C]
  ln2b: Tensor; // [C]
  fc: Tensor; // [C, 4C]
  fcProj: Tensor; // [4C, C]
}

export const blockShapes = (C: number): Record<keyof BlockWeights, number[]> => ({
  ln1w: [C],
  ln1b: [C],
  attn: [C, 3 * C],
  proj: [C, C],
  ln2w: [C],
  ln2b: [C],
  fc: [C, 4 * C],
  fcProj: [4 * C, C],
});

/** Causal self-attention: x [B,T,C] -> [B,T,C], H heads of size D = C/H. */
export function attention(g: Graph, x: Tensor, wAttn: Tensor, wProj: Tensor, H: number): Tensor {
  const [B, T, C] = x.shape as [number, number, number];
  const D = C / H;
  const qkv = x.matmul(wAttn); // [B,T,3C]
  const heads = (i: number) =>
    qkv
      .slice(2, i * C, (i + 1) * C)
      .reshape([B, T, H, D])
      .transpose([0, 2, 1, 3]); // [B,H,T,D]
  const att = heads(0)
    .matmul(heads(1).mT())
    .mul(1 / Math.sqrt(D)); // [B,H,T,T]
  const probs = att.add(causalBias(g, T, x.dtype === "float64" ? "float64" : "float32")).softmax(-1);
  const y = probs.matmul(heads(2)).transpose([0, 2, 1, 3]).reshape([B, T, C]); // [B,T,C]
  return y.matmul(wProj);
}

export function block(g: Graph, x: Tensor, w: BlockWeights, H: number): Tensor {
  const a = x.add(attention(g, layerNorm(x, w.ln1w, w.ln1b), w.attn, w.proj, H));
  return a.add(gelu(layerNorm(a, w.ln2w, w.ln2b).matmul(w.fc)).matmul(w.fcProj));
}
