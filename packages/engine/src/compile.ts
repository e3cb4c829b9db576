// compileTrainStep: the planned train-step model(s) (plan.ts) opened as onnxruntime sessions. Parameters and optimizer state are flat [P] buffers, fed and fetched as views
// (whole, per update bucket, per parameter), each buffer preallocated and written over in place where the plan proves it safe (inplace.ts), else in two that swap every step. With accumSteps > 1 a second, "micro" program sums gradients
// over micro-batches and the step program divides by the tokens counted over ALL of them.
import type ort from "onnxruntime-node";
import type { AnyTypedArray } from "./dtype.ts";
import { checkFeeds, type Feeds } from "./feeds.ts";
import type { ParamLayout } from "./layout.ts";
import type { OnnxValueInfo } from "./onnx/model.ts";
import type { Optimizer } from "./optim.ts";
import {
  bucketInput,
  type PlannedModel,
  paramInput,
  planTrainStep,
  type TrainStepConfig,
  type UpdateBucket,
} from "./plan.ts";
import { rngKey } from "./random.ts";
import { Program, type SessionConfig } from "./runner.ts";

export interface StepResult {
  loss: number;
  gradNorm: number;
}

/** A zero-copy tensor over [offset, offset + size) of a flat buffer, fed as `input` (and fetched as `output`). */
interface View {
  input: string;
  output?: string;
  offset: number;
  size: number;
  dims: number[];
}

/**
 * Ping-pong pair of flat float32 buffers, each seen through views (zero-copy tensors over subarrays):
 * the whole buffer or its update buckets, and the per-parameter views when given. `inPlace`: one
 * buffer that is both fed and fetched, for outputs the plan found safe to write over their inputs
 * (inplace.ts).
 */
class Swapped {
  private bufs: [Float32Array, Float32Array];
  private views: [Map<string, ort.Tensor>, Map<string, ort.Tensor>];
  constructor(
    initial: Float32Array,
    private readonly ranges: readonly View[],
    inPlace = false,
  ) {
    this.bufs = [initial, inPlace ? initial : new Float32Array(initial.length)];
    const viewsOf = (buf: Float32Array) =>
      new Map(
        ranges.map((r) => [r.input, Program.tensor({ data: buf.subarray(r.offset, r.offset + r.size), dims: r.dims })]),
      );
    this.views = [viewsOf(this.bufs[0]), viewsOf(this.bufs[1])];
  }
  get current(): Float32Array {
    return this.bufs[0];
  }
  /** views of the current buffer, restricted to the inputs a program declares */
  feeds(inputs: readonly OnnxValueInfo[]): Record<string, ort.Tensor> {
    const out: Record<string, ort.Tensor> = {};
    for (const i of inputs) {
      const v = this.views[0].get(i.name);
      if (v) out[i.name] = v;
    }
    return out;
  }
  /** the next buffer's views as outputs, for the views whose output a program declares */
  fetches(outputs: ReadonlySet<string>): Record<string, ort.Tensor> {
    const out: Record<string, ort.Tensor> = {};
    for (const r of this.ranges) if (r.output && outputs.has(r.output)) out[r.output] = this.views[1].get(r.input)!;
    return out;
  }
  swap(): void {
    this.bufs.reverse();
    this.views.reverse();
  }
}

/** The views of flat buffer `base` that the optimizer updates: one per bucket (plan.ts). */
const bucketViews = (base: string, buckets: readonly UpdateBucket[]): View[] =>
  buckets.map((b, i) => {
    const input = bucketInput(base, i, buckets.length);
    return { input, output: `${input}.next`, offset: b.offset, size: b.size, dims: [b.size] };
  });

const scalar = (v: number): ort.Tensor => Program.tensor({ data: Float32Array.of(v), dims: [] });

/**
 * From this many bytes of traced values a step runs without onnxruntime's arena and memory
 * pattern: freed intermediates go back to the system instead of staying reserved, which halved
 * nanogpt-shakespeare-char's peak RSS (10.1 -> 5.3 GB at batch 64) at no measured cost; small steps
 * keep both, which measured 3-18% faster on nanogpt-baby (310 MB of values). See BENCH.md.
 */
