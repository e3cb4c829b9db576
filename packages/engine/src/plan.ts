// Planning a train step: forward + loss + backward + clipping + optimizer traced into ONE ONNX model
// (no onnxruntime here, so build cost can be measured and models inspected on their own). With
// accumSteps > 1 a second, "micro" model sums gradients over micro-batches and the step model
// divides by the tokens counted over ALL of them.
import type { CrossEntropy } from "./composites.ts";
import { DTYPE_BYTES } from "./dtype.ts";
import { grad } from "./grad.ts";
import { canWriteOver } from "./inplace.ts";
import { BLOCK, ParamLayout } from "./layout.ts";
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
  /** floats per optimizer bucket (updateBuckets); default UPDATE_BUCKET */
  updateBucket?: number;
}

/** output -> the inputs whose memory it would be written over, the one it replaces first */
type Writes = Record<string, string[]>;

export interface PlannedModel {
  model: Uint8Array;
  inputs: OnnxValueInfo[];
  /** ONNX nodes emitted (before onnxruntime's own fusions) */
  nodes: number;
  /** bytes of every traced value the model computes, summed: what a run touches (chooses memory options) */
  valueBytes: number;
  /** the model's output names */
  outputs: Set<string>;
  /** outputs "X.next" that may be written over input X's buffer under sequential execution (inplace.ts) */
  overwrites: Set<string>;
}

export interface TrainPlan {
  layout: ParamLayout;
  /** the ranges of the flat buffers that the optimizer updates one after another (updateBuckets) */
  buckets: UpdateBucket[];
  main: PlannedModel;
  micro: PlannedModel | null;
  /** the feeds a caller gives each run (graph inputs, not params/state/scalars) */
  userInputs: OnnxValueInfo[];
  /** gradient + lowering + encoding time (ms) */
  buildMs: number;
}

/**
 * Floats per optimizer bucket. Every elementwise step of the update allocates a temporary as large as
 * what it updates: over one flat [P] range that was 1.4 GB of temporaries at gpt2-124m's 124M
 * parameters (3,620 MB peak with plain SGD, 5,994 with AdamW). Larger models are updated in ranges
 * of at most this many floats (16 MiB), one after another, so the temporaries are a few of those; a
 * model this small or smaller (nanogpt-baby, the demo's) keeps its single flat update.
 */
export const UPDATE_BUCKET = 2 ** 22;

/** A range [offset, offset + size) of the flat buffers, and how many of its first floats take weight decay. */
export interface UpdateBucket {
  offset: number;
  size: number;
  decayed: number;
}

/**
 * The whole buffer as one bucket when it fits, else the decayed prefix and the rest each cut into
 * ranges of at most `max` floats, so that a bucket is decayed throughout or not at all.
 */
export function updateBuckets(layout: ParamLayout, max = UPDATE_BUCKET): UpdateBucket[] {
  if (!(max >= BLOCK && (max % BLOCK === 0 || max === Number.POSITIVE_INFINITY)))
    throw new TraceError("compileTrainStep", `updateBucket must be a multiple of ${BLOCK} floats, got ${max}`);
  if (layout.total <= max) return [{ offset: 0, size: layout.total, decayed: layout.decayed }];
  const cut = (from: number, to: number, decay: boolean) => {
    const out: UpdateBucket[] = [];
    for (let at = from; at < to; at += max) {
      const size = Math.min(max, to - at);
      out.push({ offset: at, size, decayed: decay ? size : 0 });
    }
    return out;
  };
  return [...cut(0, layout.decayed, true), ...cut(layout.decayed, layout.total, false)];
}

