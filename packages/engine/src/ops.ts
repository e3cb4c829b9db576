// The closed set of primitive ops. Every op has: attributes (OpAttrs), a shape/dtype rule (here),
// a gradient rule (grad.ts, one table) and an ONNX lowering (lower.ts, one table). Adding an op to
// `OpAttrs` without the other two fails to compile.
import { type AnyTypedArray, type DType, fmtShape, isFloat, numel } from "./dtype.ts";

export interface OpAttrs {
  // leaves
  input: { name: string };
  param: { name: string };
  const: { data: AnyTypedArray };
  /** uniform [0,1) of `shape`, a pure function of (run seed, step, salt); see lower.ts */
  random: { salt: number };
  /** bool of `shape`, true with probability p; same key and salts as `random` (src/random.ts) */
  bernoulli: { salt: number; p: number };
  // elementwise unary (float)
  neg: {};
  exp: {};
  log: {};
  tanh: {};
  sqrt: {};
  reciprocal: {};
  sigmoid: {};
  relu: {};
  sin: {};
  cos: {};
  // elementwise binary, numpy broadcasting
  add: {};
  sub: {};
  mul: {};
  div: {};
  pow: {};
  maximum: {};
  minimum: {};
  // comparisons -> bool, and selection
  eq: {};
  lt: {};
  gt: {};
  where: {};
  cast: { to: DType };
  stopGradient: {};
  // [..., M, K] @ [..., K, N] -> [..., M, N], batch dims broadcast
  matmul: {};
  // reductions over `axes` (non-negative, sorted)
  sum: { axes: number[]; keepDims: boolean };
  max: { axes: number[]; keepDims: boolean };
  mean: { axes: number[]; keepDims: boolean };
  /** sum of squares over `axes` in one pass (the global gradient norm) */
  sumSquares: { axes: number[]; keepDims: boolean };
  // layout
  reshape: { shape: number[] };
  transpose: { perm: number[] };
  expand: { shape: number[] };
  slice: { axis: number; start: number; end: number };
  concat: { axis: number };
  /** zeros around x on one axis: the transpose of slice */
  pad: { axis: number; before: number; after: number };
  // indexing: gather rows of axis 0; scatterAdd is its transpose (adds updates into zeros of `shape`)
  gather: {};
  scatterAdd: { shape: number[] };
  // fused forward kernels with their own gradient rules (fewer, larger nodes)
  softmax: { axis: number };
  logSoftmax: { axis: number };
  /** GELU, tanh form (ONNX Gelu approximate="tanh") */
  gelu: {};
  /** layer norm over the last axis: inputs (x [...,C], w [C]) or (x, w, b [C]) */
  layerNorm: { eps: number };
  /** (x - mean) / sqrt(var + eps) over the last axis: layer norm without affine (backward of layerNorm) */
  standardize: { eps: number };
  /** 1 / sqrt(var + eps) over the last axis, [..., C] -> [..., 1] (backward of layerNorm) */
  invStd: { eps: number };
}

export type Op = keyof OpAttrs;

export interface OpSignature {
  shape: number[];
  dtype: DType;
}

/** What a rule sees of an input: enough to check it without depending on the Tensor class. */
export interface InputInfo {
  shape: readonly number[];
  dtype: DType;
}

export class TraceError extends Error {
  constructor(op: string, message: string) {
    super(`${op}: ${message}`);
    this.name = "TraceError";
  }
}

export function broadcastShapes(op: string, ...shapes: (readonly number[])[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const s of shapes) {
      const v = s[s.length - rank + i] ?? 1;
      if (v === 1) continue;
      if (d !== 1 && d !== v) {
        throw new TraceError(
          op,
          `shapes do not broadcast: ${shapes.map(fmtShape).join(" vs ")} (axis ${i} of the result: ${d} vs ${v})`,
        );
      }
      d = v;
    }
    out.push(d);
  }
  return out;
}

const first = (op: string, ins: InputInfo[]): InputInfo => {
  const a = ins[0];
  if (!a) throw new TraceError(op, "missing input");
  return a;
};

function floatUnary(op: string, ins: InputInfo[]): OpSignature {
  const a = first(op, ins);
  if (!isFloat(a.dtype)) throw new TraceError(op, `needs a float tensor, got ${a.dtype} ${fmtShape(a.shape)}`);
  return { shape: [...a.shape], dtype: a.dtype };
}

function sameDtype(op: string, ins: InputInfo[]): DType {
  const d = first(op, ins).dtype;
  for (const t of ins) {
    if (t.dtype !== d) {
      throw new TraceError(
        op,
        `dtype mismatch: ${ins.map((x) => `${x.dtype} ${fmtShape(x.shape)}`).join(" vs ")}; cast one side with .cast()`,
      );
    }
  }
  return d;
}

function binary(op: string, ins: InputInfo[]): OpSignature {
  const dtype = sameDtype(op, ins);
  return { shape: broadcastShapes(op, ...ins.map((t) => t.shape)), dtype };
}

