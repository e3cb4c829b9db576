// Preference pairs as DPO's rows: pair i is rows 2i (chosen) and 2i+1 (rejected); ref_logp [2B] is
// each row's response log-probability under the frozen reference, computed once before training.
import { keyedIndex } from "@baton/data";
import type { LmBatch } from "@baton/model";
import { type ResponseSeq, rowsBatch, type SeqGroup, type SeqProgram, seqRows } from "@baton/stage-lm";
import { responseLogp } from "./dpo-loss.ts";

export interface Pair {
  chosen: ResponseSeq;
  rejected: ResponseSeq;
  prompt: string;
  /** the reference's summed log-probability of [chosen, rejected] */
  ref: [number, number];
}

export interface PairShape {
  pairs: number; // B
  seq: number; // T
  pad: number;
}

/** Every [better, worse] pair of every group. */
export function pairsOf(groups: readonly SeqGroup[]): Pair[] {
  return groups.flatMap((g) =>
    g.pairs.map(([b, w]) => ({
      chosen: g.seqs[b] as ResponseSeq,
      rejected: g.seqs[w] as ResponseSeq,
      prompt: g.prompt,
      ref: [0, 0] as [number, number],
    })),
  );
}

function rowsOf(pairs: readonly Pair[], s: PairShape) {
  return seqRows(
    pairs.flatMap((p) => [p.chosen, p.rejected]),
    2 * s.pairs,
    s.seq,
    s.pad,
  );
}

/** Summed response log-probabilities [pair] -> [chosen, rejected] under the program's loaded weights. */
export async function pairLogps(
  program: SeqProgram,
  pairs: readonly Pair[],
  s: PairShape,
): Promise<Array<[number, number]>> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < pairs.length; i += s.pairs) {
    const chunk = pairs.slice(i, i + s.pairs);
    const rows = rowsOf(chunk, s);
    const lp = responseLogp((await program.run(rows)).logprobs as Float32Array, rows.responseMask, rows.rows, rows.seq);
    chunk.forEach((_, c) => out.push([lp[2 * c] as number, lp[2 * c + 1] as number]));
  }
  return out;
}

/** Training batch `step` (1-based): B pairs drawn by (seed, step). */
export function pairsBatch(pairs: readonly Pair[], s: PairShape, seed: number, step: number): LmBatch {
  const picked = Array.from({ length: s.pairs }, (_, i) => pairs[keyedIndex(pairs.length, seed, step, i)] as Pair);
  const ref = Float32Array.from(picked.flatMap((p) => p.ref));
  return rowsBatch(rowsOf(picked, s), { ref_logp: ref, pair_weight: new Float32Array(s.pairs).fill(1) });
}

export interface PairMetrics {
  "rewards/chosen": number; // mean beta * (log pi - log ref) of the chosen responses
  "rewards/rejected": number;
  "rewards/accuracies": number; // share of pairs whose chosen reward is higher
  "rewards/margins": number;
}

export function pairMetrics(pairs: readonly Pair[], logps: ReadonlyArray<[number, number]>, beta: number): PairMetrics {
  let c = 0;
  let r = 0;
  let acc = 0;
  pairs.forEach((p, i) => {
    const [lc, lr] = logps[i] as [number, number];
    const rc = beta * (lc - p.ref[0]);
    const rr = beta * (lr - p.ref[1]);
    c += rc;
    r += rr;
    acc += rc > rr ? 1 : 0;
  });
  const n = Math.max(pairs.length, 1);
  return {
    "rewards/chosen": c / n,
    "rewards/rejected": r / n,
    "rewards/accuracies": acc / n,
    "rewards/margins": (c - r) / n,
  };
}
