// Turning a batch of token ids into the graph's feeds: tokens [B, T] and targets [B*T] as int64,
// loss_mask [B*T] float32 (all ones for pretraining); for packed graphs also positions and segments
// [B, T] int64.
import type { Feeds } from "@baton/engine";
import type { LmBatch } from "./batches.ts";
import { TrainingSetupInvalid } from "./errors.ts";

const ones = new Map<number, Float32Array>();

const int64 = (a: Int32Array): BigInt64Array => {
  const out = new BigInt64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = BigInt(a[i] as number);
  return out;
};

export function batchFeeds(
  b: LmBatch,
  shape: { batch: number; seq: number; vocab: number; packed?: boolean },
  where: string,
): Feeds {
  const { batch, seq, vocab } = shape;
  const N = batch * seq;
  if (b.x.length !== N || b.y.length !== N) {
    throw new TrainingSetupInvalid(
      `${where}: batch has ${b.x.length} inputs and ${b.y.length} targets, the model takes B*T = ${batch}*${seq} = ${N}`,
    );
  }
  if (b.lossMask && b.lossMask.length !== N)
    throw new TrainingSetupInvalid(`${where}: lossMask has ${b.lossMask.length} values, expected ${N}`);
  const tokens = new BigInt64Array(N);
  const targets = new BigInt64Array(N);
  for (let i = 0; i < N; i++) {
    const x = b.x[i] as number;
    const y = b.y[i] as number;
    if (x < 0 || x >= vocab || y < 0 || y >= vocab) {
      throw new TrainingSetupInvalid(
        `${where}: token id ${x < 0 || x >= vocab ? x : y} at position ${i} is outside the model's vocabulary [0, ${vocab}); the tokenizer and the model config disagree`,
      );
    }
    tokens[i] = BigInt(x);
    targets[i] = BigInt(y);
  }
  let mask = b.lossMask;
  if (!mask) {
    mask = ones.get(N);
    if (!mask) ones.set(N, (mask = new Float32Array(N).fill(1)));
  }
  const extra = b.extra ?? {};
  if (!shape.packed) return { tokens, targets, loss_mask: mask, ...extra };
  if (!b.positions || !b.segmentIds)
    throw new TrainingSetupInvalid(
      `${where}: the model is traced for packed rows and needs positions and segmentIds [B*T] in every batch`,
    );
  if (b.positions.length !== N || b.segmentIds.length !== N)
    throw new TrainingSetupInvalid(
      `${where}: positions (${b.positions.length}) and segmentIds (${b.segmentIds.length}) must have B*T = ${N} values`,
    );
  for (let i = 0; i < N; i++) {
    const p = b.positions[i] as number;
    if (p < 0 || p >= seq)
      throw new TrainingSetupInvalid(
        `${where}: position ${p} at index ${i} is outside [0, ${seq}); positions restart at 0 for each example`,
      );
  }
  return { tokens, targets, loss_mask: mask, positions: int64(b.positions), segments: int64(b.segmentIds), ...extra };
}

/**
 * The feeds a program declares: an objective of its own (a reward model's) may not read the LM's
 * targets and loss mask, so those two are dropped when undeclared; anything else undeclared stays and
 * is refused by the engine, naming it.
 */
export function declaredFeeds(feeds: Feeds, inputs: readonly { name: string }[]): Feeds {
  const names = new Set(inputs.map((i) => i.name));
  const out: Feeds = { ...feeds };
  for (const k of ["targets", "loss_mask"]) if (!names.has(k)) delete out[k];
  return out;
}
