// Evaluation: the mean loss over K fixed batches, from a forward-only program of the same model
// (no dropout, no backward), fed the trainer's current weights.
import { compileInference, type InferenceProgram } from "@baton/engine";
import type { GptModelConfig } from "../gpt/config.ts";
import { type Objective, traceEvaluation } from "../gpt/graphs.ts";
import type { LmBatch } from "./batches.ts";
import { batchFeeds, declaredFeeds } from "./feeds.ts";

/** Token-weighted mean of batches' loss terms. */
export function pooledLoss(terms: readonly { sum: number; count: number }[]): number {
  let sum = 0;
  let count = 0;
  for (const t of terms) {
    sum += t.sum;
    count += t.count;
  }
  return sum / Math.max(count, 1);
}

export class Evaluator {
  private constructor(
    private readonly program: InferenceProgram,
    private readonly batch: number,
    private readonly seq: number,
    private readonly vocab: number,
    private readonly packed: boolean,
  ) {}

  /** `packed`: the batches carry positions and segmentIds (see traceGpt). */
  static async compile(
    cfg: GptModelConfig,
    opts: { batch: number; seq: number; threads: number; objective?: Objective; packed?: boolean },
  ): Promise<Evaluator> {
    const packed = opts.packed ?? false;
    const { g, outputs } = traceEvaluation(cfg, {
      batch: opts.batch,
      seq: opts.seq,
      packed,
      ...(opts.objective ? { objective: opts.objective } : {}),
    });
    const program = await compileInference({ graph: g, outputs, threads: opts.threads });
    return new Evaluator(program, opts.batch, opts.seq, cfg.vocabSize, packed);
  }

  /** Summed loss and counted tokens of one batch under the loaded weights. */
  async lossTerms(batch: LmBatch, where = "evaluation batch"): Promise<{ sum: number; count: number }> {
    const out = await this.program.run(
      declaredFeeds(
        batchFeeds(batch, { batch: this.batch, seq: this.seq, vocab: this.vocab, packed: this.packed }, where),
        this.program.userInputs,
      ),
    );
    return { sum: Number((out.loss_sum as Float32Array)[0]), count: Number((out.count as Float32Array)[0]) };
  }

  loadParams(params: ReadonlyMap<string, Float32Array>): void {
    this.program.loadParams(params);
  }

  /** Token-weighted mean loss over the batches (sum of losses / sum of counted tokens). */
  async meanLoss(
    params: ReadonlyMap<string, Float32Array>,
    batches: number,
    get: (k: number) => LmBatch | Promise<LmBatch>,
  ): Promise<number> {
    return pooledLoss(await this.batchLosses(params, batches, get));
  }

  /** Each batch's summed loss and counted tokens, in order. */
  async batchLosses(
    params: ReadonlyMap<string, Float32Array>,
    batches: number,
    get: (k: number) => LmBatch | Promise<LmBatch>,
  ): Promise<{ sum: number; count: number }[]> {
    this.program.useParams(params); // read during this call only: no copy
    const out: { sum: number; count: number }[] = [];
    for (let k = 0; k < batches; k++) out.push(await this.lossTerms(await get(k), `evaluation batch ${k}`));
    return out;
  }

  /**
   * The mean loss over every token of a split: consecutive windows of `seq` tokens with their next
   * tokens, each token predicted once (the last partial window too; padded rows count nothing). Exact
   * where `meanLoss` over random windows is an estimate; nanoGPT's 20-batch figure moves by several
   * hundredths from one draw of windows to the next.
   */
  async wholeSplitLoss(
    params: ReadonlyMap<string, Float32Array>,
    tokens: { length: number; read(at: number, count: number): Int32Array },
  ): Promise<number> {
    this.program.useParams(params); // read during this call only: no copy
    const B = this.batch;
    const T = this.seq;
    const windows = Math.ceil((tokens.length - 1) / T);
    let sum = 0;
    let count = 0;
    for (let w0 = 0; w0 < windows; w0 += B) {
      const x = new Int32Array(B * T);
      const y = new Int32Array(B * T);
      const lossMask = new Float32Array(B * T);
      for (let r = 0; r < B && w0 + r < windows; r++) {
        const at = (w0 + r) * T;
        const n = Math.min(T, tokens.length - 1 - at); // inputs with a next token
        const ids = tokens.read(at, n + 1);
        x.set(ids.subarray(0, n), r * T);
        y.set(ids.subarray(1, n + 1), r * T);
        lossMask.fill(1, r * T, r * T + n);
      }
      const t = await this.lossTerms({ x, y, lossMask }, `whole-split windows ${w0}..${Math.min(w0 + B, windows) - 1}`);
      sum += t.sum;
      count += t.count;
    }
    return sum / Math.max(count, 1);
  }

  async dispose(): Promise<void> {
    await this.program.dispose();
  }
}
