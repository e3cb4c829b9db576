// Agreement between raters on prompts ranked by more than one: for every two raters of a prompt and
// every two of its responses that both ordered strictly (no tie), do they put the same one first?
// Pairwise agreement is the share that agree; Kendall's tau-b also counts ties, per rater pair and
// prompt, averaged. 1 = the same order, 0 = chance, -1 = reversed.
import type { RankingRecord } from "./campaign.ts";

export interface Agreement {
  /** prompts ranked by two raters or more */
  prompts: number;
  /** rater pairs compared over those prompts */
  comparisons: number;
  /** share of strictly ordered response pairs both raters order the same way (NaN when none) */
  pairwise: number;
  /** mean Kendall tau-b over the comparisons (NaN when none) */
  kendallTau: number;
}

/** Level of each response (index into responses): tied responses share the level of the one above. */
export function levels(r: Pick<RankingRecord, "ranking" | "ties">): number[] {
  const ties = new Set(r.ties ?? []);
  const out = new Array<number>(r.ranking.length).fill(0);
  let level = 0;
  r.ranking.forEach((response, p) => {
    if (p > 0 && !ties.has(p)) level = p;
    out[response] = level;
  });
  return out;
}

export function agreement(byPrompt: ReadonlyMap<number, readonly RankingRecord[]>): Agreement {
  let prompts = 0;
  let comparisons = 0;
  let agree = 0;
  let strict = 0;
  let tauSum = 0;
  let tauCount = 0;
  for (const records of byPrompt.values()) {
    if (records.length < 2) continue;
    prompts++;
    for (let a = 0; a < records.length; a++) {
      for (let b = a + 1; b < records.length; b++) {
        comparisons++;
        const la = levels(records[a]!);
        const lb = levels(records[b]!);
        let concordant = 0;
        let discordant = 0;
        let tiedA = 0;
        let tiedB = 0;
        let pairs = 0;
        for (let i = 0; i < la.length; i++) {
          for (let j = i + 1; j < la.length; j++) {
            pairs++;
            const sa = Math.sign(la[i]! - la[j]!);
            const sb = Math.sign(lb[i]! - lb[j]!);
            if (sa === 0) tiedA++;
            if (sb === 0) tiedB++;
            if (sa !== 0 && sb !== 0) {
              strict++;
              if (sa === sb) {
                agree++;
                concordant++;
              } else discordant++;
            }
          }
        }
        const denominator = Math.sqrt((pairs - tiedA) * (pairs - tiedB));
        if (denominator > 0) {
          tauSum += (concordant - discordant) / denominator;
          tauCount++;
        }
      }
    }
  }
  return {
    prompts,
    comparisons,
    pairwise: strict > 0 ? agree / strict : Number.NaN,
    kendallTau: tauCount > 0 ? tauSum / tauCount : Number.NaN,
  };
}
