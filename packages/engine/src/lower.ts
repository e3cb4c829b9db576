// ONNX lowering: one entry per op (same keys as ops.ts), plus the Emitter that walks the live
// part of a trace in creation (topological) order and collects nodes and initializers.
import { type AnyTypedArray, type DType, dtypeOfArray } from "./dtype.ts";
import type { LowerCtx } from "./lower-context.ts";
import type { AttrValue, OnnxGraph, OnnxNode, OnnxTensor, OnnxValueInfo } from "./onnx/model.ts";
import type { Op, OpAttrs } from "./ops.ts";
import { lowerBernoulli, lowerUniform } from "./random.ts";
import type { Tensor } from "./tensor.ts";

type Lower<K extends Op> = (cx: LowerCtx, t: Tensor, attrs: OpAttrs[K], ins: string[]) => string;

const same =
  (onnxOp: string): Lower<Op> =>
  (cx, _t, _a, ins) =>
    cx.emit(onnxOp, ins);

const ONNX_CAST: Record<DType, number> = { float32: 1, float64: 11, int64: 7, int32: 6, bool: 9 };

export const LOWER: { [K in Op]: Lower<K> } = {
  input: (_cx, _t, a) => a.name,
  param: (cx, _t, a) => cx.param(a.name),
  const: (cx, t, a) => cx.constant(a.data, [...t.shape]),
  random: (cx, t, a) => lowerUniform(cx, t, a.salt),
  bernoulli: (cx, t, a) => lowerBernoulli(cx, t, a.salt, a.p),
  neg: same("Neg"),
  exp: same("Exp"),
  log: same("Log"),
  tanh: same("Tanh"),
  sqrt: same("Sqrt"),
  reciprocal: same("Reciprocal"),
  sigmoid: same("Sigmoid"),
  relu: same("Relu"),
  sin: same("Sin"),
  cos: same("Cos"),
  add: same("Add"),
  sub: same("Sub"),
  mul: same("Mul"),
  div: same("Div"),
  pow: same("Pow"),
  maximum: same("Max"),
  minimum: same("Min"),
  eq: same("Equal"),
  lt: same("Less"),
  gt: same("Greater"),
  where: same("Where"),
  cast: (cx, _t, a, ins) => cx.emit("Cast", ins, { to: ONNX_CAST[a.to] }),
  stopGradient: same("Identity"),
  matmul: same("MatMul"),
  sum: (cx, _t, a, [x]) => cx.emit("ReduceSum", [x as string, cx.ints(a.axes)], { keepdims: a.keepDims ? 1 : 0 }),
  max: (cx, _t, a, [x]) => cx.emit("ReduceMax", [x as string, cx.ints(a.axes)], { keepdims: a.keepDims ? 1 : 0 }),
  mean: (cx, _t, a, [x]) => cx.emit("ReduceMean", [x as string, cx.ints(a.axes)], { keepdims: a.keepDims ? 1 : 0 }),
  sumSquares: (cx, _t, a, [x]) =>
    cx.emit("ReduceSumSquare", [x as string, cx.ints(a.axes)], { keepdims: a.keepDims ? 1 : 0 }),
  reshape: (cx, _t, a, [x]) => cx.emit("Reshape", [x as string, cx.ints(a.shape)]),
  transpose: (cx, _t, a, ins) => cx.emit("Transpose", ins, { perm: a.perm }),
  expand: (cx, _t, a, [x]) => cx.emit("Expand", [x as string, cx.ints(a.shape)]),
  slice: (cx, _t, a, [x]) => cx.emit("Slice", [x as string, cx.ints([a.start]), cx.ints([a.end]), cx.ints([a.axis])]),
  pad: (cx, t, a, [x]) => {
    const pads = new Array<number>(2 * t.rank).fill(0);
    pads[a.axis] = a.before;
    pads[t.rank + a.axis] = a.after;
    return cx.emit("Pad", [x as string, cx.ints(pads)], { mode: "constant" });
  },
  concat: (cx, _t, a, ins) => cx.emit("Concat", ins, { axis: a.axis }),
  gather: (cx, _t, _a, ins) => cx.emit("Gather", ins, { axis: 0 }),
  scatterAdd: (cx, t, a, [idx, upd]) => {
    const zero: OnnxTensor = {
      name: "value",
      dtype: t.dtype,
      dims: [1],
      data: t.dtype === "float64" ? new Float64Array(1) : new Float32Array(1),
    };
    const zeros = cx.emit("ConstantOfShape", [cx.ints(a.shape)], { value: zero });
    const idx1 = cx.emit("Unsqueeze", [idx as string, cx.ints([-1])]); // [...I] -> [...I, 1]: rows of axis 0
    return cx.emit("ScatterND", [zeros, idx1, upd as string], { reduction: "add" });
  },
  softmax: (cx, _t, a, ins) => cx.emit("Softmax", ins, { axis: a.axis }),
  logSoftmax: (cx, _t, a, ins) => cx.emit("LogSoftmax", ins, { axis: a.axis }),
  gelu: (cx, _t, _a, ins) => cx.emit("Gelu", ins, { approximate: "tanh" }),
  layerNorm: (cx, _t, a, ins) => cx.emit("LayerNormalization", ins, { axis: -1, epsilon: { float: a.eps } }),
  standardize: (cx, t, a, [x]) =>
    cx.emit("LayerNormalization", [x as string, unitScale(cx, t)], { axis: -1, epsilon: { float: a.eps } }),
  invStd: (cx, t, a, [x]) => {
    if (t.dtype === "float64") {
      // onnxruntime has no float64 InvStdDev (stash_type double) kernel: compose it
      const axes = cx.ints([-1]);
      const xc = cx.emit("Sub", [x as string, cx.emit("ReduceMean", [x as string, axes], { keepdims: 1 })]);
      const v = cx.emit("ReduceMean", [cx.emit("Mul", [xc, xc]), axes], { keepdims: 1 });
      return cx.emit("Reciprocal", [cx.emit("Sqrt", [cx.emit("Add", [v, cx.constant(Float64Array.of(a.eps), [])])])]);
    }
    // LayerNormalization's third output is InvStdDev (float32); the first (Y) is required by the spec
    const y = cx.emit("LayerNormalization", [x as string, unitScale(cx, t)], { axis: -1, epsilon: { float: a.eps } });
    const r = `${y}_invstd`;
    cx.lastNode().outputs.push("", r);
    return r;
  },
};

