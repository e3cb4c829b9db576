// A ranking campaign: people order K sampled responses of one checkpoint to each of a set of
// prompts, until `wanted` rankings are in; then the rankings become one dataset (export.ts).
import type { CheckpointRef } from "@baton/contracts";
import type { RankingRecord } from "@baton/stage-lm";

export interface Campaign {
  id: string;
  /** the checkpoint whose outputs are ranked */
  checkpoint: CheckpointRef;
  /** responses per prompt, 2..9 */
  k: number;
  /** rankings wanted before the export */
  wanted: number;
  guidelines: string;
  createdBy: string;
  createdAt: string;
  sampling: { maxTokens: number; temperature: number; seed: number };
}

/** One prompt with its K responses; ids are opaque, so a page shows no index a rater could forge. */
export interface CampaignItem {
  index: number;
  prompt: string;
  responses: { id: string; text: string }[];
}

export type JudgementKind = "ranking" | "skip" | "flag";

/** A rater's answer to one item, stored as one object per submission id. */
export interface Judgement {
  submissionId: string;
  kind: JudgementKind;
  rater: string;
  item: number;
  at: string;
  /** present for kind "ranking": the record the reward stage reads */
  record?: RankingRecord;
}

/** schemas/datasets/ranking.schema.json, with the rater and the checkpoint always set: the record the rule rater writes too. */
export type { RankingRecord };

export type CampaignState =
  | { phase: "sampling" }
  | { phase: "failed"; message: string }
  | { phase: "open" }
  | { phase: "complete"; export?: { uri: string; sha256: string; count: number } };

export const CAMPAIGN_ID = /^[a-z0-9][a-z0-9-]{0,47}$/;
export const SUBMISSION_ID = /^[A-Za-z0-9_-]{8,64}$/;
