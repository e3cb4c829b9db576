// Turning a batch of token ids into the graph's feeds: tokens [B, T] and targets [B*T] as int64,
// loss_mask [B*T] float32 (all ones for pretraining).
import type { Feeds } from "@baton/engine";
import type { LmBatch } from "./batches.ts";

const ones = new Map<number, Float32Array>();

export function batchFeeds(b: LmBatch, shape: { batch: number; seq: number; vocab: number }, where: string): Feeds {
  const { batch, seq, vocab } = shape;
  const N = batch * seq;
  if (b.x.length !== N || b.y.length !== N) {
    throw new Error(`${where}: batch has ${b.x.length} inputs and ${b.y.length} targets, the model takes B*T = ${batch}*${seq} = ${N}`);
  }
  if (b.lossMask && b.lossMask.length !== N) throw new Error(`${where}: lossMask has ${b.lossMask.length} values, expected ${N}`);
  const tokens = new BigInt64Array(N);
  const targets = new BigInt64Array(N);
  for (let i = 0; i < N; i++) {
    const x = b.x[i] as number;
    const y = b.y[i] as number;
    if (x < 0 || x >= vocab || y < 0 || y >= vocab) {
      throw new Error(`${where}: token id ${x < 0 || x >= vocab ? x : y} at position ${i} is outside the model's vocabulary [0, ${vocab}); the tokenizer and the model config disagree`);
    }
    tokens[i] = BigInt(x);
    targets[i] = BigInt(y);
  }
  let mask = b.lossMask;
  if (!mask) {
    mask = ones.get(N);
    if (!mask) ones.set(N, (mask = new Float32Array(N).fill(1)));
  }
  return { tokens, targets, loss_mask: mask };
}
