// compileTrainStep: forward + loss + backward + clipping + optimizer in ONE ONNX model, opened as one
// session. Parameters and optimizer state are flat [P] inputs and outputs held in two preallocated
// buffer sets that swap every step. With accumSteps > 1 a second, "micro" program sums gradients
// over micro-batches and the step program divides by the tokens counted over ALL of them.
import type ort from "onnxruntime-node";
import type { CrossEntropy } from "./composites.ts";
import type { AnyTypedArray } from "./dtype.ts";
import { checkFeeds, type Feeds } from "./feeds.ts";
import { grad } from "./grad.ts";
import { ParamLayout } from "./layout.ts";
import { Emitter } from "./lower.ts";
import { encodeModel, type OnnxValueInfo } from "./onnx/model.ts";
import { TraceError } from "./ops.ts";
import { clipByGlobalNorm, type Optimizer } from "./optim.ts";
import { Program, type SessionConfig } from "./runner.ts";
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
}

export interface StepResult {
  loss: number;
  gradNorm: number;
}

/** Emits the ONNX value of each `param` leaf as Slice+Reshape of the flat "params" input. */
export function flatParamEmitter(layout: ParamLayout, hasSeed: boolean): Emitter {
  const cache = new Map<string, string>();
  const em: Emitter = new Emitter(
    (name) => {
      const slot = layout.byName.get(name);
      if (!slot) throw new TraceError("param", `"${name}" is not in the layout`);
      let v = cache.get(name);
      if (!v) {
        em.declareInput("params", "float32", [layout.total]);
        const flat = em.emit("Slice", ["params", em.ints([slot.offset]), em.ints([slot.offset + slot.size]), em.ints([0])]);
        v = em.emit("Reshape", [flat, em.ints(slot.shape)]);
        cache.set(name, v);
      }
      return v;
    },
    hasSeed ? () => em.declareInput("rng.seed", "float64", []) : undefined,
  );
  return em;
}

