// Stage `reward`, as a recipe:
//   consumes  the instruct checkpoint and rankings JSONL ({"prompt","responses","ranking"} with ties,
//             or {"prompt","chosen","rejected"} pairs), with a held-out split
//   trains    the checkpoint's trunk plus a scalar head read at each response's last token (HF
//             GPT2ForSequenceClassification: score.weight [1, n_embd]) with Bradley-Terry on all the
//             pairs of a prompt at once, each response scored once per step
//   emits     the reward model, its scores centred on the training responses (reward_bias in
//             config.json), and held-out pairwise accuracy and margin before and after

import { BatonError, type RecipeStep } from "@baton/contracts";
import { SCORE_WEIGHT } from "@baton/model";
import { rng } from "@baton/rng";
import type { StageContext, StageDefinition, TrainResult } from "@baton/runner";
import {
  bradleyTerry,
  datasetCounts,
  finish,
  openSession,
  prefsReading,
  readingData,
  readRankings,
  requireSplit,
  type SeqGroup,
  SeqProgram,
  type SplitData,
  type StageDeps,
  scheduleOf,
  seqRows,
  startFrom,
  stepProblems,
  storeOpener,
  trainLoop,
} from "@baton/stage-lm";
import { type RewardConfig, rewardConfig } from "./config.ts";
import { type GroupShape, pairScores, pairSlotsOf, rowsOf, trainingBatch } from "./rankings.ts";

export type { RewardConfig } from "./config.ts";
export { REWARD_DEFAULTS, REWARD_RULES, rewardConfig } from "./config.ts";
export { groupsBatch, pairScores } from "./rankings.ts";
export const IMPLEMENTATION = "baton-gpt-reward";
export const VERSION = "0.1.0";

/** The step's config and its data split by role: every check that needs no training (train() runs it first). */
function checkedStep(step: RecipeStep): { cfg: RewardConfig; split: SplitData } {
  const cfg = rewardConfig(step);
  return { cfg, split: requireSplit(step, cfg.heldOut, true, "reward modelling") };
}

export function createStage(deps: StageDeps = {}): StageDefinition {
  const opener = storeOpener(deps.store, deps.dataAccess);
  const threads = deps.threads ?? 2;
  return {
    stage: "reward",
    implementation: IMPLEMENTATION,
    version: VERSION,
    validate: (step) => stepProblems(() => checkedStep(step)),
    async train(ctx: StageContext): Promise<TrainResult> {
      const startedAt = performance.now();
      const { cfg, split } = checkedStep(ctx.step);
      const model = await startFrom(ctx);
      const tok = model.tokenizer;
      const read = prefsReading(model, cfg, opener);
      const train = await readingData(ctx.step.name, () => readRankings(split.train, tok, read));
      const held = await readingData(ctx.step.name, () => readRankings(split.heldOut, tok, read));
      const heldOut = held.items.slice(0, cfg.eval.maxGroups);
      requireGroups(ctx, train.items, "training");
      requireGroups(ctx, heldOut, "held-out");
      // B prompts of up to K responses each: one row per response
      const k = Math.max(...[...train.items, ...heldOut].map((g) => g.seqs.length));
      const shape: GroupShape = { prompts: cfg.train.batchSize, k, seq: model.config.blockSize, pad: tok.special.pad };

      const rows = rowsOf(shape);
      const session = await openSession(model, { batchSize: rows, optim: cfg.optim, seed: ctx.seed, threads });
      session.setHead(SCORE_WEIGHT, model.score?.weight ?? headInit(model.config.nEmbd, ctx.seed));
      const scorer = await SeqProgram.compile(model.config, { rows, seq: shape.seq, threads, outputs: ["scores"] });
      const score = (groups: readonly SeqGroup[]) => scoreGroups(scorer, session.weights(), groups, shape);
      const evaluate = async () => {
        const s = pairScores(heldOut, await score(heldOut));
        return { pairwise_accuracy: s.accuracy, mean_margin: s.margin };
      };

      const beforeScores = await score(heldOut);
      const before = pairScores(heldOut, beforeScores);
      const run = await trainLoop({
        ctx,
        session,
        ...scheduleOf(cfg),
        batch: (t) => trainingBatch(train.items, shape, ctx.seed, t),
        evaluate,
        objective: bradleyTerry(pairSlotsOf(shape)),
        packed: false,
      });
      const afterScores = await score(heldOut);
      const after = pairScores(heldOut, afterScores);
      // centre the rewards: the training responses (the reference policy's answers) score 0 on average
      const referenceGroups = train.items.slice(0, Math.ceil(cfg.normalizeOn / shape.k));
      const reference = (await score(referenceGroups)).flatMap((s) => [...s]);
      const mean = reference.reduce((a, b) => a + b, 0) / reference.length;
      const std = Math.sqrt(reference.reduce((a, b) => a + (b - mean) ** 2, 0) / reference.length);
      await scorer.dispose();

      return finish(ctx, {
        model: { ...model, score: { weight: session.head(SCORE_WEIGHT), rewardBias: -mean } },
        session,
        run,
        effect: {
          pairwise_accuracy: { before: before.accuracy, after: after.accuracy },
          mean_margin: { before: before.margin, after: after.margin },
        },
        samples: heldOut.slice(0, cfg.eval.samples).map((g, i) => ({
          prompt: g.prompt,
          before: ranked(g, beforeScores[i], 0),
          after: ranked(g, afterScores[i], -mean),
          reference: bestResponse(g),
        })),
        datasets: datasetCounts([...train.reports, ...held.reports]),
        implementation: IMPLEMENTATION,
        startedAt,
        metrics: {
          reward_bias: -mean,
          reward_std: std,
          heldout_pairs: after.pairs,
          too_long_skipped: train.tooLong + held.tooLong,
        },
      });
    },
  };
}

