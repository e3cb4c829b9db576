// Rankings of a checkpoint's own outputs by the demo's rule rater: K sampled responses per prompt,
// ranked best first with ties, written as the ranking records a person's rankings arrive in (rater id,
// the ranked checkpoint). What `baton feedback simulate` and the demo's reward step use.
import { RULE_RATER, rankResponses } from "@baton/data";
import { sampleResponses } from "./sample-responses.ts";

export interface RankingRecord {
  prompt: string;
  responses: string[];
  ranking: number[];
  ties?: number[];
  rater: string;
  checkpoint: string;
}

export interface SimulateOptions {
  /** responses per prompt (2..9) */
  k: number;
  maxTokens: number;
  temperature: number;
  seed: number;
  threads?: number;
  /** recorded in every record: the URI of the checkpoint whose outputs are ranked */
  checkpointUri: string;
}

/** Samples K responses to each prompt from the checkpoint in `dir` and ranks them with the rule rater. */
export async function simulateRankings(
  dir: string,
  prompts: readonly string[],
  o: SimulateOptions,
): Promise<RankingRecord[]> {
  const sampled = await sampleResponses(dir, prompts, { ...o, what: "feedback simulate" });
  return sampled.map(({ prompt, responses }) => {
    const { ranking, ties } = rankResponses(prompt, responses);
    return {
      prompt,
      responses: responses.map((r) => r.text),
      ranking,
      ...(ties.length > 0 ? { ties } : {}),
      rater: RULE_RATER,
      checkpoint: o.checkpointUri,
    };
  });
}