function compare(op: string, ins: InputInfo[]): OpSignature {
  sameDtype(op, ins);
  return { shape: broadcastShapes(op, ...ins.map((t) => t.shape)), dtype: "bool" };
}

function reduce(op: string, ins: InputInfo[], a: { axes: number[]; keepDims: boolean }): OpSignature {
  const x = first(op, ins);
  for (const ax of a.axes) {
    if (ax < 0 || ax >= x.shape.length) throw new TraceError(op, `axis ${ax} out of range for ${fmtShape(x.shape)}`);
  }
  const shape = a.keepDims
    ? x.shape.map((d, i) => (a.axes.includes(i) ? 1 : d))
    : x.shape.filter((_, i) => !a.axes.includes(i));
  return { shape, dtype: x.dtype };
}

function checkAxis(op: string, axis: number, rank: number): void {
  if (!Number.isInteger(axis) || axis < 0 || axis >= rank)
    throw new TraceError(op, `axis ${axis} out of range for rank ${rank}`);
}

type ShapeRule<K extends Op> = (ins: InputInfo[], attrs: OpAttrs[K], op: K) => OpSignature;

const leaf = (op: string): OpSignature => {
  throw new TraceError(op, "leaves are created by Graph.input/param/const/random/bernoulli, not applied");
};

