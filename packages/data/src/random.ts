/**
 * Deterministic randomness for data order. Every draw is a pure function of its key (seed, step, row...),
 * so a resumed run reads exactly the batches an uninterrupted one would, with no RNG state to save.
 * The generator is the workspace's one (@baton/rng), seeded with the hash of the key.
 */
import { rng } from "@baton/rng";

/** Mixes integer keys into one 32-bit hash (murmur3's finaliser over a running combination). */
export function hashKey(...keys: number[]): number {
  let h = 0x9e3779b9;
  for (const k of keys) {
    // Split keys into 32-bit halves so steps and seeds past 2^32 still mix fully.
    const lo = k >>> 0;
    const hi = Math.floor(k / 2 ** 32) >>> 0;
    for (const part of [lo, hi]) {
      h = Math.imul(h ^ part, 0x85ebca6b);
      h = (h << 13) | (h >>> 19);
      h = Math.imul(h, 5) + 0xe6546b64;
    }
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** An integer in [0, n) from the key, with 53 bits so corpora of billions of tokens are covered evenly. */
export function keyedIndex(n: number, ...keys: number[]): number {
  const r = rng(hashKey(...keys));
  const x = Math.floor(r() * 2 ** 21) * 2 ** 32 + Math.floor(r() * 2 ** 32);
  return Math.floor((x / 2 ** 53) * n);
}

/** A permutation of 0..n-1 keyed by `keys` (Fisher-Yates). */
export function keyedPermutation(n: number, ...keys: number[]): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  const r = rng(hashKey(...keys));
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}
