// Converting @baton/data's batches into the graph's feeds (int64 ids, float mask) and the evaluation
// every stage reports: mean masked loss over a fixed set of held-out batches.
import type { LmBatch as TokenBatch, SupervisedBatch } from "@baton/data";
import type { LmBatch, LmSession } from "./session.ts";

const int64 = (a: ArrayLike<number>): BigInt64Array => {
  const out = new BigInt64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = BigInt(a[i] as number);
  return out;
};

/** A language-model batch: every target trained, positions 0..T-1, one segment per row. */
export function fromTokenBatch(b: TokenBatch): LmBatch {
  const n = b.batchSize * b.blockSize;
  const positions = new BigInt64Array(n);
  for (let i = 0; i < n; i++) positions[i] = BigInt(i % b.blockSize);
  return { tokens: int64(b.x), targets: int64(b.y), positions, segments: new BigInt64Array(n).fill(1n), mask: new Float32Array(n).fill(1) };
}

/** A supervised batch: the loss mask, per-example positions and segments come from the packing. */
export function fromSupervisedBatch(b: SupervisedBatch): LmBatch {
  return { tokens: int64(b.x), targets: int64(b.y), positions: int64(b.positions), segments: int64(b.segmentIds), mask: b.lossMask };
}

/** Row r of batch a or batch b (same shapes), chosen by pick(r): used to mix replay data into CPT. */
export function mixRows(a: LmBatch, b: LmBatch, rows: number, pick: (r: number) => boolean): LmBatch {
  const out: LmBatch = { tokens: a.tokens.slice(), positions: a.positions.slice(), segments: a.segments.slice(), targets: a.targets.slice(), mask: a.mask.slice() };
  const T = a.tokens.length / rows;
  for (let r = 0; r < rows; r++) {
    if (!pick(r)) continue;
    const s = r * T;
    out.tokens.set(b.tokens.subarray(s, s + T), s);
    out.positions.set(b.positions.subarray(s, s + T), s);
    out.segments.set(b.segments.subarray(s, s + T), s);
    out.targets.set(b.targets.subarray(s, s + T), s);
    out.mask.set(b.mask.subarray(s, s + T), s);
  }
  return out;
}

/** Mean loss per counted token over the given batches (the same batches every call). */
export async function meanLoss(session: LmSession, batches: Iterable<LmBatch>): Promise<number> {
  let sum = 0;
  let count = 0;
  for (const b of batches) {
    const r = await session.score(b);
    sum += r.sum;
    count += r.count;
  }
  return count > 0 ? sum / count : NaN;
}
