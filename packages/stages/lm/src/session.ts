// One GPT compiled three ways on the engine: a train step (forward + masked loss + backward + AdamW),
// a scoring program (summed loss and token count, for validation), and a logits program for sampling.
// They share parameters by name; the train step owns the current weights.
import { Graph, adamw, compileInference, compileTrainStep, type InferenceProgram, type TrainStep } from "@baton/engine";
import type { GptConfig } from "@baton/model";
import { frozenWeights, gptInputs, gptLogits, gptLoss } from "./gpt-graph.ts";

/** One batch in the graph's layout; every array is row-major [B,T] (= [N]). */
export interface LmBatch {
  tokens: BigInt64Array;
  positions: BigInt64Array;
  segments: BigInt64Array;
  targets: BigInt64Array;
  /** 1 where the target is trained / scored. */
  mask: Float32Array;
}

export interface OptimConfig {
  lr: number;
  beta1: number;
  beta2: number;
  weightDecay: number;
  clipNorm: number;
}

export interface SessionOptions {
  config: GptConfig;
  batchSize: number;
  optim: OptimConfig;
  seed: number;
  threads: number;
  trainable?: (name: string) => boolean;
}

export class LmSession {
  private scorer: InferenceProgram | null = null;
  private sampler: InferenceProgram | null = null;
  private readonly frozen: Record<string, Float32Array> = {};

  private constructor(
    readonly options: SessionOptions,
    private readonly step: TrainStep,
  ) {}

  static async create(options: SessionOptions): Promise<LmSession> {
    const { config, batchSize: B, optim } = options;
    const g = new Graph();
    const loss = gptLoss(g, config, B, config.blockSize, { trainable: options.trainable, train: true });
    const step = await compileTrainStep({
      graph: g,
      loss,
      optimizer: adamw({ beta1: optim.beta1, beta2: optim.beta2, eps: 1e-8, weightDecay: optim.weightDecay }),
      clipNorm: optim.clipNorm > 0 ? optim.clipNorm : undefined,
      seed: options.seed,
      threads: options.threads,
    });
    return new LmSession(options, step);
  }

  get config(): GptConfig {
    return this.options.config;
  }

  /** All weights, trained and frozen, by HF name. */
  weights(): Map<string, Float32Array> {
    const out = this.step.params();
    for (const [k, v] of Object.entries(this.frozen)) out.set(k, v);
    return out;
  }

  /** Loads every weight by HF name; the frozen ones are kept aside and fed to every run. */
  loadWeights(all: ReadonlyMap<string, Float32Array>): void {
    const trainable = this.options.trainable ?? (() => true);
    const trained = new Map<string, Float32Array>();
    for (const [k, v] of all) {
      if (trainable(k)) trained.set(k, v);
      else this.frozen[k] = v;
    }
    for (const f of frozenWeights(this.config, trainable)) {
      if (!this.frozen[f.name]) throw new Error(`frozen weight ${f.name} [${f.shape.join(",")}] missing from the loaded checkpoint`);
    }
    this.step.loadParams(trained);
  }

  optimizerState(): Map<string, Float32Array> {
    return this.step.optimizerState();
  }
  loadOptimizerState(state: ReadonlyMap<string, Float32Array>): void {
    this.step.loadOptimizerState(state);
  }

  /** One optimizer step (t = 1, 2, ...); returns the mean masked loss of the batch. */
  async trainStep(batch: LmBatch, lr: number, t: number): Promise<number> {
    const r = await this.step.run({ ...this.frozen, ...batch }, { lr, step: t });
    return r.loss;
  }

  /** Summed loss and counted tokens of a batch under the current weights (no update). */
  async score(batch: LmBatch): Promise<{ sum: number; count: number }> {
    if (!this.scorer) {
      const g = new Graph();
      const ce = gptLoss(g, this.config, this.options.batchSize, this.config.blockSize);
      this.scorer = await compileInference({ graph: g, outputs: { sum: ce.sum, count: ce.count }, threads: this.options.threads });
    }
    this.scorer.loadParams(this.weights());
    const out = await this.scorer.run({ ...batch });
    return { sum: Number(out.sum?.[0] ?? NaN), count: Number(out.count?.[0] ?? 0) };
  }

  /** Logits [T, V] of one row of tokens (the caller reads the row it needs). Weights as of now. */
  async logits(tokens: BigInt64Array, positions: BigInt64Array, fresh: boolean): Promise<Float32Array> {
    if (!this.sampler) {
      const g = new Graph();
      const inputs = gptInputs(g, 1, this.config.blockSize);
      this.sampler = await compileInference({ graph: g, outputs: { logits: gptLogits(g, this.config, inputs) }, threads: this.options.threads });
      fresh = true;
    }
    if (fresh) this.sampler.loadParams(this.weights());
    const segments = new BigInt64Array(tokens.length).fill(1n);
    const out = await this.sampler.run({ tokens, positions, segments });
    return out.logits as Float32Array;
  }

  async dispose(): Promise<void> {
    await this.scorer?.dispose();
    await this.sampler?.dispose();
  }
}
