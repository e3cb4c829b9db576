// Composite layers written from primitives: their gradients come from the primitive rules, so they
// need no rule of their own. Shapes: N rows, V classes, C features.
import { TraceError } from "./ops.ts";
import { type Graph, type Tensor, where } from "./tensor.ts";

/**
 * GELU, tanh form (GPT-2's). A fused primitive (ONNX Gelu, own gradient rule): one node instead of
 * eight elementwise passes forward. `geluFromPrimitives` is the same function, kept as the reference.
 */
export function gelu(x: Tensor): Tensor {
  return x.gelu();
}

/** 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) */
export function geluFromPrimitives(x: Tensor): Tensor {
  const inner = x
    .mul(x)
    .mul(0.044715)
    .add(1)
    .mul(x)
    .mul(Math.sqrt(2 / Math.PI));
  return x.mul(inner.tanh().add(1)).mul(0.5);
}

/**
 * Layer norm over the last axis; w, b are [C]; biased variance, as in PyTorch. A fused primitive
 * (ONNX LayerNormalization, own gradient rule); `layerNormFromPrimitives` is the reference.
 */
export function layerNorm(x: Tensor, w: Tensor, b: Tensor | null, eps = 1e-5): Tensor {
  return x.graph.apply("layerNorm", b ? [x, w, b] : [x, w], { eps });
}

export function layerNormFromPrimitives(x: Tensor, w: Tensor, b: Tensor | null, eps = 1e-5): Tensor {
  const xc = x.sub(x.mean(-1, true));
  const inv = xc.mul(xc).mean(-1, true).add(eps).sqrt().reciprocal(); // 1/sqrt(var + eps)
  const y = xc.mul(inv).mul(w);
  return b ? y.add(b) : y;
}

/** RMS norm over the last axis (Llama). */
export function rmsNorm(x: Tensor, w: Tensor, eps = 1e-6): Tensor {
  return x.mul(x.mul(x).mean(-1, true).add(eps).sqrt().reciprocal()).mul(w);
}

/** x [..., in] @ W [in, out] (+ b [out]): HF GPT-2 Conv1D layout. */
export function linear(x: Tensor, w: Tensor, b?: Tensor | null): Tensor {
  const y = x.matmul(w);
  return b ? y.add(b) : y;
}

/**
 * Inverted dropout; the mask is a pure function of (seed, step), so resume is exact. The mask is a
 * float tensor of 0 and 1/(1-p), applied by Mul forward and backward: onnxruntime's CPU Where is 4-5x
 * slower than its Mul on [B,H,T,T] attention probabilities (bench/profile.ts), which made the two
 * selects per layer a third of a `nanogpt-shakespeare-char` step. It keeps 4 bytes an element for the
 * backward pass instead of a 1-byte bool.
 */
export function dropout(x: Tensor, p: number): Tensor {
  if (p === 0) return x;
  return x.mul(keepMask(x, p).mul(1 / (1 - p)));
}

/**
 * Dropout without its 1/(1-p) rescale, which the caller applies to a smaller tensor downstream:
 * attention drops [B,H,T,T] probabilities and rescales the [B,H,T,D] values instead, one fewer pass
 * over the largest tensor of the step.
 */
export function dropoutUnscaled(x: Tensor, p: number): Tensor {
  return p === 0 ? x : x.mul(keepMask(x, p));
}

function keepMask(x: Tensor, p: number): Tensor {
  if (!(p > 0 && p < 1)) throw new TraceError("dropout", `p must be in [0, 1), got ${p}`);
  return x.graph.bernoulli([...x.shape], 1 - p).cast(x.dtype); // 0 or 1
}

/**
 * The attention score of a key a query may not see: "minus infinity" that stays finite, so a fully
 * masked row stays finite too, and softmax gives exactly 0 to it after its max shift. Every mask
 * (causal, packed segments, unwritten cache slots, the serving decoder's padding) uses this value.
 */
export const MASKED_SCORE = -1e9;

/**
 * The causal mask, float [T, T]: 0 where query t may attend to key s (s <= t), MASKED_SCORE above
 * the diagonal. Added to the scores it masks like a select would, but its gradient is free (an add).
 */
