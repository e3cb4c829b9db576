// @baton/data's batches as the trainer's packed LmBatch ([B*T] row-major; positions and segment ids
// always present, so one graph serves every stage), and the evaluation every stage reports: mean
// masked loss over a fixed set of held-out batches.
import type { SupervisedBatch, LmBatch as TokenBatch } from "@baton/data";
import type { LmBatch, LmSession } from "./session.ts";

/** A language-model batch: every target trained, positions 0..T-1, one segment per row. */
export function fromTokenBatch(b: TokenBatch): LmBatch {
  const n = b.batchSize * b.blockSize;
  const positions = new Int32Array(n);
  for (let i = 0; i < n; i++) positions[i] = i % b.blockSize;
  return { x: b.x, y: b.y, positions, segmentIds: new Int32Array(n).fill(1), lossMask: new Float32Array(n).fill(1) };
}

/** A supervised batch: the loss mask, per-example positions and segments come from the packing. */
export function fromSupervisedBatch(b: SupervisedBatch): LmBatch {
  return { x: b.x, y: b.y, positions: b.positions, segmentIds: b.segmentIds, lossMask: b.lossMask };
}

type Packed = Required<Omit<LmBatch, "extra">>;

const packed = (b: LmBatch): Packed => {
  if (!b.positions || !b.segmentIds || !b.lossMask)
    throw new Error(
      "mixRows: both batches need positions, segmentIds and lossMask (fromTokenBatch / fromSupervisedBatch give them)",
    );
  return b as Packed;
};

/** Row r of batch a or batch b (same shapes), chosen by pick(r): used to mix replay data into CPT. */
export function mixRows(a: LmBatch, b: LmBatch, rows: number, pick: (r: number) => boolean): LmBatch {
  const pa = packed(a);
  const pb = packed(b);
  const out: Packed = {
    x: pa.x.slice(),
    y: pa.y.slice(),
    positions: pa.positions.slice(),
    segmentIds: pa.segmentIds.slice(),
    lossMask: pa.lossMask.slice(),
  };
  const T = pa.x.length / rows;
  for (let r = 0; r < rows; r++) {
    if (!pick(r)) continue;
    const s = r * T;
    out.x.set(pb.x.subarray(s, s + T), s);
    out.y.set(pb.y.subarray(s, s + T), s);
    out.positions.set(pb.positions.subarray(s, s + T), s);
    out.segmentIds.set(pb.segmentIds.subarray(s, s + T), s);
    out.lossMask.set(pb.lossMask.subarray(s, s + T), s);
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
