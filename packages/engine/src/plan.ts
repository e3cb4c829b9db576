// Planning a train step: forward + loss + backward + clipping + optimizer traced into ONE ONNX model
// (no onnxruntime here, so build cost can be measured and models inspected on their own). With
// accumSteps > 1 a second, "micro" model sums gradients over micro-batches and the step model
// divides by the tokens counted over ALL of them.
import type { CrossEntropy } from "./composites.ts";
import { DTYPE_BYTES } from "./dtype.ts";
import { grad } from "./grad.ts";
import { canWriteOver } from "./inplace.ts";
import { ParamLayout } from "./layout.ts";
import { Emitter } from "./lower.ts";
import { encodeModel, type OnnxValueInfo } from "./onnx/model.ts";
import { TraceError } from "./ops.ts";
import { clipByGlobalNorm, type Optimizer } from "./optim.ts";
import type { SessionConfig } from "./runner.ts";
import { concat, type Graph, Tensor } from "./tensor.ts";

export interface TrainStepConfig extends SessionConfig {
  graph: Graph;
  /** a scalar, or { sum, count } (from nn.crossEntropy) so accumulation normalises by all tokens */
  loss: Tensor | Pick<CrossEntropy, "sum" | "count">;
  optimizer: Optimizer;
  clipNorm?: number;
  accumSteps?: number;
  /** parameter init and dropout randomness (default 0) */
  seed?: number;
  /**
   * Write the new weights and optimizer state over the old ones where that is provably safe
   * (inplace.ts): one buffer each instead of two. Default true; false keeps ping-pong buffers.
   */
  inPlaceUpdates?: boolean;
}

export interface PlannedModel {
  model: Uint8Array;
  inputs: OnnxValueInfo[];
  /** ONNX nodes emitted (before onnxruntime's own fusions) */
  nodes: number;
  /** bytes of every traced value the model computes, summed: what a run touches (chooses memory options) */
  valueBytes: number;
  /** outputs "X.next" that may be written over input X's buffer under sequential execution (inplace.ts) */
  overwrites: Set<string>;
}

export interface TrainPlan {
  layout: ParamLayout;
  main: PlannedModel;
  micro: PlannedModel | null;
  /** the feeds a caller gives each run (graph inputs, not params/state/scalars) */
  userInputs: OnnxValueInfo[];
  /** gradient + lowering + encoding time (ms) */
  buildMs: number;
}

/** Graph input name of a parameter: fed as a zero-copy view into the flat parameter buffer. */
export const paramInput = (name: string): string => `param.${name}`;
export const isParamInput = (input: string): boolean => input.startsWith("param.");

/**
 * Each `param` leaf is its own graph input, fed as a view into the flat [P] buffer, so the forward
 * pass slices nothing; the optimizer reads the same memory as the flat input "params".
 */
export function flatParamEmitter(layout: ParamLayout, hasSeed: boolean): Emitter {
  const em: Emitter = new Emitter(
    (name) => {
      const slot = layout.byName.get(name);
      if (!slot) throw new TraceError("param", `"${name}" is not in the layout`);
      return em.declareInput(paramInput(name), "float32", slot.shape);
    },
    hasSeed ? () => em.declareInput("rng.seed", "int64", []) : undefined,
  );
  return em;
}

/** Lower `outputs` (name -> tensor) into a model; returns its bytes and its declared inputs. */
export function buildModel(
  em: Emitter,
  name: string,
  outputs: Record<string, Tensor>,
): { model: Uint8Array; inputs: OnnxValueInfo[] } {
  const names = Object.keys(outputs);
  const tensors = Object.values(outputs);
  const values = em.lower(tensors);
  names.forEach((n, i) => em.nameOutput(values[i] as string, n));
  const infos: OnnxValueInfo[] = names.map((n, i) => {
    const t = tensors[i] as Tensor;
    return { name: n, dtype: t.dtype, dims: [...t.shape] };
  });
  return { model: encodeModel(em.graph(name, infos)), inputs: em.inputs };
}

