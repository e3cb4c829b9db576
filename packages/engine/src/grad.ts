// Reverse-mode autodiff: ALL gradient rules in one table (a missing rule fails to compile), and a
// walker that visits nodes in reverse creation order (creation order is topological) accumulating
// cotangents with visible adds. Rules return one cotangent per input, in the broadcast (output)
// shape; the walker sums it back to the input's shape. `null` marks a non-differentiable input.
import { fmtShape, isFloat } from "./dtype.ts";
import { type Op, type OpAttrs, TraceError } from "./ops.ts";
import { concat, scatterAdd, type Tensor, where } from "./tensor.ts";

type Vjp<K extends Op> = (g: Tensor, out: Tensor, attrs: OpAttrs[K], ins: readonly Tensor[]) => (Tensor | null)[];

const _arg = (ins: readonly Tensor[], i: number): Tensor => ins[i] as Tensor;
const none = (): (Tensor | null)[] => [];
/** 1 - t as one Sub node (not Neg + Add) */
const oneMinus = (t: Tensor): Tensor => t.graph.const(1, [], t.dtype).sub(t);

export const VJP: { [K in Op]: Vjp<K> } = {
  input: none,
  param: none,
  const: none,
  random: none,
  bernoulli: none,
  neg: (g) => [g.neg()],
  exp: (g, out) => [g.mul(out)],
  log: (g, _o, _a, [x]) => [g.div(x as Tensor)],
  tanh: (g, out) => [g.mul(oneMinus(out.mul(out)))],
  sqrt: (g, out) => [g.div(out.mul(2))],
  reciprocal: (g, out) => [g.mul(out.mul(out)).neg()],
  sigmoid: (g, out) => [g.mul(out.mul(oneMinus(out)))],
  relu: (g, out) => [where(out.gt(0), g, 0)],
  sin: (g, _o, _a, [x]) => [g.mul((x as Tensor).cos())],
  cos: (g, _o, _a, [x]) => [g.mul((x as Tensor).sin()).neg()],
  add: (g) => [g, g],
  sub: (g) => [g, g.neg()],
  mul: (g, _o, _a, [a, b]) => [g.mul(b as Tensor), g.mul(a as Tensor)],
  div: (g, out, _a, [, b]) => [
    g.div(b as Tensor),
    g
      .mul(out)
      .div(b as Tensor)
      .neg(),
  ],
  // d/da a^b = b a^(b-1) (written so a = 0 stays finite); d/db a^b = a^b ln a (needs a > 0)
  pow: (g, out, _a, [a, b]) => [
    g.mul((a as Tensor).pow((b as Tensor).sub(1)).mul(b as Tensor)),
    g.mul(out.mul((a as Tensor).log())),
  ],
  // ties send the whole cotangent to `a`
  maximum: (g, _o, _a, [a, b]) => {
    const bWins = (b as Tensor).gt(a as Tensor);
    return [where(bWins, 0, g), where(bWins, g, 0)];
  },
  minimum: (g, _o, _a, [a, b]) => {
    const bWins = (b as Tensor).lt(a as Tensor);
    return [where(bWins, 0, g), where(bWins, g, 0)];
  },
  eq: () => [null, null],
  lt: () => [null, null],
  gt: () => [null, null],
  where: (g, _o, _a, [c]) => [null, where(c as Tensor, g, 0), where(c as Tensor, 0, g)],
  cast: (g, _o, _a, [x]) => [isFloat((x as Tensor).dtype) ? g.cast((x as Tensor).dtype) : null],
  stopGradient: () => [null],
  matmul: (g, _o, _a, [a, b]) => {
    const A = a as Tensor;
    const B = b as Tensor;
    // A [...,M,K] @ B [K,N] (a linear layer): fold the batch into rows so dB is ONE [K,rows]@[rows,N]
    // matmul instead of a batched one followed by a reduction over the batch.
    if (B.rank === 2 && A.rank > 2) {
      const K = A.shape[A.rank - 1] as number;
      const N = B.shape[1] as number;
      return [
        g.matmul(B.mT()),
        A.reshape([-1, K])
          .mT()
          .matmul(g.reshape([-1, N])),
      ];
    }
    return [g.matmul(B.mT()), A.mT().matmul(g)];
  },
  sum: (g, _o, a, [x]) => {
    const X = x as Tensor;
    const kept = X.shape.map((d, i) => (a.axes.includes(i) ? 1 : d));
    return [g.reshape(kept).expand([...X.shape])];
  },
  mean: (g, _o, a, [x]) => {
    const X = x as Tensor;
    const kept = X.shape.map((d, i) => (a.axes.includes(i) ? 1 : d));
    const n = a.axes.reduce((p, i) => p * (X.shape[i] as number), 1);
    return [
      g
        .mul(1 / n)
        .reshape(kept)
        .expand([...X.shape]),
    ];
  },
  sumSquares: (g, _o, a, [x]) => {
    const X = x as Tensor;
    const kept = X.shape.map((d, i) => (a.axes.includes(i) ? 1 : d));
    return [X.mul(g.reshape(kept)).mul(2)];
  },
  // ties share the cotangent (each tied max gets all of it); max is mostly used under stopGradient
  max: (g, out, a, [x]) => {
    const X = x as Tensor;
    const kept = X.shape.map((d, i) => (a.axes.includes(i) ? 1 : d));
    return [where(X.eq(out.reshape(kept)), g.reshape(kept), 0)];
  },
  reshape: (g, _o, _a, [x]) => [g.reshape([...(x as Tensor).shape])],
  transpose: (g, _o, a) => {
    const inv = a.perm.map((_, i) => a.perm.indexOf(i));
    return [g.transpose(inv)];
  },
  expand: (g) => [g],
  slice: (g, _o, a, [x]) => {
    const d = (x as Tensor).shape[a.axis] as number;
    return [g.pad(a.axis, a.start, d - a.end)];
  },
  pad: (g, _o, a, [x]) => [g.slice(a.axis, a.before, a.before + ((x as Tensor).shape[a.axis] as number))],
  concat: (g, _o, a, ins) => {
    let at = 0;
    return ins.map((t) => {
      const d = t.shape[a.axis] as number;
      at += d;
      return g.slice(a.axis, at - d, at);
    });
  },
  gather: (g, _o, _a, [data, idx]) => [scatterAdd([...(data as Tensor).shape], (idx as Tensor).cast("int64"), g), null],
  scatterAdd: (g, _o, _a, [idx]) => [null, g.gather(idx as Tensor)],
  // y = softmax(x): dx = y * (g - sum(g * y))
  softmax: (g, out, a) => [out.mul(g.sub(g.mul(out).sum(a.axis, true)))],
  // y = log softmax(x): dx = g - softmax(x) * sum(g)
  logSoftmax: (g, out, a) => [g.sub(out.exp().mul(g.sum(a.axis, true)))],
  // gelu(x) = x s, s = sigmoid(2u), u = k (x + a x^3): gelu' = s (1 + x (1 - s) 2u'),
  // and x (1 - s) = x - gelu(x), which saves two passes (for large x both forms cancel to ~1e-7 x
  // absolute error in float32, as 1 - s does; the derivative there is ~1 either way)
  gelu: (g, out, _a, [x]) => {
    const X = x as Tensor;
    const [k, a] = [Math.sqrt(2 / Math.PI), 0.044715];
    const x2 = X.mul(X);
    const s = X.mul(x2.mul(2 * k * a).add(2 * k)).sigmoid();
    const du2 = x2.mul(6 * k * a).add(2 * k);
    return [g.mul(s).mul(X.sub(out).mul(du2).add(1))];
  },
  // dx = r (dxhat - mean(dxhat) - xhat mean(dxhat xhat)), dxhat = g w, with xhat and r = 1/sqrt(var + eps)
  // recomputed from x by two fused LayerNormalization nodes (cheaper than keeping or rebuilding them)
  layerNorm: (g, _o, a, [x, w, b]) => {
    const X = x as Tensor;
    const xhat = X.graph.apply("standardize", [X], { eps: a.eps });
    const dxhat = g.mul(w as Tensor);
    return [standardizeVjp(dxhat, xhat, X.graph.apply("invStd", [X], { eps: a.eps })), g.mul(xhat), b ? g : null];
  },
  standardize: (g, out, a, [x]) => [
    standardizeVjp(g, out, (x as Tensor).graph.apply("invStd", [x as Tensor], { eps: a.eps })),
  ],
  // r = (var + eps)^-1/2: dr/dx_i = -r^2 xhat_i / C
  invStd: (g, out, _a, [x]) => {
    const C = (x as Tensor).shape[(x as Tensor).rank - 1] as number;
    const xhat = (x as Tensor).sub((x as Tensor).mean(-1, true)).mul(out);
    return [xhat.mul(g.mul(out.mul(out)).mul(-1 / C))];
  },
};