/** Lower `outputs` (name -> tensor) into a model; returns its bytes and its declared inputs. */
export function buildModel(em: Emitter, name: string, outputs: Record<string, Tensor>): { model: Uint8Array; inputs: OnnxValueInfo[] } {
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

/** Ping-pong pair of flat float32 buffers, each wrapped once as an onnxruntime tensor. */
class Swapped {
  private bufs: [Float32Array, Float32Array];
  private wrapped: [ort.Tensor, ort.Tensor];
  constructor(initial: Float32Array) {
    this.bufs = [initial, new Float32Array(initial.length)];
    this.wrapped = [Program.tensor({ data: this.bufs[0], dims: [initial.length] }), Program.tensor({ data: this.bufs[1], dims: [initial.length] })];
  }
  get current(): Float32Array {
    return this.bufs[0];
  }
  get feed(): ort.Tensor {
    return this.wrapped[0];
  }
  get fetch(): ort.Tensor {
    return this.wrapped[1];
  }
  swap(): void {
    this.bufs.reverse();
    this.wrapped.reverse();
  }
}

const scalar = (v: number): ort.Tensor => Program.tensor({ data: Float32Array.of(v), dims: [] });

export class TrainStep {
  private constructor(
    readonly layout: ParamLayout,
    private readonly optimizer: Optimizer,
    private readonly seed: number,
    private readonly paramBuf: Swapped,
    private readonly state: Swapped[],
    private readonly main: { program: Program; inputs: OnnxValueInfo[] },
    private readonly micro: { program: Program; inputs: OnnxValueInfo[]; acc: Swapped } | null,
    readonly userInputs: OnnxValueInfo[],
    readonly hasRandom: boolean,
    /** compile costs: gradient + lowering + encoding, session creation, parameter init (ms) */
    readonly timings: { buildMs: number; sessionMs: number; initMs: number; modelBytes: number; onnxNodes: number },
  ) {}

  static async compile(cfg: TrainStepConfig): Promise<TrainStep> {
    const g = cfg.graph;
    const layout = new ParamLayout(g);
    if (layout.total === 0) throw new TraceError("compileTrainStep", "the graph has no parameters (declare them with graph.param)");
    const accum = cfg.accumSteps ?? 1;
    if (!Number.isInteger(accum) || accum < 1) throw new TraceError("compileTrainStep", `accumSteps must be a positive integer, got ${accum}`);
    const { sum, count } = cfg.loss instanceof Tensor ? { sum: cfg.loss, count: g.const(1, [], cfg.loss.dtype) } : cfg.loss;
    if (sum.size !== 1 || count.size !== 1) throw new TraceError("compileTrainStep", `loss must be a scalar, got ${sum} / ${count}`);
    if (sum.dtype !== "float32") throw new TraceError("compileTrainStep", `loss must be float32 for training, got ${sum.dtype}`);
    const P = layout.total;
    const paramTensors = layout.slots.map((s) => s.info.tensor);
    const flatP = g.internalInput("params", [P]);
    const lr = g.internalInput("lr", []);
    const step = g.internalInput("step", []);
    const state = cfg.optimizer.state.map((n) => g.internalInput(n, [P]));
    const flatGrad = (loss: Tensor) => concat(grad(loss, paramTensors).map((t) => t.reshape([-1])), 0); // [P]
    const cnt = count.reshape([]);
    const optimise = (gr: Tensor) => {
      const { g: clipped, norm } = clipByGlobalNorm(gr, cfg.clipNorm);
      const u = cfg.optimizer.update({ p: flatP, g: clipped, state, lr, step, decayed: layout.decayed });
      const outs: Record<string, Tensor> = { "params.next": u.p, grad_norm: norm };
      cfg.optimizer.state.forEach((n, i) => (outs[`${n}.next`] = u.state[i] as Tensor));
      return outs;
    };
    const timings = { buildMs: 0, sessionMs: 0, initMs: 0, modelBytes: 0, onnxNodes: 0 };
    const open = async (name: string, outs: Record<string, Tensor>) => {
      let t0 = performance.now();
      const em = flatParamEmitter(layout, g.hasRandom);
      const built = buildModel(em, name, outs);
      timings.buildMs += performance.now() - t0;
      timings.modelBytes += built.model.length;
      timings.onnxNodes += em.nodes.length;
      t0 = performance.now();
      const program = await Program.open(built.model, cfg);
      timings.sessionMs += performance.now() - t0;
      return { program, inputs: built.inputs };
    };
    const internal = new Set(["params", "lr", "step", "rng.seed", "grad.acc", "count", ...cfg.optimizer.state]);
    let main: { program: Program; inputs: OnnxValueInfo[] };
    let micro: { program: Program; inputs: OnnxValueInfo[]; acc: Swapped } | null = null;
    if (accum === 1) {
      const mean = sum.reshape([]).div(cnt.maximum(1));
      main = await open("train_step", { ...optimise(flatGrad(mean)), loss: mean });
    } else {
      const acc = g.internalInput("grad.acc", [P]);
      const m = await open("train_micro", { "grad.acc.next": acc.add(flatGrad(sum.reshape([]))), loss_sum: sum.reshape([]), count: cnt });
      micro = { ...m, acc: new Swapped(new Float32Array(P)) };
      const total = g.internalInput("count", []);
      main = await open("train_apply", optimise(acc.div(total.maximum(1))));
    }
    const userInputs = (micro ?? main).inputs.filter((i) => !internal.has(i.name));
    const seed = cfg.seed ?? 0;
    const t0 = performance.now();
    const initial = layout.init(seed);
    timings.initMs = performance.now() - t0;
    return new TrainStep(
      layout,
      cfg.optimizer,
      seed,
      new Swapped(initial),
      cfg.optimizer.state.map(() => new Swapped(new Float32Array(P))),
      main,
      micro,
      userInputs,
      g.hasRandom,
      timings,
    );
  }

  /** Milliseconds spent inside onnxruntime so far (the rest of a step's wall time is ours). */
  get ortMs(): number {
    return this.main.program.ortMs + (this.micro?.program.ortMs ?? 0);
  }

  /** The per-run seed input: a pure function of (seed, step, micro-batch), so resume is exact. */
  private rngFeed(step: number, micro: number): Record<string, ort.Tensor> {
    if (!this.hasRandom) return {};
    const v = ((this.seed * 1_000_003 + step * 7_919 + micro * 104_729) % 2_147_483_647) / 97;
    return { "rng.seed": Program.tensor({ data: Float64Array.of(v), dims: [] }) };
  }

  private userFeeds(feeds: Feeds, where: string): Record<string, ort.Tensor> {
    checkFeeds(feeds, this.userInputs, where);
    const out: Record<string, ort.Tensor> = {};
    for (const i of this.userInputs) out[i.name] = Program.tensor({ data: feeds[i.name] as AnyTypedArray, dims: i.dims });
    return out;
  }

  /** One optimizer step. `feeds` is one batch, or accumSteps micro-batches. `step` is 1-based. */
  async run(feeds: Feeds | Feeds[], hp: { lr: number; step: number }): Promise<StepResult> {
    const micros = Array.isArray(feeds) ? feeds : [feeds];
    if (!Number.isInteger(hp.step) || hp.step < 1) throw new Error(`run: step must be an integer >= 1 (bias correction uses it), got ${hp.step}`);
    const base: Record<string, ort.Tensor> = { params: this.paramBuf.feed, lr: scalar(hp.lr), step: scalar(hp.step) };
    this.state.forEach((s, i) => (base[this.optimizer.state[i] as string] = s.feed));
    const fetches: Record<string, ort.Tensor | null> = { "params.next": this.paramBuf.fetch, grad_norm: null };
    this.state.forEach((s, i) => (fetches[`${this.optimizer.state[i]}.next`] = s.fetch));
    let loss: number;
    if (!this.micro) {
      if (micros.length !== 1) throw new Error(`run: this step was compiled with accumSteps = 1 but got ${micros.length} micro-batches`);
      const out = await this.main.program.run({ ...base, ...this.userFeeds(micros[0] as Feeds, "run"), ...this.rngFeed(hp.step, 0) }, { ...fetches, loss: null });
      loss = Number((out.loss as Float32Array)[0]);
      this.finish();
      return { loss, gradNorm: Number((out.grad_norm as Float32Array)[0]) };
    }
    const acc = this.micro.acc;
    acc.current.fill(0);
    let lossSum = 0;
    let count = 0;
    for (const [k, f] of micros.entries()) {
      const out = await this.micro.program.run(
        { params: this.paramBuf.feed, "grad.acc": acc.feed, ...this.userFeeds(f, `run (micro-batch ${k})`), ...this.rngFeed(hp.step, k) },
        { "grad.acc.next": acc.fetch, loss_sum: null, count: null },
      );
      acc.swap();
      lossSum += Number((out.loss_sum as Float32Array)[0]);
      count += Number((out.count as Float32Array)[0]);
    }
    const out = await this.main.program.run({ ...base, "grad.acc": acc.feed, count: scalar(count) }, fetches);
    this.finish();
    return { loss: lossSum / Math.max(count, 1), gradNorm: Number((out.grad_norm as Float32Array)[0]) };
  }

  private finish(): void {
    this.paramBuf.swap();
    for (const s of this.state) s.swap();
  }

  /** Copies of every parameter, by name. */
  params(): Map<string, Float32Array> {
    return this.layout.unpack(this.paramBuf.current);
  }
  loadParams(map: ReadonlyMap<string, Float32Array>): void {
    this.layout.pack(map, this.paramBuf.current);
  }
  optimizerState(): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    this.state.forEach((s, i) => {
      for (const [k, v] of this.layout.unpack(s.current, `${this.optimizer.state[i]}.`)) out.set(k, v);
    });
    return out;
  }
  loadOptimizerState(map: ReadonlyMap<string, Float32Array>): void {
    this.state.forEach((s, i) => {
      const prefix = `${this.optimizer.state[i]}.`;
      this.layout.pack(new Map([...map].filter(([k]) => k.startsWith(prefix))), s.current, prefix, "optimizer state");
    });
  }
  /** The flat parameter buffer itself (no copy; valid until the next run). */
  flatParams(): Float32Array {
    return this.paramBuf.current;
  }

  endProfiling(): void {
    this.main.program.endProfiling();
    this.micro?.program.endProfiling();
  }

  async dispose(): Promise<void> {
    await this.main.program.dispose();
    await this.micro?.program.dispose();
  }
}

export const compileTrainStep = (cfg: TrainStepConfig): Promise<TrainStep> => TrainStep.compile(cfg);