/** A constant [C] of ones in t's dtype (the scale of an affine-free LayerNormalization). */
function unitScale(cx: LowerCtx, t: Tensor): string {
  const C = t.inputs[0]?.shape.at(-1) ?? 1;
  return cx.constant(t.dtype === "float64" ? new Float64Array(C).fill(1) : new Float32Array(C).fill(1), [C]);
}

/** Collects ONNX nodes and initializers for one model. */
export class Emitter implements LowerCtx {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  readonly inputs: OnnxValueInfo[] = [];
  private counter = 0;
  private declared = new Set<string>();
  private intCache = new Map<string, string>();
  private scalarCache = new Map<string, string>();
  readonly values = new Map<number, string>();

  constructor(
    private readonly paramValue: (name: string) => string = (n) => n,
    private readonly seedValue: () => string = () => {
      throw new Error("random: this graph draws random numbers but the compiled program has no seed input");
    },
  ) {}

  fresh(hint: string): string {
    return `${hint}_${this.counter++}`;
  }
  emit(op: string, inputs: string[], attrs?: Record<string, AttrValue>, domain?: string): string {
    const out = this.fresh(op.toLowerCase());
    const node: OnnxNode = { op, inputs, outputs: [out] };
    if (attrs) node.attrs = attrs;
    if (domain) node.domain = domain;
    this.nodes.push(node);
    return out;
  }
  /**
   * Make `value` available as graph output `output`. A value computed here is renamed in place (an
   * Identity would copy it: for the flat parameter buffer that is megabytes per step); an input,
   * an initializer or a value already exported under another name goes through an Identity.
   */
  nameOutput(value: string, output: string): void {
    const already = this.exported.get(value);
    const producer = already === undefined ? this.nodes.find((n) => n.outputs[0] === value) : undefined;
    if (!producer) {
      this.nodes.push({ op: "Identity", inputs: [already ?? value], outputs: [output] });
      return;
    }
    producer.outputs[0] = output;
    for (const n of this.nodes) n.inputs = n.inputs.map((x) => (x === value ? output : x));
    this.exported.set(value, output);
  }
  private readonly exported = new Map<string, string>();

  ints(values: number[]): string {
    const key = values.join(",");
    let name = this.intCache.get(key);
    if (!name) {
      name = this.fresh("ints");
      this.initializers.push({
        name,
        dtype: "int64",
        dims: [values.length],
        data: BigInt64Array.from(values, (v) => BigInt(v)),
      });
      this.intCache.set(key, name);
    }
    return name;
  }
  constant(data: AnyTypedArray, dims: number[]): string {
    const dtype = dtypeOfArray(data);
    const key = data.length === 1 ? `${dtype}:${dims.join(",")}:${String(data[0])}` : "";
    const hit = key && this.scalarCache.get(key);
    if (hit) return hit;
    const name = this.fresh("const");
    this.initializers.push({ name, dtype, dims, data });
    if (key) this.scalarCache.set(key, name);
    return name;
  }
  lastNode(): OnnxNode {
    const n = this.nodes[this.nodes.length - 1];
    if (!n) throw new Error("lastNode: nothing emitted yet");
    return n;
  }
  /** Declare a graph input once (user feeds, flat params, optimizer state, scalars). */
  declareInput(name: string, dtype: DType, dims: readonly number[]): string {
    if (!this.declared.has(name)) {
      this.declared.add(name);
      this.inputs.push({ name, dtype, dims: [...dims] });
    }
    return name;
  }
  param(name: string): string {
    return this.paramValue(name);
  }
  rngSeed(): string {
    return this.seedValue();
  }

  /** Lower every node that `outputs` depend on, once, in creation order. */
  lower(outputs: readonly Tensor[]): string[] {
    const g = outputs[0]?.graph;
    if (!g) return [];
    const live = new Uint8Array(g.nodes.length);
    const stack = outputs.map((t) => t.id);
    while (stack.length) {
      const id = stack.pop() as number;
      if (live[id] || this.values.has(id)) continue;
      live[id] = 1;
      for (const x of (g.nodes[id] as Tensor).inputs) stack.push(x.id);
    }
    for (let i = 0; i < live.length; i++) {
      if (!live[i]) continue;
      const t = g.nodes[i] as Tensor;
      const ins = t.inputs.map((x) => this.values.get(x.id) as string);
      if (t.op === "input") this.declareInput((t.attrs as OpAttrs["input"]).name, t.dtype, t.shape);
      const rule = LOWER[t.op] as Lower<Op>;
      this.values.set(i, rule(this, t, t.attrs, ins));
    }
    return outputs.map((t) => this.values.get(t.id) as string);
  }

  graph(name: string, outputs: OnnxValueInfo[]): OnnxGraph {
    return { name, nodes: this.nodes, initializers: this.initializers, inputs: this.inputs, outputs };
  }
}