export const LEAN_MEMORY_BYTES = 2 ** 30;

export function memoryOptions<C extends SessionConfig>(cfg: C, valueBytes: number): C {
  const small = valueBytes < LEAN_MEMORY_BYTES;
  return { ...cfg, memoryArena: cfg.memoryArena ?? small, memoryPattern: cfg.memoryPattern ?? small };
}

/** Write `output` over its input's buffer: the plan says it is safe, and nodes run one at a time. */
function overwrites(cfg: TrainStepConfig, m: PlannedModel, output: string): boolean {
  return (
    (cfg.inPlaceUpdates ?? true) && (cfg.executionMode ?? "sequential") === "sequential" && m.overwrites.has(output)
  );
}

export class TrainStep {
  private constructor(
    readonly layout: ParamLayout,
    private readonly optimizer: Optimizer,
    private readonly seed: number,
    private readonly paramBuf: Swapped,
    private readonly state: Swapped[],
    private readonly main: { program: Program; inputs: OnnxValueInfo[]; outputs: Set<string> },
    private readonly micro: { program: Program; inputs: OnnxValueInfo[]; acc: Swapped } | null,
    readonly userInputs: OnnxValueInfo[],
    readonly hasRandom: boolean,
    /** compile costs: gradient + lowering + encoding, session creation, parameter init (ms) */
    readonly timings: { buildMs: number; sessionMs: number; initMs: number; modelBytes: number; onnxNodes: number },
    /** the outputs written over their inputs' buffers ("params.next", "adam.m.next", ...) */
    readonly inPlace: readonly string[],
  ) {}

  static async compile(cfg: TrainStepConfig): Promise<TrainStep> {
    const plan = planTrainStep(cfg);
    const { layout } = plan;
    const P = layout.total;
    const timings = { buildMs: plan.buildMs, sessionMs: 0, initMs: 0, modelBytes: 0, onnxNodes: 0 };
    const open = async (m: PlannedModel) => {
      timings.modelBytes += m.model.length;
      timings.onnxNodes += m.nodes;
      const t0 = performance.now();
      const program = await Program.open(m.model, memoryOptions(cfg, m.valueBytes));
      timings.sessionMs += performance.now() - t0;
      return { program, inputs: m.inputs, outputs: m.outputs };
    };
    const main = await open(plan.main);
    const flat = ["params", ...cfg.optimizer.state];
    // a buffer is written over in place when every one of its buckets may be
    const inPlace = flat
      .filter((base) => bucketViews(base, plan.buckets).every((v) => overwrites(cfg, plan.main, v.output!)))
      .map((base) => `${base}.next`);
    if (plan.micro && overwrites(cfg, plan.micro, "grad.acc.next")) inPlace.push("grad.acc.next");
    const accViews: View[] = [
      { input: "grad.acc", output: "grad.acc.next", offset: 0, size: P, dims: [P] },
      ...(plan.buckets.length > 1 ? bucketViews("grad.acc", plan.buckets).map(({ output: _, ...v }) => v) : []),
    ];
    const micro = plan.micro
      ? {
          ...(await open(plan.micro)),
          acc: new Swapped(new Float32Array(P), accViews, inPlace.includes("grad.acc.next")),
        }
      : null;
    const paramViews: View[] = layout.slots.map((s) => ({
      input: paramInput(s.name),
      offset: s.offset,
      size: s.size,
      dims: s.shape,
    }));
    const seed = cfg.seed ?? 0;
    const t0 = performance.now();
    const initial = layout.init(seed);
    timings.initMs = performance.now() - t0;
    return new TrainStep(
      layout,
      cfg.optimizer,
      seed,
      new Swapped(initial, [...bucketViews("params", plan.buckets), ...paramViews], inPlace.includes("params.next")),
      cfg.optimizer.state.map(
        (n) => new Swapped(new Float32Array(P), bucketViews(n, plan.buckets), inPlace.includes(`${n}.next`)),
      ),
      main,
      micro,
      plan.userInputs,
      cfg.graph.hasRandom,
      timings,
      inPlace,
    );
  }