export function causalBias(g: Graph, T: number, dtype: "float32" | "float64" = "float32"): Tensor {
  const m = dtype === "float64" ? new Float64Array(T * T) : new Float32Array(T * T);
  for (let t = 0; t < T; t++) for (let s = t + 1; s < T; s++) m[t * T + s] = MASKED_SCORE;
  return g.const(m, [T, T]);
}

/** int64 [n] constant 0..n-1. */
export function arange(g: Graph, n: number): Tensor {
  return g.const(
    BigInt64Array.from({ length: n }, (_, i) => BigInt(i)),
    [n],
  );
}

/**
 * log(sigmoid(x)) without overflow or underflow: min(x, 0) - log(1 + exp(-|x|)). The Bradley-Terry
 * reward loss and DPO are -logSigmoid(margin).
 */
export function logSigmoid(x: Tensor): Tensor {
  const absX = x.maximum(x.neg());
  return x.minimum(0).sub(absX.neg().exp().add(1).log());
}

/** log p(target) per row: logits [N, V], int64 targets [N] -> [N] (scoring, DPO, PPO ratios). */
export function tokenLogProbs(logits: Tensor, targets: Tensor): Tensor {
  if (logits.rank !== 2 || targets.rank !== 1 || logits.shape[0] !== targets.shape[0]) {
    throw new TraceError(
      "tokenLogProbs",
      `want logits [N,V] and targets [N], got [${logits.shape.join(",")}] and [${targets.shape.join(",")}]`,
    );
  }
  const [N, V] = logits.shape as [number, number];
  // Each row's target entry, gathered from the flat [N*V] log-probabilities. Its gradient scatters
  // into one [N*V] buffer; a one-hot mask instead (where(hit, logSoftmax, 0).sum(-1)) held a mask,
  // the broadcast gradient and the masked one, 440 MB at gpt2-124m's 1,024 x 50,257 (BENCH.md).
  const clamped = targets.maximum(0).minimum(V - 1);
  const rows = logits.graph.const(
    BigInt64Array.from({ length: N }, (_, i) => BigInt(i * V)),
    [N],
  );
  const picked = logits
    .logSoftmax(-1)
    .reshape([N * V])
    .gather(clamped.add(rows)); // [N]
  return where(targets.eq(clamped), picked, 0); // 0 for a target outside [0, V)
}

export interface CrossEntropy {
  /** scalar: summed negative log-likelihood over counted tokens */
  sum: Tensor;
  /** scalar float: number of counted tokens */
  count: Tensor;
  /** scalar: sum / max(count, 1) */
  mean: Tensor;
}

/**
 * Cross-entropy of logits [N, V] against int64 targets [N]. Tokens whose target equals
 * `ignoreIndex`, or whose `mask` [N] (float, 0/1) is 0, are not counted.
 */
export function crossEntropy(
  logits: Tensor,
  targets: Tensor,
  opts: { ignoreIndex?: number; mask?: Tensor } = {},
): CrossEntropy {
  const g = logits.graph;
  if (logits.rank !== 2 || targets.rank !== 1 || logits.shape[0] !== targets.shape[0]) {
    throw new TraceError(
      "crossEntropy",
      `want logits [N,V] and targets [N], got [${logits.shape.join(",")}] and [${targets.shape.join(",")}]`,
    );
  }
  if (targets.dtype !== "int64") throw new TraceError("crossEntropy", `targets must be int64, got ${targets.dtype}`);
  const N = logits.shape[0] as number;
  const picked = tokenLogProbs(logits, targets); // [N]; 0 for an ignored target outside [0, V)
  let weight: Tensor | null = null; // [N] 0/1
  if (opts.ignoreIndex !== undefined) weight = where(targets.eq(opts.ignoreIndex), 0, g.const(1, [], logits.dtype));
  if (opts.mask) {
    if (opts.mask.rank !== 1 || opts.mask.shape[0] !== N)
      throw new TraceError("crossEntropy", `mask must be [${N}], got [${opts.mask.shape.join(",")}]`);
    const m = opts.mask.cast(logits.dtype);
    weight = weight ? weight.mul(m) : m;
  }
  const sum = (weight ? picked.mul(weight) : picked).sum().neg();
  const count = weight ? weight.sum() : g.const(N, [], logits.dtype);
  return { sum, count, mean: sum.div(count.maximum(1)) };
}
