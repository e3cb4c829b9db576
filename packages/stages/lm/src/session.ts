// A stage's model between training runs: the weights by HF name, plus the two programs a stage
// needs around training, both from @baton/model: scoring (summed loss and counted tokens of packed
// batches) and KV-cache sampling. Training itself is @baton/model's trainer (see train-loop.ts); the
// session carries the settings it trains with, so a stage's recipe opens one session and passes it on.
import { BatonError } from "@baton/contracts";
import { compileInference } from "@baton/engine";
import { Evaluator, type GptConfig, type LmBatch, Sampler, traceEvaluation } from "@baton/model";

export type { LmBatch } from "@baton/model";

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
  /** random init (when nothing is loaded), data order and dropout */
  seed: number;
  threads: number;
  /** false for a weight that stays as the input checkpoint has it. Default: every weight trains. */
  trainable?: (name: string) => boolean;
}

export class LmSession {
  private scorer: Evaluator | null = null;
  private sampler: Sampler | null = null;
  /** which programs have the current weights loaded */
  private loaded = { scorer: false, sampler: false };

  /** weights beside the GPT's (a reward or value model's score head): trained and saved with it, not sampled */
  private heads = new Map<string, Float32Array>();

  private constructor(
    readonly options: SessionOptions,
    private current: Map<string, Float32Array>,
  ) {}

  /** A session on a random init of `config` (GPT-2's init from `seed`); loadWeights to start from a checkpoint. */
  static async create(options: SessionOptions): Promise<LmSession> {
    const { g, outputs } = traceEvaluation(options.config, { batch: 1, seq: 1 });
    const init = await compileInference({ graph: g, outputs, seed: options.seed, threads: 1 });
    const weights = init.params();
    await init.dispose();
    return new LmSession(options, weights);
  }

  get config(): GptConfig {
    return this.options.config;
  }

  /** Adds (or replaces) a head weight; loadWeights then expects it in every map it is given. */
  setHead(name: string, values: Float32Array): void {
    if (this.current.has(name)) throw new Error(`setHead: ${name} is a GPT weight, not a head`);
    this.heads.set(name, values.slice());
  }

  head(name: string): Float32Array {
    const h = this.heads.get(name);
    if (!h) throw new Error(`the session has no head ${name}; heads: ${[...this.heads.keys()].join(", ") || "none"}`);
    return h.slice();
  }

  /** Names of the weights that do not train under `options.trainable`. */
  frozen(): Set<string> {
    const trainable = this.options.trainable ?? (() => true);
    return new Set([...this.current.keys(), ...this.heads.keys()].filter((k) => !trainable(k)));
  }

  /** All weights, trained and frozen, heads included, by HF name (copies). */
  weights(): Map<string, Float32Array> {
    return new Map([...this.current, ...this.heads].map(([k, v]) => [k, v.slice()]));
  }

  /** Replaces every weight; a checkpoint that lacks one of the model's weights is refused. */
  loadWeights(all: ReadonlyMap<string, Float32Array>): void {
    for (const [name, w] of this.current) {
      const v = all.get(name);
      // A checkpoint of another shape never fits: no retry can help.
      if (!v)
        throw BatonError.fatal(
          "CHECKPOINT_MISSING",
          `weight ${name} [${w.length} values] is missing from the loaded checkpoint; it is not a checkpoint of this model`,
        );
      if (v.length !== w.length)
        throw BatonError.fatal(
          "CHECKPOINT_MISSING",
          `weight ${name} has ${v.length} values in the loaded checkpoint, the model wants ${w.length}; it is not a checkpoint of this model`,
        );
    }
    for (const name of this.heads.keys())
      if (!all.has(name)) throw new Error(`head ${name} is missing from the loaded weights`);
    this.current = new Map([...this.current.keys()].map((k) => [k, all.get(k) as Float32Array]));
    this.heads = new Map([...this.heads.keys()].map((k) => [k, all.get(k) as Float32Array]));
    this.loaded = { scorer: false, sampler: false };
  }

  /** Summed loss and counted tokens of a packed batch [B*T] under the current weights (no update). */
  async score(batch: LmBatch): Promise<{ sum: number; count: number }> {
    this.scorer ??= await Evaluator.compile(this.config, {
      batch: this.options.batchSize,
      seq: this.config.blockSize,
      threads: this.options.threads,
      packed: true,
    });
    if (!this.loaded.scorer) this.scorer.loadParams(this.current);
    this.loaded.scorer = true;
    return this.scorer.lossTerms(batch, "scoring batch");
  }

  /** The KV-cache sampler with the current weights loaded. */
  async sampling(): Promise<Sampler> {
    this.sampler ??= await Sampler.create(this.config, this.current, { threads: this.options.threads });
    if (!this.loaded.sampler) this.sampler.loadParams(this.current);
    this.loaded.sampler = true;
    return this.sampler;
  }

  async dispose(): Promise<void> {
    await this.scorer?.dispose();
    await this.sampler?.dispose();
  }
}