/** Graph input of bucket `i` of flat buffer `base` ("params", "adam.m", "grad.acc"); the buffer's own name when there is one bucket. */
export const bucketInput = (base: string, i: number, count: number): string => (count === 1 ? base : `${base}@${i}`);

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
  // A bucket's new weights may be written over the old ones once nothing reads them any more
  // (inplace.ts). Clipping makes every update wait for the whole gradient, so that holds for all
  // buckets; without it (and without accumulation, where the weights are not read before the
  // update) only one update over the whole buffer is sure to run last.
  const ordered = cfg.clipNorm !== undefined || accum > 1;
  const buckets = updateBuckets(layout, ordered ? cfg.updateBucket : Number.POSITIVE_INFINITY);
  const paramTensors = layout.slots.map((s) => s.info.tensor);
  const lr = g.internalInput("lr", []);
  const step = g.internalInput("step", []);
  const bucketed = (base: string) =>
    buckets.map((b, i) => g.internalInput(bucketInput(base, i, buckets.length), [b.size]));
  const [params, ...state] = ["params", ...cfg.optimizer.state].map(bucketed) as [Tensor[], ...Tensor[][]];
  // [to - from]: the parameters' gradients (flattened) at their offsets in that range, zeros in the padding
  const gradRange = (grads: Tensor[], from: number, to: number) => {
    const pieces: { offset: number; t: Tensor }[] = [];
    layout.slots.forEach((s, i) => {
      const [a, b] = [Math.max(from, s.offset), Math.min(to, s.offset + s.size)];
      if (a >= b) return;
      const t = grads[i] as Tensor;
      pieces.push({
        offset: a,
        t: a === s.offset && b === s.offset + s.size ? t : t.slice(0, a - s.offset, b - s.offset),
      });
    });
    for (const gap of layout.gaps()) {
      const [a, b] = [Math.max(from, gap.offset), Math.min(to, gap.offset + gap.size)];
      if (a < b) pieces.push({ offset: a, t: g.const(0, [b - a]) });
    }
    const sorted = pieces.sort((x, y) => x.offset - y.offset).map((p) => p.t);
    return sorted.length === 1 ? (sorted[0] as Tensor) : concat(sorted, 0);
  };
  const paramGrads = (loss: Tensor) => grad(loss, paramTensors).map((t) => t.reshape([-1]));
  const flatGrad = (loss: Tensor) => gradRange(paramGrads(loss), 0, P); // [P]
  const cnt = count.reshape([]);
  /**
   * The update of every bucket. `norm` is what the global norm is taken over: the flat gradient for
   * one bucket; with several, the parameters' own gradients, so that no bucket's gradient range is
   * cut before the clipping scale exists and its update can run right after the cut.
   */
  const optimise = (bucketGrad: (i: number) => Tensor, norm: Tensor | Tensor[], preScale?: Tensor) => {
    const clip = clipByGlobalNorm(norm, cfg.clipNorm, preScale);
    const outs: Record<string, Tensor> = { grad_norm: clip.norm };
    const writes: Writes = {};
    buckets.forEach((b, i) => {
      const u = cfg.optimizer.update({
        p: params[i] as Tensor,
        g: bucketGrad(i),
        gScale: clip.scale,
        state: state.map((s) => s[i] as Tensor),
        lr,
        step,
        decayed: b.decayed,
      });
      // the parameters are also fed as per-parameter views over the same buffer: those over this range
      const views = layout.slots
        .filter((s) => s.offset < b.offset + b.size && b.offset < s.offset + s.size)
        .map((s) => paramInput(s.name));
      const p = bucketInput("params", i, buckets.length);
      outs[`${p}.next`] = u.p;
      writes[`${p}.next`] = [p, ...views];
      cfg.optimizer.state.forEach((n, k) => {
        const input = bucketInput(n, i, buckets.length);
        outs[`${input}.next`] = u.state[k] as Tensor;
        writes[`${input}.next`] = [input];
      });
    });
    return { outs, writes };
  };
  const build = (name: string, outs: Record<string, Tensor>, writes: Writes): PlannedModel => {
    const em = flatParamEmitter(layout, g.hasRandom);
    const built = buildModel(em, name, outs);
    let valueBytes = 0;
    for (const id of em.values.keys()) {
      const t = g.nodes[id] as Tensor;
      valueBytes += t.size * DTYPE_BYTES[t.dtype];
    }
    const declared = new Set(built.inputs.map((i) => i.name));
    const overwrites = new Set<string>();
    for (const [out, memory] of Object.entries(writes)) {
      if (!declared.has(memory[0] as string)) continue;
      const fed = memory.filter((m) => declared.has(m));
      if (canWriteOver(em.nodes, fed, out)) overwrites.add(out);
    }
    return { ...built, outputs: new Set(Object.keys(outs)), nodes: em.nodes.length, valueBytes, overwrites };
  };
  let main: PlannedModel;
  let micro: PlannedModel | null = null;
  if (accum === 1) {
    const mean = sum.reshape([]).div(cnt.maximum(1));
    const grads = paramGrads(mean);
    const flat = buckets.length === 1 ? gradRange(grads, 0, P) : null;
    const range = (i: number) => {
      const b = buckets[i] as UpdateBucket;
      return flat ?? gradRange(grads, b.offset, b.offset + b.size);
    };
    const { outs, writes } = optimise(range, flat ?? grads);
    main = build("train_step", { ...outs, loss: mean }, writes);
  } else {
    const acc = g.internalInput("grad.acc", [P]);
    micro = build(
      "train_micro",
      { "grad.acc.next": acc.add(flatGrad(sum.reshape([]))), loss_sum: sum.reshape([]), count: cnt },
      { "grad.acc.next": ["grad.acc"] },
    );
    const total = g.internalInput("count", []);
    const accBuckets = buckets.length === 1 ? [acc] : bucketed("grad.acc");
    // mean over ALL counted tokens
    const { outs, writes } = optimise((i) => accBuckets[i] as Tensor, accBuckets, total.maximum(1).reciprocal());
    main = build("train_apply", outs, writes);
  }
  const internal = new Set(["params", "lr", "step", "rng.seed", "grad.acc", "count", ...cfg.optimizer.state]);
  const isInternal = (name: string) => internal.has(name.replace(/@\d+$/, "")) || isParamInput(name);
  const userInputs = (micro ?? main).inputs.filter((i) => !isInternal(i.name));
  return { layout, buckets, main, micro, userInputs, buildMs: performance.now() - t0 };
}
