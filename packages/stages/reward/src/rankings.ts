// Ranked groups as the reward model's batches. A step takes B prompts; prompt i owns rows
// i*K .. i*K+K-1 (K = the most responses any group has; unused rows are padding), and its pairs sit
// in slots i*C(K,2) .. with weight 1/(its pairs), so every prompt weighs the same in the loss.
import { keyedIndex } from "@baton/data";
import type { LmBatch } from "@baton/model";
import { rowsBatch, type SeqGroup, seqRows } from "@baton/stage-lm";

export interface GroupShape {
  prompts: number; // B
  k: number; // K: rows per prompt
  seq: number; // T
  pad: number;
}

export const rowsOf = (s: GroupShape): number => s.prompts * s.k;
export const pairSlotsOf = (s: GroupShape): number => (s.prompts * s.k * (s.k - 1)) / 2;

/** The batch of `groups` (at most B of them; fewer leave padding). */
export function groupsBatch(groups: readonly SeqGroup[], s: GroupShape): LmBatch {
  const per = (s.k * (s.k - 1)) / 2;
  const seqs = new Array(rowsOf(s)).fill(null);
  const P = pairSlotsOf(s);
  const better = new BigInt64Array(P);
  const worse = new BigInt64Array(P);
  const weight = new Float32Array(P);
  groups.forEach((g, i) => {
    g.seqs.forEach((q, j) => (seqs[i * s.k + j] = q));
    g.pairs.forEach(([b, w], p) => {
      better[i * per + p] = BigInt(i * s.k + b);
      worse[i * per + p] = BigInt(i * s.k + w);
      weight[i * per + p] = 1 / g.pairs.length;
    });
  });
  const rows = seqRows(seqs, rowsOf(s), s.seq, s.pad);
  return rowsBatch(rows, { last_index: rows.last, pair_better: better, pair_worse: worse, pair_weight: weight });
}

/** Training batch `step` (1-based): B groups drawn by (seed, step), so a resumed run sees the same ones. */
export function trainingBatch(groups: readonly SeqGroup[], s: GroupShape, seed: number, step: number): LmBatch {
  const picked = Array.from(
    { length: s.prompts },
    (_, i) => groups[keyedIndex(groups.length, seed, step, i)] as SeqGroup,
  );
  return groupsBatch(picked, s);
}

export interface PairScores {
  accuracy: number; // share of pairs whose better response scores higher
  margin: number; // mean (score of the better - score of the worse)
  pairs: number;
}

/** Pairwise accuracy and margin of scores [response] per group. */
export function pairScores(groups: readonly SeqGroup[], scores: readonly Float32Array[]): PairScores {
  let right = 0;
  let margin = 0;
  let pairs = 0;
  groups.forEach((g, i) => {
    const s = scores[i] as Float32Array;
    for (const [b, w] of g.pairs) {
      const d = (s[b] as number) - (s[w] as number);
      right += d > 0 ? 1 : 0;
      margin += d;
      pairs++;
    }
  });
  return { accuracy: right / Math.max(pairs, 1), margin: margin / Math.max(pairs, 1), pairs };
}
