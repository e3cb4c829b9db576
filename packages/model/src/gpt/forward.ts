// The GPT-2 forward pass, written once for every graph that needs it: training (full causal
// attention, dropout), evaluation and logits (no dropout), and one-token decoding with a KV cache.
// Glossary: B batch, T sequence, C width, H heads, D = C / H head size, V vocab, S cache length.
import { concat, type Graph, nn, type Tensor, where } from "@baton/engine";
import type { GptModelConfig } from "./config.ts";
import type { BlockParams, GptParams, LinearParams, NormParams } from "./params.ts";

/** The cache of one layer for one-token decoding; see API.md of the engine for the pattern. */
export interface LayerCache {
  pastKey: Tensor; // [B, H, S, D]
  pastValue: Tensor; // [B, H, S, D]
}

export interface DecodeState {
  /** int64 [B]: where each row's new token goes (rows of a batch may be at different lengths) */
  position: Tensor;
  /** int64 [S] constant 0..S-1 */
  slots: Tensor;
  layers: LayerCache[];
}

export interface ForwardOptions {
  /** dropout rate for embeddings, attention and residuals (0 at evaluation and sampling) */
  dropout: number;
  /** int64 [T] or [B, T]; default 0..T-1 (decoding: the position input). Packed rows restart at 0 per example. */
  positions?: Tensor;
  /**
   * int64 [B, T]: attention stays inside equal ids, so examples packed into one row do not see each
   * other (default: one segment per row)
   */
  segments?: Tensor;
  /** one-token decoding against a KV cache (T must be 1) */
  decode?: DecodeState;
  /** return every layer's keys and values [B, H, T, D] as `present` (a prefill fills a cache at once) */
  keepCache?: boolean;
}

export interface ForwardResult {
  hidden: Tensor; // [B, T, C] after the final norm
  /** decoding: this token's key and value [B, H, 1, D] per layer, for the caller to write at its position; keepCache: every position's */
  present: LayerCache[];
}

const linear = (x: Tensor, p: LinearParams): Tensor => nn.linear(x, p.w, p.b);
const norm = (x: Tensor, p: NormParams, eps: number): Tensor => nn.layerNorm(x, p.w, p.b, eps);

/** The causal mask, plus the masked score between keys and queries of different segments: [T, T] or [B, 1, T, T]. */
function attentionBias(g: Graph, T: number, segments: Tensor | undefined): Tensor {
  const causal = nn.causalBias(g, T);
  if (!segments) return causal;
  const [B] = segments.shape as [number, number];
  const same = segments.reshape([B, 1, T, 1]).eq(segments.reshape([B, 1, 1, T])); // bool [B,1,T,T]
  return causal.add(where(same, 0, nn.MASKED_SCORE)); // once or twice the masked score: softmax gives 0 either way
}

function attention(
  x: Tensor,
  p: BlockParams,
  cfg: GptModelConfig,
  opts: ForwardOptions,
  bias: Tensor | null,
  cache?: LayerCache,
): { y: Tensor; present?: LayerCache } {
  const [B, T, C] = x.shape as [number, number, number];
  const H = cfg.nHead;
  const D = C / H;
  const qkv = linear(x, p.attn); // [B,T,3C]
  const heads = (i: number) =>
    qkv
      .slice(2, i * C, (i + 1) * C)
      .reshape([B, T, H, D])
      .transpose([0, 2, 1, 3]); // [B,H,T,D]
  const q = heads(0).mul(1 / Math.sqrt(D)); // scale q ([.., T, D]) rather than the scores ([.., T, T])
  const k = heads(1);
  let v = heads(2);
  if (cache && opts.decode) {
    // The new token attends to the cache's written slots and to itself. The cache is read, never
    // rewritten here: only this token's key and value leave the graph, and the caller writes them
    // at the row's position (a whole new [B,H,S,D] cache per token would cost B times a row's work).
    const S = cache.pastKey.shape[2] as number;
    const { position, slots } = opts.decode;
    const written = slots
      .reshape([1, S])
      .lt(position.reshape([B, 1]))
      .reshape([B, 1, 1, S]);
    const past = where(written, q.matmul(cache.pastKey.mT()), nn.MASKED_SCORE); // [B,H,1,S]
    const self = q.mul(k).sum(-1, true); // [B,H,1,1]
    const probs = concat([past, self], 3).softmax(-1); // [B,H,1,S+1]
    const y = probs
      .slice(3, 0, S)
      .matmul(cache.pastValue)
      .add(probs.slice(3, S, S + 1).mul(v)); // [B,H,1,D]
    return { y: linear(y.transpose([0, 2, 1, 3]).reshape([B, T, C]), p.proj), present: { pastKey: k, pastValue: v } };
  }
  let scores = q.matmul(k.mT()); // [B,H,T,T]
  if (bias) scores = scores.add(bias);
  const present = opts.keepCache ? { pastKey: k, pastValue: v } : undefined;
  // dropout's 1/(1-p) goes on the values ([B,H,T,D]) instead of the probabilities ([B,H,T,T]): the same product
  const probs = nn.dropoutUnscaled(scores.softmax(-1), opts.dropout);
  if (opts.dropout > 0) v = v.mul(1 / (1 - opts.dropout));
  const y = probs.matmul(v).transpose([0, 2, 1, 3]).reshape([B, T, C]); // [B,T,C]
  return { y: nn.dropout(linear(y, p.proj), opts.dropout), ...(present ? { present } : {}) };
}

function mlp(x: Tensor, p: BlockParams, opts: ForwardOptions): Tensor {
  const h = nn.gelu(linear(x, p.fc)); // [B,T,4C]
  return nn.dropout(linear(h, p.fcProj), opts.dropout); // [B,T,C]
}

/** Token ids [B, T] (int64) -> final hidden states [B, T, C] (pre-LN blocks, learned positions). */
export function gptForward(
  g: Graph,
  p: GptParams,
  cfg: GptModelConfig,
  tokens: Tensor,
  opts: ForwardOptions,
): ForwardResult {
  const [B, T] = tokens.shape as [number, number];
  if (T > cfg.blockSize)
    throw new Error(`gptForward: sequence of ${T} tokens is longer than the block size ${cfg.blockSize}`);
  const positions = opts.positions ?? opts.decode?.position.reshape([B, 1]) ?? nn.arange(g, T);
  let x = nn.dropout(p.wte.gather(tokens).add(p.wpe.gather(positions)), opts.dropout); // [B,T,C]
  if (opts.segments && opts.decode)
    throw new Error("gptForward: segments apply to whole sequences, not to one-token decoding");
  const bias = opts.decode || (T === 1 && !opts.segments) ? null : attentionBias(g, T, opts.segments);
  const present: LayerCache[] = [];
  p.blocks.forEach((b, l) => {
    const a = attention(norm(x, b.ln1, cfg.layerNormEps), b, cfg, opts, bias, opts.decode?.layers[l]);
    if (a.present) present.push(a.present);
    x = x.add(a.y);
    x = x.add(mlp(norm(x, b.ln2, cfg.layerNormEps), b, opts));
  });
  return { hidden: norm(x, p.lnf, cfg.layerNormEps), present };
}

/** Hidden states [..., C] -> logits [..., V] through the (tied) LM head. */
export function lmHead(p: GptParams, hidden: Tensor): Tensor {
  return hidden.matmul((p.lmHead ?? p.wte).mT());
}
