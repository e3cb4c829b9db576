// Symbolic tensors and the graph that records them. Calling an op checks shapes and dtypes at
// trace time (ops.ts SHAPE_RULES) and appends one node; nothing is computed here.
import { type AnyTypedArray, type DType, dtypeOfArray, fmtShape, numel, scalarArray } from "./dtype.ts";
import type { Init } from "./init.ts";
import { type Op, type OpAttrs, SHAPE_RULES, TraceError } from "./ops.ts";

export interface ParamInfo {
  name: string;
  shape: number[];
  init: Init;
  /** AdamW weight decay applies (default: rank >= 2, i.e. matrices and embeddings) */
  decay: boolean;
  tensor: Tensor;
}

export type Operand = Tensor | number;

let graphIds = 0;

export class Graph {
  readonly id = ++graphIds;
  readonly nodes: Tensor[] = [];
  readonly inputs = new Map<string, Tensor>();
  readonly params = new Map<string, ParamInfo>();
  private randomCount = 0;

  input(name: string, shape: number[], dtype: DType = "float32"): Tensor {
    if (this.inputs.has(name)) throw new TraceError("input", `"${name}" is declared twice`);
    checkShape("input", name, shape);
    const t = this.leaf("input", { name }, shape, dtype);
    this.inputs.set(name, t);
    return t;
  }

  param(name: string, shape: number[], opts: { init: Init; decay?: boolean }): Tensor {
    if (this.params.has(name)) throw new TraceError("param", `"${name}" is declared twice`);
    checkShape("param", name, shape);
    const t = this.leaf("param", { name }, shape, "float32");
    this.params.set(name, {
      name,
      shape: [...shape],
      init: opts.init,
      decay: opts.decay ?? shape.length >= 2,
      tensor: t,
    });
    return t;
  }

  /** A constant: a number (scalar, float32 unless `dtype`) or a typed array with its shape. */
  const(value: number | AnyTypedArray, shape?: number[], dtype?: DType): Tensor {
    if (typeof value === "number") {
      const dt = dtype ?? "float32";
      const s = shape ?? [];
      if (numel(s) === 1) return this.leaf("const", { data: scalarArray(dt, value) }, s, dt);
      // a filled tensor: a scalar constant expanded (no big initializer in the model)
      return this.leaf("const", { data: scalarArray(dt, value) }, [], dt).expand(s);
    }
    const s = shape ?? [value.length];
    if (numel(s) !== value.length)
      throw new TraceError("const", `${value.length} values do not fill shape ${fmtShape(s)}`);
    return this.leaf("const", { data: value }, s, dtypeOfArray(value));
  }

  /** Uniform [0,1) samples; a pure function of (seed, step) fed at run time, so resume is exact. */
  random(shape: number[], dtype: "float32" | "float64" = "float32"): Tensor {
    return this.leaf("random", { salt: ++this.randomCount }, shape, dtype);
  }

  /** Bool, true with probability p; a pure function of (seed, step) like `random`, at a third of its cost. */
  bernoulli(shape: number[], p: number): Tensor {
    if (!(p >= 0 && p <= 1)) throw new TraceError("bernoulli", `p must be in [0, 1], got ${p}`);
    return this.leaf("bernoulli", { salt: ++this.randomCount, p }, shape, "bool");
  }

  /** An input leaf the compiler adds (flat params, optimizer state, lr): not a user feed. */
  internalInput(name: string, shape: number[], dtype: DType = "float32"): Tensor {
    return this.leaf("input", { name }, shape, dtype);
  }

  get hasRandom(): boolean {
    return this.randomCount > 0;
  }

  apply<K extends Op>(op: K, inputs: Tensor[], attrs: OpAttrs[K]): Tensor {
    for (const t of inputs) {
      if (t.graph !== this) {
        throw new TraceError(
          op,
          `input ${t} belongs to another Graph (#${t.graph.id}, this is #${this.id}); build the whole model in one Graph`,
        );
      }
    }
    const sig = SHAPE_RULES[op](inputs, attrs, op);
    return this.push(new Tensor(this, this.nodes.length, op, inputs, attrs, sig.shape, sig.dtype));
  }

  private leaf<K extends Op>(op: K, attrs: OpAttrs[K], shape: number[], dtype: DType): Tensor {
    return this.push(new Tensor(this, this.nodes.length, op, [], attrs, [...shape], dtype));
  }