/** The group's first preferred response, as the report's reference. */
function bestResponse(g: SeqGroup): string {
  const first = g.pairs[0];
  return first ? `best: ${JSON.stringify(g.responses[first[0]])}` : "";
}

function requireGroups(ctx: StageContext, groups: readonly SeqGroup[], what: string): void {
  if (groups.length > 0) return;
  const why = "each one is all ties, too long for the model's block, or not a ranking";
  const problem = `no ${what} ranking gives a training pair (${why})`;
  throw BatonError.fatal("DATASET_INVALID", `recipe step "${ctx.step.name}": ${problem}; check the step's /data`);
}

/** HF's init of a classifier head: N(0, 0.02), seeded by the run (Box-Muller on the seeded uniform). */
function headInit(C: number, seed: number): Float32Array {
  const r = rng(seed ^ 0x5c0e);
  return Float32Array.from({ length: C }, () => 0.02 * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r()));
}

/** Scores of every response of every group [group][response], chunked through the scorer. */
async function scoreGroups(
  scorer: SeqProgram,
  weights: ReadonlyMap<string, Float32Array>,
  groups: readonly SeqGroup[],
  s: GroupShape,
): Promise<Float32Array[]> {
  scorer.load(weights);
  const out: Float32Array[] = [];
  for (let i = 0; i < groups.length; i += s.prompts) {
    const chunk = groups.slice(i, i + s.prompts);
    const seqs = new Array(rowsOf(s)).fill(null);
    chunk.forEach((g, c) => g.seqs.forEach((q, j) => (seqs[c * s.k + j] = q)));
    const scores = (await scorer.run(seqRows(seqs, rowsOf(s), s.seq, s.pad))).scores as Float32Array;
    chunk.forEach((g, c) => out.push(scores.slice(c * s.k, c * s.k + g.seqs.length)));
  }
  return out;
}

/** `"a" (+0.41) > "b" (-0.22)`: a group's responses ordered by score. */
function ranked(g: SeqGroup, scores: Float32Array | undefined, bias: number): string {
  return g.responses
    .map((r, i) => ({ r, s: (scores?.[i] ?? Number.NaN) + bias }))
    .sort((a, b) => b.s - a.s)
    .map(({ r, s }) => `${JSON.stringify(r)} (${s >= 0 ? "+" : ""}${s.toFixed(2)})`)
    .join(" > ");
}