  /** Milliseconds spent inside onnxruntime so far (the rest of a step's wall time is ours). */
  get ortMs(): number {
    return this.main.program.ortMs + (this.micro?.program.ortMs ?? 0);
  }

  /** The per-run seed input: a pure function of (seed, step, micro-batch), so resume is exact. */
  private rngFeed(step: number, micro: number): Record<string, ort.Tensor> {
    if (!this.hasRandom) return {};
    return { "rng.seed": Program.tensor({ data: BigInt64Array.of(rngKey(this.seed, step, micro)), dims: [] }) };
  }

  private userFeeds(feeds: Feeds, where: string): Record<string, ort.Tensor> {
    checkFeeds(feeds, this.userInputs, where);
    const out: Record<string, ort.Tensor> = {};
    for (const i of this.userInputs)
      out[i.name] = Program.tensor({ data: feeds[i.name] as AnyTypedArray, dims: i.dims });
    return out;
  }

  /** One optimizer step. `feeds` is one batch, or accumSteps micro-batches. `step` is 1-based. */
  async run(feeds: Feeds | Feeds[], hp: { lr: number; step: number }): Promise<StepResult> {
    const micros = Array.isArray(feeds) ? feeds : [feeds];
    if (!Number.isInteger(hp.step) || hp.step < 1)
      throw new Error(`run: step must be an integer >= 1 (bias correction uses it), got ${hp.step}`);
    const flat = [this.paramBuf, ...this.state];
    const base: Record<string, ort.Tensor> = Object.assign(
      { lr: scalar(hp.lr), step: scalar(hp.step) },
      ...flat.map((b) => b.feeds(this.main.inputs)),
    );
    const fetches: Record<string, ort.Tensor | null> = Object.assign(
      { grad_norm: null },
      ...flat.map((b) => b.fetches(this.main.outputs)),
    );
    let loss: number;
    if (!this.micro) {
      if (micros.length !== 1)
        throw new Error(`run: this step was compiled with accumSteps = 1 but got ${micros.length} micro-batches`);
      const out = await this.main.program.run(
        { ...base, ...this.userFeeds(micros[0] as Feeds, "run"), ...this.rngFeed(hp.step, 0) },
        { ...fetches, loss: null },
      );
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
        {
          ...this.paramBuf.feeds(this.micro.inputs),
          ...acc.feeds(this.micro.inputs),
          ...this.userFeeds(f, `run (micro-batch ${k})`),
          ...this.rngFeed(hp.step, k),
        },
        { ...acc.fetches(new Set(["grad.acc.next"])), loss_sum: null, count: null },
      );
      acc.swap();
      lossSum += Number((out.loss_sum as Float32Array)[0]);
      count += Number((out.count as Float32Array)[0]);
    }
    const out = await this.main.program.run({ ...base, ...acc.feeds(this.main.inputs), count: scalar(count) }, fetches);
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
  /** Every parameter as a view of the step's own buffer (no copy): valid until the next run. */
  paramViews(): Map<string, Float32Array> {
    return this.layout.views(this.paramBuf.current);
  }
  loadParams(map: ReadonlyMap<string, Float32Array>): void {
    this.layout.pack(map, this.paramBuf.current);
  }
  /** Copies of the optimizer state, by checkpoint name (`adam.m.<param>`, ...). */
  optimizerState(): Map<string, Float32Array> {
    return this.stateOf((flat, prefix) => this.layout.unpack(flat, prefix));
  }
  /** The optimizer state as views of the step's own buffers (no copy): valid until the next run. */
  optimizerStateViews(): Map<string, Float32Array> {
    return this.stateOf((flat, prefix) => this.layout.views(flat, prefix));
  }
  private stateOf(read: (flat: Float32Array, prefix: string) => Map<string, Float32Array>): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    this.state.forEach((s, i) => {
      for (const [k, v] of read(s.current, `${this.optimizer.state[i]}.`)) out.set(k, v);
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