  private push(t: Tensor): Tensor {
    this.nodes.push(t);
    return t;
  }
}

function checkShape(op: string, name: string, shape: number[]): void {
  if (shape.some((d) => !Number.isInteger(d) || d < 1))
    throw new TraceError(op, `"${name}" has a bad shape ${fmtShape(shape)}: dims must be positive integers`);
}

const normAxis = (op: string, axis: number, rank: number): number => {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new TraceError(op, `axis ${axis} out of range for rank ${rank}`);
  return a;
};

export class Tensor {
  constructor(
    readonly graph: Graph,
    readonly id: number,
    readonly op: Op,
    readonly inputs: readonly Tensor[],
    readonly attrs: OpAttrs[Op],
    readonly shape: readonly number[],
    readonly dtype: DType,
  ) {}

  get rank(): number {
    return this.shape.length;
  }
  get size(): number {
    return numel(this.shape);
  }
  toString(): string {
    return `%${this.id}:${this.op} ${this.dtype}${fmtShape(this.shape)}`;
  }

  /** A number operand becomes a scalar constant of this tensor's dtype. */
  private lift(x: Operand): Tensor {
    return typeof x === "number" ? this.graph.const(x, [], this.dtype) : x;
  }
  private un(op: Op): Tensor {
    return this.graph.apply(op, [this], {});
  }
  private bin(op: Op, o: Operand): Tensor {
    return this.graph.apply(op, [this, this.lift(o)], {});
  }

  add(o: Operand): Tensor {
    return this.bin("add", o);
  }
  sub(o: Operand): Tensor {
    return this.bin("sub", o);
  }
  mul(o: Operand): Tensor {
    return this.bin("mul", o);
  }
  div(o: Operand): Tensor {
    return this.bin("div", o);
  }
  pow(o: Operand): Tensor {
    return this.bin("pow", o);
  }
  maximum(o: Operand): Tensor {
    return this.bin("maximum", o);
  }
  minimum(o: Operand): Tensor {
    return this.bin("minimum", o);
  }
  eq(o: Operand): Tensor {
    return this.bin("eq", o);
  }
  lt(o: Operand): Tensor {
    return this.bin("lt", o);
  }
  gt(o: Operand): Tensor {
    return this.bin("gt", o);
  }
  neg(): Tensor {
    return this.un("neg");
  }
  exp(): Tensor {
    return this.un("exp");
  }
  log(): Tensor {
    return this.un("log");
  }
  tanh(): Tensor {
    return this.un("tanh");
  }
  sqrt(): Tensor {
    return this.un("sqrt");
  }
  reciprocal(): Tensor {
    return this.un("reciprocal");
  }
  sigmoid(): Tensor {
    return this.un("sigmoid");
  }
  relu(): Tensor {
    return this.un("relu");
  }
  sin(): Tensor {
    return this.un("sin");
  }
  cos(): Tensor {
    return this.un("cos");
  }
  stopGradient(): Tensor {
    return this.un("stopGradient");
  }

  cast(to: DType): Tensor {
    return to === this.dtype ? this : this.graph.apply("cast", [this], { to });
  }
  matmul(o: Tensor): Tensor {
    return this.graph.apply("matmul", [this, o], {});
  }
  /** Swap the last two axes: [..., M, N] -> [..., N, M]. */
  mT(): Tensor {
    if (this.rank < 2) throw new TraceError("transpose", `mT needs rank >= 2, got ${fmtShape(this.shape)}`);
    const perm = this.shape.map((_, i) => i);
    perm[this.rank - 2] = this.rank - 1;
    perm[this.rank - 1] = this.rank - 2;
    return this.transpose(perm);
  }

  private axes(op: string, axes?: number | number[]): number[] {
    const list = axes === undefined ? this.shape.map((_, i) => i) : typeof axes === "number" ? [axes] : axes;
    return [...new Set(list.map((a) => normAxis(op, a, this.rank)))].sort((a, b) => a - b);
  }
  sum(axes?: number | number[], keepDims = false): Tensor {
    const ax = this.axes("sum", axes);
    return ax.length === 0 ? this : this.graph.apply("sum", [this], { axes: ax, keepDims });
  }
  max(axes?: number | number[], keepDims = false): Tensor {
    return this.graph.apply("max", [this], { axes: this.axes("max", axes), keepDims });
  }
  /** Sum of squares in one pass (ReduceSumSquare). */
  sumSquares(axes?: number | number[], keepDims = false): Tensor {
    return this.graph.apply("sumSquares", [this], { axes: this.axes("sumSquares", axes), keepDims });
  }
  mean(axes?: number | number[], keepDims = false): Tensor {
    const ax = this.axes("mean", axes);
    return ax.length === 0 ? this : this.graph.apply("mean", [this], { axes: ax, keepDims });
  }

