// What a ranking teaches: every pair of responses at different places, the better one first. Ties
// share a place and give no pair. A preference pair is the ranking of two: chosen over rejected.
import type { PreferenceRecord, RankingRecord } from "../read/formats.ts";

/** One ranked prompt as the preference stages use it: responses and their pairs (indices into responses). */
export interface RankedGroup {
  prompt: string;
  responses: string[];
  /** [better, worse] indices into responses */
  pairs: Array<[number, number]>;
  where: string;
  rater?: string;
  checkpoint?: string;
}

/** Pairs of a ranking: positions a < b of `ranking` in different tie groups give [ranking[a], ranking[b]]. */
export function rankedPairs(ranking: readonly number[], ties: readonly number[] = []): Array<[number, number]> {
  const tied = new Set(ties);
  const place: number[] = [];
  ranking.forEach((_, p) => place.push(p === 0 ? 0 : (place[p - 1] as number) + (tied.has(p) ? 0 : 1)));
  const pairs: Array<[number, number]> = [];
  for (let a = 0; a < ranking.length; a++) {
    for (let b = a + 1; b < ranking.length; b++)
      if ((place[a] as number) < (place[b] as number)) pairs.push([ranking[a] as number, ranking[b] as number]);
  }
  return pairs;
}

/** A ranking or preference record as a group; a ranking whose responses are all tied has no pair. */
export function rankedGroup(r: RankingRecord | PreferenceRecord): RankedGroup {
  if (r.kind === "preference")
    return { prompt: r.prompt, responses: [r.chosen, r.rejected], pairs: [[0, 1]], where: r.where };
  return {
    prompt: r.prompt,
    responses: r.responses,
    pairs: rankedPairs(r.ranking, r.ties),
    where: r.where,
    ...(r.rater !== undefined ? { rater: r.rater } : {}),
    ...(r.checkpoint !== undefined ? { checkpoint: r.checkpoint } : {}),
  };
}
