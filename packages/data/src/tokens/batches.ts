import { DatasetError } from "../errors.ts";
import { keyedIndex } from "../random.ts";
import type { TokenFile } from "./token-file.ts";

/** B sequences of T tokens and their next-token targets, row-major [B, T]. */
export interface LmBatch {
  x: Int32Array;
  y: Int32Array;
  batchSize: number;
  blockSize: number;
}

/** Validation windows do not depend on the run's seed, so every stage measures the same tokens. */
const VAL_KEY = 0x76616c; // "val"

/**
 * Random windows of T+1 tokens (nanoGPT's sampling). Row r of step s starts at an offset drawn from a
 * PRNG keyed by (seed, s, r): the batch is a pure function of (seed, step), so resume needs no state.
 */
export class LmBatches {
  readonly batchSize: number;
  readonly blockSize: number;

  constructor(
    private readonly corpus: { train: TokenFile; val: TokenFile },
    options: { batchSize: number; blockSize: number },
  ) {
    this.batchSize = options.batchSize;
    this.blockSize = options.blockSize;
    if (!Number.isInteger(this.batchSize) || this.batchSize <= 0)
      throw new DatasetError(`batchSize must be a positive integer, got ${this.batchSize}`);
    if (!Number.isInteger(this.blockSize) || this.blockSize <= 0)
      throw new DatasetError(`blockSize must be a positive integer, got ${this.blockSize}`);
    for (const [name, file] of [
      ["train", corpus.train],
      ["val", corpus.val],
    ] as const) {
      if (file.length < this.blockSize + 1) {
        throw new DatasetError(
          `the ${name} split has ${file.length} tokens, fewer than one block of ${this.blockSize} + 1; ` +
            `give the corpus more text, lower blockSize, or lower valFraction`,
        );
      }
    }
  }

  train(seed: number, step: number): LmBatch {
    return this.windows(this.corpus.train, seed, step);
  }

  /** The k-th validation batch: the same windows every call, whatever the run's seed. */
  val(k: number): LmBatch {
    return this.windows(this.corpus.val, VAL_KEY, k);
  }

  private windows(file: TokenFile, seed: number, step: number): LmBatch {
    const B = this.batchSize;
    const T = this.blockSize;
    const x = new Int32Array(B * T);
    const y = new Int32Array(B * T);
    const window = new Int32Array(T + 1);
    const starts = file.length - T; // valid window starts: 0 .. length-T-1
    for (let r = 0; r < B; r++) {
      file.readInto(keyedIndex(starts, seed, step, r), T + 1, window);
      x.set(window.subarray(0, T), r * T);
      y.set(window.subarray(1), r * T);
    }
    return { x, y, batchSize: B, blockSize: T };
  }
}

/** For ONNX int64 inputs. */
export function toInt64(ids: ArrayLike<number>): BigInt64Array {
  const out = new BigInt64Array(ids.length);
  for (let i = 0; i < ids.length; i++) out[i] = BigInt(ids[i]!);
  return out;
}