  /** One -1 is inferred from the element count. */
  reshape(shape: number[]): Tensor {
    const known = shape.filter((d) => d !== -1);
    const holes = shape.length - known.length;
    if (holes > 1) throw new TraceError("reshape", `only one -1 allowed in ${fmtShape(shape)}`);
    const full = holes === 1 ? shape.map((d) => (d === -1 ? this.size / Math.max(1, numel(known)) : d)) : shape;
    if (full.length === this.rank && full.every((d, i) => d === this.shape[i])) return this;
    // reshape of a reshape is one reshape of the original (fewer nodes, same values)
    if (this.op === "reshape") return (this.inputs[0] as Tensor).reshape(full);
    return this.graph.apply("reshape", [this], { shape: full });
  }
  transpose(perm: number[]): Tensor {
    if (perm.every((p, i) => p === i) && perm.length === this.rank) return this;
    // a transpose that undoes a transpose is no node at all (the backward pass of attention makes
    // such pairs). Other pairs stay two nodes: onnxruntime fuses a last-two-axes swap into MatMul,
    // and the inner transpose is usually shared with the forward pass.
    if (this.op === "transpose" && perm.length === this.rank) {
      const inner = (this.attrs as OpAttrs["transpose"]).perm;
      const composed = perm.map((p) => inner[p] as number);
      if (composed.every((p, i) => p === i)) return this.inputs[0] as Tensor;
    }
    return this.graph.apply("transpose", [this], { perm });
  }
  expand(shape: number[]): Tensor {
    if (shape.length === this.rank && shape.every((d, i) => d === this.shape[i])) return this;
    return this.graph.apply("expand", [this], { shape });
  }
  slice(axis: number, start: number, end: number): Tensor {
    const ax = normAxis("slice", axis, this.rank);
    if (start === 0 && end === this.shape[ax]) return this;
    return this.graph.apply("slice", [this], { axis: ax, start, end });
  }
  /** Zeros `before` and `after` this tensor on `axis`. */
  pad(axis: number, before: number, after: number): Tensor {
    return this.graph.apply("pad", [this], { axis: normAxis("pad", axis, this.rank), before, after });
  }
  /** Rows of axis 0 picked by integer `indices`: [V, ...R] gather [...I] -> [...I, ...R]. */
  gather(indices: Tensor): Tensor {
    return this.graph.apply("gather", [this, indices], {});
  }
  softmax(axis = -1): Tensor {
    return this.graph.apply("softmax", [this], { axis: normAxis("softmax", axis, this.rank) });
  }
  /** GELU, tanh form, as one fused node. */
  gelu(): Tensor {
    return this.un("gelu");
  }
  logSoftmax(axis = -1): Tensor {
    return this.graph.apply("logSoftmax", [this], { axis: normAxis("logSoftmax", axis, this.rank) });
  }
}

/** Elementwise select: cond ? a : b, broadcast. Numbers take the other branch's dtype. */
export function where(cond: Tensor, a: Operand, b: Operand): Tensor {
  const g = cond.graph;
  const ref = typeof a === "number" ? (typeof b === "number" ? undefined : b) : a;
  const dt = ref?.dtype ?? "float32";
  const ta = typeof a === "number" ? g.const(a, [], dt) : a;
  const tb = typeof b === "number" ? g.const(b, [], dt) : b;
  return g.apply("where", [cond, ta, tb], {});
}

export function concat(tensors: Tensor[], axis: number): Tensor {
  const t0 = tensors[0];
  if (!t0) throw new TraceError("concat", "needs at least one tensor");
  if (tensors.length === 1) return t0;
  return t0.graph.apply("concat", tensors, { axis: normAxis("concat", axis, t0.rank) });
}

/** Adds `updates` into zeros of `shape` at rows `indices` (repeated rows accumulate). */
export function scatterAdd(shape: number[], indices: Tensor, updates: Tensor): Tensor {
  return indices.graph.apply("scatterAdd", [indices, updates], { shape });
}
