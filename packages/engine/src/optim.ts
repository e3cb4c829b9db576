// Optimizers as traced updates on the FLAT parameter vector [P] (llm.c style): one handful of
// large elementwise nodes per step instead of a handful per parameter. Decayed parameters occupy
// the prefix [0, decayed) of the layout, so decoupled weight decay is one slice.

import { BLOCK } from "./layout.ts";
import { TraceError } from "./ops.ts";
import { concat, type Tensor } from "./tensor.ts";

export interface UpdateArgs {
  /** [P] parameters and raw gradients */
  p: Tensor;
  g: Tensor;
  /** scalar applied to g first (clipping, normalisation), folded into the optimizer's own scalars */
  gScale: Tensor | null;
  /** [P] each, in the order of `Optimizer.state` */
  state: Tensor[];
  /** scalars (float32): learning rate, 1-based step */
  lr: Tensor;
  step: Tensor;
  /** parameters [0, decayed) get weight decay */
  decayed: number;
}

export interface Optimizer {
  kind: "adamw" | "sgd";
  /** flat state buffers, each [P]; checkpoint names are `${state}.${param name}` */
  state: string[];
  update(a: UpdateArgs): { p: Tensor; state: Tensor[] };
}

export interface AdamWConfig {
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
}

/**
 * p *= (1 - lr * wd) on the decayed prefix only (decoupled decay, as in PyTorch's AdamW). The layout
 * pads both regions to BLOCK, so p viewed as [P/BLOCK, BLOCK] takes one broadcast multiply by a
 * [P/BLOCK, 1] column of factors: one pass, no slice and concat.
 */
function decay(p: Tensor, lr: Tensor, wd: number, decayed: number): Tensor {
  if (wd === 0 || decayed === 0) return p;
  const P = p.shape[0] as number;
  const factor = lr.mul(-wd).add(1);
  if (decayed === P) return p.mul(factor);
  if (P % BLOCK !== 0 || decayed % BLOCK !== 0)
    return concat([p.slice(0, 0, decayed).mul(factor), p.slice(0, decayed, P)], 0);
  const [rows, dRows] = [P / BLOCK, decayed / BLOCK];
  const column = concat([factor.reshape([1, 1]).expand([dRows, 1]), p.graph.const(1, [rows - dRows, 1])], 0); // [rows,1]
  return p.reshape([rows, BLOCK]).mul(column).reshape([P]);
}

/** AdamW with bias correction computed in-graph from the step input. */
export function adamw(cfg: AdamWConfig = {}): Optimizer {
  const b1 = cfg.beta1 ?? 0.9;
  const b2 = cfg.beta2 ?? 0.999;
  const eps = cfg.eps ?? 1e-8;
  const wd = cfg.weightDecay ?? 0;
  for (const [k, v] of Object.entries({ beta1: b1, beta2: b2 })) {
    if (!(v >= 0 && v < 1)) throw new TraceError("adamw", `${k} must be in [0, 1), got ${v}`);
  }
  return {
    kind: "adamw",
    state: ["adam.m", "adam.v"],
    update({ p, g, gScale, state: [m, v], lr, step, decayed }) {
      if (!m || !v) throw new TraceError("adamw", "needs state [m, v]");
      // PyTorch's AdamW: m' = b1 m + (1-b1) g; v' = b2 v + (1-b2) g^2;
      // p' = p (1 - lr wd) - (lr / bc1) m' / (sqrt(v') / sqrt(bc2) + eps), bc_i = 1 - b_i^t.
      // Rearranged so every scalar folds into one multiply: gs = (1-b1) g, k = (1-b2)/(1-b1)^2,
      // and m'/(sqrt(v')/sqrt(bc2) + eps) = sqrt(bc2) m' / (sqrt(v') + eps sqrt(bc2)).
      const bc1 = p.graph.const(b1).pow(step).neg().add(1);
      const sbc2 = p.graph.const(b2).pow(step).neg().add(1).sqrt();
      const gs = g.mul(gScale ? gScale.mul(1 - b1) : 1 - b1); // [P], one pass for clipping and (1 - b1)
      const m2 = m.mul(b1).add(gs); // [P]
      const v2 = v.mul(b2).add(gs.mul(gs).mul((1 - b2) / (1 - b1) ** 2)); // [P]
      const upd = m2.div(v2.sqrt().add(sbc2.mul(eps))); // [P]
      const p2 = decay(p, lr, wd, decayed).sub(upd.mul(lr.mul(sbc2).div(bc1)));
      return { p: p2, state: [m2, v2] };
    },
  };
}

/** SGD with optional momentum (PyTorch form: buf = mu * buf + g; p -= lr * buf) and decoupled decay. */
export function sgd(cfg: { momentum?: number; weightDecay?: number } = {}): Optimizer {
  const mu = cfg.momentum ?? 0;
  const wd = cfg.weightDecay ?? 0;
  return {
    kind: "sgd",
    state: mu > 0 ? ["sgd.momentum"] : [],
    update({ p, g: raw, gScale, state: [buf], lr, decayed }) {
      const g = gScale ? raw.mul(gScale) : raw;
      const p1 = decay(p, lr, wd, decayed);
      if (mu > 0 && buf) {
        const b2 = buf.mul(mu).add(g);
        return { p: p1.sub(b2.mul(lr)), state: [b2] };
      }
      return { p: p1.sub(g.mul(lr)), state: [] };
    },
  };
}

/**
 * The scalar that makes `g * preScale` have global L2 norm at most `maxNorm`, times preScale (so the
 * optimizer applies both in one pass), and that norm before clipping. Null scale: nothing to apply.
 * `g` is the flat gradient or the list of tensors it is held in.
 */
export function clipByGlobalNorm(
  g: Tensor | Tensor[],
  maxNorm: number | undefined,
  preScale?: Tensor,
): { scale: Tensor | null; norm: Tensor } {
  // one pass over [P], or one over each of the tensors the gradient is held in
  const raw = (Array.isArray(g) ? g.map((t) => t.sumSquares()).reduce((a, b) => a.add(b)) : g.sumSquares()).sqrt();
  const norm = preScale ? raw.mul(preScale) : raw;
  if (maxNorm === undefined) return { scale: preScale ?? null, norm };
  const clip = norm.add(1e-6).reciprocal().mul(maxNorm).minimum(1);
  return { scale: preScale ? clip.mul(preScale) : clip, norm };
}