export function planTrainStep(cfg: TrainStepConfig): TrainPlan {
  const t0 = performance.now();
  const g = cfg.graph;
  const layout = new ParamLayout(g);
  if (layout.total === 0)
    throw new TraceError("compileTrainStep", "the graph has no parameters (declare them with graph.param)");
  const accum = cfg.accumSteps ?? 1;
  if (!Number.isInteger(accum) || accum < 1)
    throw new TraceError("compileTrainStep", `accumSteps must be a positive integer, got ${accum}`);
  const { sum, count } =
    cfg.loss instanceof Tensor ? { sum: cfg.loss, count: g.const(1, [], cfg.loss.dtype) } : cfg.loss;
  if (sum.size !== 1 || count.size !== 1)
    throw new TraceError("compileTrainStep", `loss must be a scalar, got ${sum} / ${count}`);
  if (sum.dtype !== "float32")
    throw new TraceError("compileTrainStep", `loss must be float32 for training, got ${sum.dtype}`);
  const P = layout.total;
  const paramTensors = layout.slots.map((s) => s.info.tensor);
  const flatP = g.internalInput("params", [P]);
  const lr = g.internalInput("lr", []);
  const step = g.internalInput("step", []);
  const state = cfg.optimizer.state.map((n) => g.internalInput(n, [P]));
  // [P]: each parameter's gradient at its offset, zeros in the layout's padding
  const flatGrad = (loss: Tensor) => {
    const grads = grad(loss, paramTensors).map((t) => t.reshape([-1]));
    const pieces: { offset: number; t: Tensor }[] = layout.slots.map((s, i) => ({
      offset: s.offset,
      t: grads[i] as Tensor,
    }));
    for (const gap of layout.gaps()) pieces.push({ offset: gap.offset, t: g.const(0, [gap.size]) });
    return concat(
      pieces.sort((a, b) => a.offset - b.offset).map((p) => p.t),
      0,
    );
  };
  const cnt = count.reshape([]);
  const optimise = (gr: Tensor, preScale?: Tensor) => {
    const { scale, norm } = clipByGlobalNorm(gr, cfg.clipNorm, preScale);
    const u = cfg.optimizer.update({ p: flatP, g: gr, gScale: scale, state, lr, step, decayed: layout.decayed });
    const outs: Record<string, Tensor> = { "params.next": u.p, grad_norm: norm };
    cfg.optimizer.state.forEach((n, i) => (outs[`${n}.next`] = u.state[i] as Tensor));
    return outs;
  };
  const build = (name: string, outs: Record<string, Tensor>): PlannedModel => {
    const em = flatParamEmitter(layout, g.hasRandom);
    const built = buildModel(em, name, outs);
    let valueBytes = 0;
    for (const id of em.values.keys()) {
      const t = g.nodes[id] as Tensor;
      valueBytes += t.size * DTYPE_BYTES[t.dtype];
    }
    const overwrites = new Set<string>();
    for (const out of Object.keys(outs)) {
      const base = out.endsWith(".next") ? out.slice(0, -".next".length) : null;
      if (base === null || !built.inputs.some((i) => i.name === base)) continue;
      // the flat parameters are also fed as per-parameter views over the same buffer
      const memory =
        base === "params" ? [base, ...built.inputs.filter((i) => isParamInput(i.name)).map((i) => i.name)] : [base];
      if (canWriteOver(em.nodes, memory, out)) overwrites.add(out);
    }
    return { ...built, nodes: em.nodes.length, valueBytes, overwrites };
  };
  let main: PlannedModel;
  let micro: PlannedModel | null = null;
  if (accum === 1) {
    const mean = sum.reshape([]).div(cnt.maximum(1));
    main = build("train_step", { ...optimise(flatGrad(mean)), loss: mean });
  } else {
    const acc = g.internalInput("grad.acc", [P]);
    micro = build("train_micro", {
      "grad.acc.next": acc.add(flatGrad(sum.reshape([]))),
      loss_sum: sum.reshape([]),
      count: cnt,
    });
    const total = g.internalInput("count", []);
    main = build("train_apply", optimise(acc, total.maximum(1).reciprocal())); // mean over ALL counted tokens
  }
  const internal = new Set(["params", "lr", "step", "rng.seed", "grad.acc", "count", ...cfg.optimizer.state]);
  const userInputs = (micro ?? main).inputs.filter((i) => !internal.has(i.name) && !isParamInput(i.name));
  return { layout, main, micro, userInputs, buildMs: performance.now() - t0 };
}