/** Backward of xhat = standardize(x): r (g - mean(g) - xhat mean(g xhat)). */
function standardizeVjp(g: Tensor, xhat: Tensor, r: Tensor): Tensor {
  return g
    .sub(g.mean(-1, true))
    .sub(xhat.mul(g.mul(xhat).mean(-1, true)))
    .mul(r);
}

/** Sum a cotangent in a broadcast shape back to `shape` (leading axes and size-1 axes). */
export function unbroadcast(g: Tensor, shape: readonly number[]): Tensor {
  if (g.shape.length === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const lead = g.rank - shape.length;
  if (lead < 0)
    throw new TraceError("grad", `cotangent ${fmtShape(g.shape)} has lower rank than its input ${fmtShape(shape)}`);
  const axes: number[] = [];
  g.shape.forEach((d, i) => {
    if (i < lead || (shape[i - lead] === 1 && d !== 1)) axes.push(i);
  });
  // only leading axes: one ReduceSum without keepdims lands on the shape directly
  if (axes.length === lead) return g.sum(axes, false);
  return g.sum(axes, true).reshape([...shape]);
}

/**
 * Sum the cotangents a tensor received from its consumers. When they are the zero-padded pieces of
 * slices that tile one axis (q, k, v cut from one projection), ONE concat of the pieces replaces the
 * pads and adds: the pads are then dead and never lowered.
 */
function sumCotangents(list: Tensor[]): Tensor {
  const first = list[0] as Tensor;
  if (list.length > 1 && list.every((t) => t.op === "pad")) {
    const axis = (first.attrs as OpAttrs["pad"]).axis;
    const pieces = list
      .map((t) => ({ t, a: t.attrs as OpAttrs["pad"] }))
      .filter((p) => p.a.axis === axis)
      .sort((p, q) => p.a.before - q.a.before);
    let at = 0;
    const tiles =
      pieces.length === list.length &&
      pieces.every((p) => {
        const ok = p.a.before === at;
        at += (p.t.inputs[0] as Tensor).shape[axis] as number;
        return ok;
      });
    if (tiles && at === first.shape[axis])
      return concat(
        pieces.map((p) => p.t.inputs[0] as Tensor),
        axis,
      );
  }
  return list.slice(1).reduce((acc, t) => acc.add(t), first); // visible accumulation
}

/**
 * Cotangents of `loss` (a float scalar, unless `seed` gives the output cotangent) w.r.t. each of `wrt`.
 * Appends the backward nodes to the same graph. An unreachable `wrt` gets zeros.
 */
export function grad(loss: Tensor, wrt: readonly Tensor[], seed?: Tensor): Tensor[] {
  if (!isFloat(loss.dtype)) throw new TraceError("grad", `loss must be float, got ${loss}`);
  if (!seed && loss.size !== 1)
    throw new TraceError(
      "grad",
      `loss must be a scalar, got ${fmtShape(loss.shape)}; reduce it (e.g. .mean()) or pass a seed cotangent`,
    );
  const g = loss.graph;
  const targets = new Set(wrt.map((t) => t.id));
  // needs[i]: node i depends on some `wrt` through differentiable float paths
  const needs = new Uint8Array(loss.id + 1);
  for (let i = 0; i <= loss.id; i++) {
    const n = g.nodes[i] as Tensor;
    needs[i] = targets.has(i) || (isFloat(n.dtype) && n.inputs.some((x) => needs[x.id] === 1)) ? 1 : 0;
  }
  // cotangent contributions per node, summed when the node is reached (all its consumers come later)
  const parts = new Map<number, Tensor[]>();
  const add = (id: number, t: Tensor) => {
    const list = parts.get(id);
    if (list) list.push(t);
    else parts.set(id, [t]);
  };
  add(loss.id, seed ?? g.const(1, [...loss.shape], loss.dtype));
  const cot = new Map<number, Tensor>();
  for (let i = loss.id; i >= 0; i--) {
    const list = parts.get(i);
    if (!list) continue;
    parts.delete(i);
    const gi = sumCotangents(list);
    if (targets.has(i)) cot.set(i, gi);
    const n = g.nodes[i] as Tensor;
    if (!needs[i] || n.inputs.length === 0) continue;
    const rule = VJP[n.op] as Vjp<Op>;
    const outs = rule(gi, n, n.attrs, n.inputs);
    n.inputs.forEach((x, k) => {
      const part = outs[k];
      if (part && needs[x.id]) add(x.id, unbroadcast(part, x.shape));
    });
  }
  return wrt.map((t) => cot.get(t.id) ?? g.const(0, [], t.dtype).expand([...t.shape]));
}
