// Evaluation: the mean loss over K fixed batches, from a forward-only program of the same model
// (no dropout, no backward), fed the trainer's current weights.
import { compileInference, type InferenceProgram } from "@baton/engine";
import type { GptModelConfig } from "../gpt/config.ts";
import { type Objective, traceEvaluation } from "../gpt/graphs.ts";
import type { LmBatch } from "./batches.ts";
import { batchFeeds } from "./feeds.ts";

export class Evaluator {
  private constructor(
    private readonly program: InferenceProgram,
    private readonly batch: number,
    private readonly seq: number,
    private readonly vocab: number,
    private readonly packed: boolean,
  ) {}

  /** `packed`: the batches carry positions and segmentIds (see traceGpt). */
  static async compile(cfg: GptModelConfig, opts: { batch: number; seq: number; threads: number; objective?: Objective; packed?: boolean }): Promise<Evaluator> {
    const packed = opts.packed ?? false;
    const { g, outputs } = traceEvaluation(cfg, { batch: opts.batch, seq: opts.seq, packed, ...(opts.objective ? { objective: opts.objective } : {}) });
    const program = await compileInference({ graph: g, outputs, threads: opts.threads });
    return new Evaluator(program, opts.batch, opts.seq, cfg.vocabSize, packed);
  }

  /** Summed loss and counted tokens of one batch under the loaded weights. */
  async lossTerms(batch: LmBatch, where = "evaluation batch"): Promise<{ sum: number; count: number }> {
    const out = await this.program.run(batchFeeds(batch, { batch: this.batch, seq: this.seq, vocab: this.vocab, packed: this.packed }, where));
    return { sum: Number((out.loss_sum as Float32Array)[0]), count: Number((out.count as Float32Array)[0]) };
  }

  loadParams(params: ReadonlyMap<string, Float32Array>): void {
    this.program.loadParams(params);
  }

  /** Token-weighted mean loss over the batches (sum of losses / sum of counted tokens). */
  async meanLoss(params: ReadonlyMap<string, Float32Array>, batches: number, get: (k: number) => LmBatch | Promise<LmBatch>): Promise<number> {
    this.program.loadParams(params);
    let sum = 0;
    let count = 0;
    for (let k = 0; k < batches; k++) {
      const r = await this.lossTerms(await get(k), `evaluation batch ${k}`);
      sum += r.sum;
      count += r.count;
    }
    return sum / Math.max(count, 1);
  }

  async dispose(): Promise<void> {
    await this.program.dispose();
  }
}
