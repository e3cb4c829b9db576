import { DatasetError } from "../errors.ts";
import { keyedPermutation } from "../random.ts";
import type { BadRecordPolicy } from "../read/reader.ts";
import type { SupervisedExample } from "./examples.ts";

/**
 * Supervised rows of T+1 tokens (x = row[0..T), y = row[1..T]).
 *   "rows":   one example per row, PAD after it. Causal attention alone keeps examples apart, so the
 *             model needs nothing extra: the default.
 *   "packed": several examples per row. segment[i] says which (1..k, 0 = padding); attention must be
 *             limited to j <= i with segment[j] == segment[i], and position restarts at 0 per example
 *             so learned positions see each example as at sampling time.
 */
export interface SupervisedRows {
  blockSize: number;
  mode: "rows" | "packed";
  ids: Int32Array[];
  target: Uint8Array[];
  segment: Int32Array[];
  position: Int32Array[];
  /** Examples dropped as over-long under policy "skip". */
  skipped: number;
  errors: string[];
}

const MAX_KEPT_ERRORS = 50;
const OPEN_ROWS = 32; // first fit over the last few rows: near-optimal and linear time

export function packSupervised(
  examples: readonly SupervisedExample[],
  options: {
    blockSize: number;
    mode?: "rows" | "packed";
    padId: number;
    policy?: BadRecordPolicy;
    /** Told of each example dropped under policy "skip" (its index in `examples`), so a caller can count it against its dataset. */
    onSkip?: (index: number, message: string) => void;
  },
): SupervisedRows {
  const T = options.blockSize;
  const width = T + 1;
  const mode = options.mode ?? "rows";
  const out: SupervisedRows = {
    blockSize: T,
    mode,
    ids: [],
    target: [],
    segment: [],
    position: [],
    skipped: 0,
    errors: [],
  };
  const used: number[] = [];
  const newRow = () => {
    out.ids.push(new Int32Array(width).fill(options.padId));
    out.target.push(new Uint8Array(width));
    out.segment.push(new Int32Array(width));
    out.position.push(new Int32Array(width));
    used.push(0);
    return out.ids.length - 1;
  };
  for (const [index, ex] of examples.entries()) {
    const n = ex.ids.length;
    if (n > width) {
      const msg = `${ex.where}: example is ${n} tokens, over blockSize + 1 = ${width}; raise blockSize or shorten the record`;
      if (options.policy !== "skip") throw new DatasetError(msg, ex.where);
      out.skipped++;
      if (out.errors.length < MAX_KEPT_ERRORS) out.errors.push(msg);
      options.onSkip?.(index, msg);
      continue;
    }
    if (!ex.target.some((t) => t === 1))
      throw new DatasetError(
        `${ex.where}: example has no trained token (empty completion or no assistant turn)`,
        ex.where,
      );
    let row = -1;
    if (mode === "packed") {
      for (let r = Math.max(0, used.length - OPEN_ROWS); r < used.length; r++) {
        if (used[r]! + n <= width) {
          row = r;
          break;
        }
      }
    }
    if (row < 0) row = newRow();
    const at = used[row]!;
    const segment = out.segment[row]!;
    const seg = at === 0 ? 1 : segment[at - 1]! + 1;
    out.ids[row]!.set(ex.ids, at);
    out.target[row]!.set(ex.target, at);
    for (let i = 0; i < n; i++) {
      segment[at + i] = seg;
      out.position[row]![at + i] = i;
    }
    used[row] = at + n;
  }
  if (out.ids.length === 0)
    throw new DatasetError(
      `no supervised example fits blockSize ${T} (${out.skipped} skipped; first: ${out.errors[0] ?? "none"})`,
    );
  return out;
}

export interface SupervisedBatch {
  /** [B, T] inputs. */
  x: Int32Array;
  /** [B, T] next-token targets. */
  y: Int32Array;
  /** [B, T] 1 where y is trained (completion / assistant tokens, EOS), 0 elsewhere (prompt, padding). */
  lossMask: Float32Array;
  /** [B, T] example index within the row, 0 for padding. */
  segmentIds: Int32Array;
  /** [B, T] position of each token within its own example. */
  positions: Int32Array;
  batchSize: number;
  blockSize: number;
}