/** Shape and dtype of each op's result; throws a TraceError naming the op and the shapes. */
export const SHAPE_RULES: { [K in Op]: ShapeRule<K> } = {
  input: (_i, _a, op) => leaf(op),
  param: (_i, _a, op) => leaf(op),
  const: (_i, _a, op) => leaf(op),
  random: (_i, _a, op) => leaf(op),
  bernoulli: (_i, _a, op) => leaf(op),
  neg: (i, _a, op) => floatUnary(op, i),
  exp: (i, _a, op) => floatUnary(op, i),
  log: (i, _a, op) => floatUnary(op, i),
  tanh: (i, _a, op) => floatUnary(op, i),
  sqrt: (i, _a, op) => floatUnary(op, i),
  reciprocal: (i, _a, op) => floatUnary(op, i),
  sigmoid: (i, _a, op) => floatUnary(op, i),
  relu: (i, _a, op) => floatUnary(op, i),
  sin: (i, _a, op) => floatUnary(op, i),
  cos: (i, _a, op) => floatUnary(op, i),
  stopGradient: (i, _a, op) => ({ shape: [...first(op, i).shape], dtype: first(op, i).dtype }),
  add: (i, _a, op) => binary(op, i),
  sub: (i, _a, op) => binary(op, i),
  mul: (i, _a, op) => binary(op, i),
  div: (i, _a, op) => binary(op, i),
  pow: (i, _a, op) => binary(op, i),
  maximum: (i, _a, op) => binary(op, i),
  minimum: (i, _a, op) => binary(op, i),
  eq: (i, _a, op) => compare(op, i),
  lt: (i, _a, op) => compare(op, i),
  gt: (i, _a, op) => compare(op, i),
  where: (ins, _a, op) => {
    const [c, a, b] = ins;
    if (!c || !a || !b) throw new TraceError(op, "needs (cond, a, b)");
    if (c.dtype !== "bool") throw new TraceError(op, `condition must be bool, got ${c.dtype} ${fmtShape(c.shape)}`);
    return { shape: broadcastShapes(op, c.shape, a.shape, b.shape), dtype: sameDtype(op, [a, b]) };
  },
  cast: (i, a, op) => ({ shape: [...first(op, i).shape], dtype: a.to }),
  matmul: (ins, _a, op) => {
    const [a, b] = ins;
    if (!a || !b) throw new TraceError(op, "needs two inputs");
    const dtype = sameDtype(op, ins);
    if (a.shape.length < 2 || b.shape.length < 2) {
      throw new TraceError(op, `both sides need rank >= 2: a ${fmtShape(a.shape)} @ b ${fmtShape(b.shape)}`);
    }
    const [m, k] = a.shape.slice(-2) as [number, number];
    const [k2, n] = b.shape.slice(-2) as [number, number];
    if (k !== k2)
      throw new TraceError(op, `inner dims differ: a ${fmtShape(a.shape)} @ b ${fmtShape(b.shape)} (${k} != ${k2})`);
    const batch = broadcastShapes(op, a.shape.slice(0, -2), b.shape.slice(0, -2));
    return { shape: [...batch, m, n], dtype };
  },
  sum: (i, a, op) => reduce(op, i, a),
  max: (i, a, op) => reduce(op, i, a),
  mean: (i, a, op) => reduce(op, i, a),
  sumSquares: (i, a, op) => reduce(op, i, a),
  reshape: (ins, a, op) => {
    const x = first(op, ins);
    if (numel(a.shape) !== numel(x.shape) || a.shape.some((d) => !Number.isInteger(d) || d < 0)) {
      throw new TraceError(
        op,
        `cannot reshape ${fmtShape(x.shape)} (${numel(x.shape)} elements) to ${fmtShape(a.shape)}`,
      );
    }
    return { shape: [...a.shape], dtype: x.dtype };
  },
  transpose: (ins, a, op) => {
    const x = first(op, ins);
    const ok = a.perm.length === x.shape.length && [...a.perm].sort((p, q) => p - q).every((p, i) => p === i);
    if (!ok)
      throw new TraceError(op, `perm [${a.perm.join(",")}] is not a permutation of the axes of ${fmtShape(x.shape)}`);
    return { shape: a.perm.map((p) => x.shape[p] as number), dtype: x.dtype };
  },
  expand: (ins, a, op) => {
    const x = first(op, ins);
    const out = broadcastShapes(op, x.shape, a.shape);
    if (out.length !== a.shape.length || out.some((d, i) => d !== a.shape[i])) {
      throw new TraceError(op, `cannot expand ${fmtShape(x.shape)} to ${fmtShape(a.shape)}`);
    }
    return { shape: out, dtype: x.dtype };
  },
  slice: (ins, a, op) => {
    const x = first(op, ins);
    checkAxis(op, a.axis, x.shape.length);
    const d = x.shape[a.axis] as number;
    if (!(0 <= a.start && a.start < a.end && a.end <= d)) {
      throw new TraceError(
        op,
        `range [${a.start}, ${a.end}) is outside axis ${a.axis} (size ${d}) of ${fmtShape(x.shape)}`,
      );
    }
    return { shape: x.shape.map((v, i) => (i === a.axis ? a.end - a.start : v)), dtype: x.dtype };
  },
  concat: (ins, a, op) => {
    const x = first(op, ins);
    const dtype = sameDtype(op, ins);
    checkAxis(op, a.axis, x.shape.length);
    for (const t of ins) {
      const same = t.shape.length === x.shape.length && t.shape.every((d, i) => i === a.axis || d === x.shape[i]);
      if (!same)
        throw new TraceError(op, `shapes differ off axis ${a.axis}: ${ins.map((s) => fmtShape(s.shape)).join(" vs ")}`);
    }
    const total = ins.reduce((s, t) => s + (t.shape[a.axis] as number), 0);
    return { shape: x.shape.map((d, i) => (i === a.axis ? total : d)), dtype };
  },
  pad: (ins, a, op) => {
    const x = first(op, ins);
    checkAxis(op, a.axis, x.shape.length);
    if (a.before < 0 || a.after < 0)
      throw new TraceError(op, `negative padding ${a.before}/${a.after} on ${fmtShape(x.shape)}`);
    return { shape: x.shape.map((d, i) => (i === a.axis ? d + a.before + a.after : d)), dtype: x.dtype };
  },
  gather: (ins, _a, op) => {
    const [data, idx] = ins;
    if (!data || !idx) throw new TraceError(op, "needs (data, indices)");
    if (idx.dtype !== "int64" && idx.dtype !== "int32")
      throw new TraceError(op, `indices must be int64 or int32, got ${idx.dtype} ${fmtShape(idx.shape)}`);
    if (data.shape.length < 1) throw new TraceError(op, `data must have rank >= 1, got ${fmtShape(data.shape)}`);
    return { shape: [...idx.shape, ...data.shape.slice(1)], dtype: data.dtype };
  },
  scatterAdd: (ins, a, op) => {
    const [idx, upd] = ins;
    if (!idx || !upd) throw new TraceError(op, "needs (indices, updates)");
    if (idx.dtype !== "int64") throw new TraceError(op, `indices must be int64, got ${idx.dtype}`);
    const want = [...idx.shape, ...a.shape.slice(1)];
    if (want.length !== upd.shape.length || want.some((d, i) => d !== upd.shape[i])) {
      throw new TraceError(
        op,
        `updates ${fmtShape(upd.shape)} must be indices ${fmtShape(idx.shape)} ++ target ${fmtShape(a.shape)} minus axis 0 = ${fmtShape(want)}`,
      );
    }
    return { shape: [...a.shape], dtype: upd.dtype };
  },
  softmax: (ins, a, op) => {
    const s = floatUnary(op, ins);
    checkAxis(op, a.axis, s.shape.length);
    return s;
  },
  gelu: (i, _a, op) => floatUnary(op, i),
  layerNorm: (ins, _a, op) => {
    const x = floatUnary(op, ins);
    const C = x.shape[x.shape.length - 1];
    for (const p of ins.slice(1)) {
      if (p.shape.length !== 1 || p.shape[0] !== C)
        throw new TraceError(op, `weight/bias must be [${C}] for x ${fmtShape(x.shape)}, got ${fmtShape(p.shape)}`);
    }
    sameDtype(op, ins);
    return x;
  },
  standardize: (i, _a, op) => floatUnary(op, i),
  invStd: (i, _a, op) => {
    const x = floatUnary(op, i);
    return { shape: x.shape.map((d, k) => (k === x.shape.length - 1 ? 1 : d)), dtype: x.dtype };
  },
  logSoftmax: (ins, a, op) => {
    const s = floatUnary(op, ins);
    checkAxis(op, a.axis, s.shape.length);
    return s;
  },
};
