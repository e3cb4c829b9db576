// Where the trainer's batches come from. `BatchSource` is the contract (the data package's
// LmBatches has this shape); `TokenWindows` is the in-memory implementation: random windows of a
// token array, nanoGPT's get_batch, each row's offset drawn by @baton/data's `keyedIndex` from (seed, step,
// row) exactly as LmBatches draws it, so the order is a pure function of the step and a resumed run
// sees exactly the batches it would have seen.

import { keyedIndex } from "@baton/data";
import { TrainingSetupInvalid } from "./errors.ts";

/** Row-major [B*T] batch: x are inputs, y the next tokens; lossMask 1 = counted (default all ones). */
export interface LmBatch {
  x: Int32Array;
  y: Int32Array;
  lossMask?: Float32Array;
  /** packed rows only: each token's position within its own example [B*T] */
  positions?: Int32Array;
  /** packed rows only: which example of the row each token belongs to [B*T] (attention stays inside one) */
  segmentIds?: Int32Array;
  /** inputs an objective declares beyond the LM's own (a reward model's pair indices, PPO's advantages) */
  extra?: Record<string, Float32Array | BigInt64Array>;
}

export interface BatchSource {
  /** the batch of data step `step` (0-based; with accumulation, micro-batch k of optimizer step t is (t-1)*accum + k) */
  train(seed: number, step: number): LmBatch | Promise<LmBatch>;
  /** the k-th validation batch: the same windows every call, so evaluations compare */
  val(k: number): LmBatch | Promise<LmBatch>;
}

type Tokens = Uint16Array | Uint32Array | Int32Array;

const VAL_KEY = 0x76616c; // "val": validation windows do not depend on the training seed

export class TokenWindows implements BatchSource {
  constructor(
    readonly trainTokens: Tokens,
    readonly valTokens: Tokens,
    readonly batchSize: number, // B
    readonly blockSize: number, // T
  ) {
    for (const [name, t] of [
      ["train", trainTokens],
      ["validation", valTokens],
    ] as const) {
      if (t.length < blockSize + 1) {
        throw new TrainingSetupInvalid(
          `the ${name} split has ${t.length} tokens, fewer than one block of ${blockSize} + 1 (inputs and their next tokens); use a longer corpus or a smaller block size`,
        );
      }
    }
  }

  /** Splits one token stream at `fraction` (nanoGPT: first 90% train, last 10% validation). */
  static split(tokens: Tokens, opts: { valFraction: number; batchSize: number; blockSize: number }): TokenWindows {
    const cut = Math.floor(tokens.length * (1 - opts.valFraction));
    return new TokenWindows(tokens.subarray(0, cut), tokens.subarray(cut), opts.batchSize, opts.blockSize);
  }

  private windows(tokens: Tokens, a: number, b: number): LmBatch {
    const B = this.batchSize;
    const T = this.blockSize;
    const x = new Int32Array(B * T);
    const y = new Int32Array(B * T);
    const starts = tokens.length - T; // offsets 0 .. len-T-1 leave room for the last target
    for (let r = 0; r < B; r++) {
      const o = keyedIndex(starts, a, b, r);
      for (let t = 0; t < T; t++) {
        x[r * T + t] = tokens[o + t] as number;
        y[r * T + t] = tokens[o + t + 1] as number;
      }
    }
    return { x, y };
  }

  train(seed: number, step: number): LmBatch {
    return this.windows(this.trainTokens, seed, step);
  }
  val(k: number): LmBatch {
    return this.windows(this.valTokens, VAL_KEY, k);
  }
}