function emptyBatch(B: number, T: number): SupervisedBatch {
  const n = B * T;
  return {
    x: new Int32Array(n),
    y: new Int32Array(n),
    lossMask: new Float32Array(n),
    segmentIds: new Int32Array(n),
    positions: new Int32Array(n),
    batchSize: B,
    blockSize: T,
  };
}

/** Copies row r into batch row b. The one place the loss mask is derived from targets. */
function copyRow(rows: SupervisedRows, r: number, batch: SupervisedBatch, b: number): void {
  const T = rows.blockSize;
  const ids = rows.ids[r]!;
  const target = rows.target[r]!;
  const seg = rows.segment[r]!;
  batch.x.set(ids.subarray(0, T), b * T);
  batch.y.set(ids.subarray(1, T + 1), b * T);
  batch.segmentIds.set(seg.subarray(0, T), b * T);
  batch.positions.set(rows.position[r]!.subarray(0, T), b * T);
  for (let t = 0; t < T; t++) {
    // Never train across a boundary: the target must be in the same example as its input.
    batch.lossMask[b * T + t] = target[t + 1] === 1 && seg[t + 1] === seg[t] ? 1 : 0;
  }
}

/**
 * Batch `step`: rows in an epoch-wise permutation keyed by (seed, epoch), so (seed, step) fixes the batch
 * and every row is seen once per epoch.
 */
export function supervisedBatch(
  rows: SupervisedRows,
  options: { seed: number; step: number; batchSize: number },
): SupervisedBatch {
  const { seed, step, batchSize: B } = options;
  const n = rows.ids.length;
  const batch = emptyBatch(B, rows.blockSize);
  let epoch = -1;
  let perm: Uint32Array = new Uint32Array(0);
  for (let b = 0; b < B; b++) {
    const g = step * B + b;
    const e = Math.floor(g / n);
    if (e !== epoch) {
      epoch = e;
      perm = keyedPermutation(n, seed, e);
    }
    copyRow(rows, perm[g % n]!, batch, b);
  }
  return batch;
}

/** Every row once, in order, in batches of B (the last one padded with empty rows): for evaluation. */
export function* supervisedEvalBatches(rows: SupervisedRows, batchSize: number): Generator<SupervisedBatch> {
  for (let start = 0; start < rows.ids.length; start += batchSize) {
    const batch = emptyBatch(batchSize, rows.blockSize);
    for (let b = 0; b < batchSize && start + b < rows.ids.length; b++) copyRow(rows, start + b, batch, b);
    yield batch;
  }
}

/**
 * The trainer's batch source for supervised stages: `train(seed, step)` shuffles the training rows by
 * epoch, `val(k)` is the k-th batch of the held-out rows in order (cycling), the same on every call.
 */
export class SupervisedBatches {
  constructor(
    readonly trainRows: SupervisedRows,
    readonly valRows: SupervisedRows,
    readonly batchSize: number,
  ) {
    if (trainRows.blockSize !== valRows.blockSize)
      throw new DatasetError(
        `train rows have blockSize ${trainRows.blockSize} but val rows ${valRows.blockSize}; pack both with the same blockSize`,
      );
  }

  get blockSize(): number {
    return this.trainRows.blockSize;
  }

  /** Batches needed to see every val row once. */
  get valBatches(): number {
    return Math.ceil(this.valRows.ids.length / this.batchSize);
  }

  train(seed: number, step: number): SupervisedBatch {
    return supervisedBatch(this.trainRows, { seed, step, batchSize: this.batchSize });
  }

  val(k: number): SupervisedBatch {
    const batch = emptyBatch(this.batchSize, this.valRows.blockSize);
    const n = this.valRows.ids.length;
    const start = (k % this.valBatches) * this.batchSize;
    for (let b = 0; b < this.batchSize && start + b < n; b++) copyRow(this.valRows, start + b, batch, b);
    return batch;
  }
}
