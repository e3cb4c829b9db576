// Stage `rlhf`, implementation `rlhf-dpo`, as a recipe:
//   consumes  the reward model's checkpoint (or the instruct one) and the step's data: rankings or
//             preference pairs to learn from, held-out pairs and instructions to judge by
//   trains    the policy (the reward model's parent, or `policyStep`) with DPO: each pair's
//             log-probability ratio to the frozen starting policy, chosen over rejected, by beta
//   emits     the policy, rewards/chosen, rewards/rejected, accuracy and margin on held-out pairs,
//             and held-out answer accuracy and EOS rate before and after

import { BatonError, type RecipeStep } from "@baton/contracts";
import type { DatasetReport } from "@baton/data";
import type { StageContext, StageDefinition, TrainResult } from "@baton/runner";
import {
  accuracyEffect,
  answerSamples,
  answersOf,
  datasetCounts,
  finish,
  heldOutWinRate,
  openSession,
  prefsReading,
  readingData,
  readPrompts,
  readRankings,
  requireSplit,
  rlhfModels,
  rlhfPlacement,
  SeqProgram,
  type SplitData,
  type StageDeps,
  sampledEffects,
  scheduleOf,
  stepProblems,
  storeOpener,
  trainLoop,
} from "@baton/stage-lm";
import { type DpoConfig, dpoConfig } from "./config.ts";
import { dpoLoss } from "./dpo-loss.ts";
import { type PairShape, pairLogps, pairMetrics, pairsBatch, pairsOf } from "./pairs.ts";

export type { DpoConfig } from "./config.ts";
export { DPO_DEFAULTS, DPO_RULES, dpoConfig } from "./config.ts";
export const IMPLEMENTATION = "baton-gpt-rlhf-dpo";
export const VERSION = "0.1.0";

/** The step's config and its data split by role: every check that needs no training (train() runs it first). */
function checkedStep(step: RecipeStep): { cfg: DpoConfig; split: SplitData } {
  const cfg = dpoConfig(step);
  return { cfg, split: requireSplit(step, cfg.heldOut, true, "DPO") };
}

/** What the step needs of the steps before it (baton run checks it once validate() finds nothing). */
export function placementProblems(step: RecipeStep, earlier: readonly RecipeStep[]): string[] {
  return rlhfPlacement(earlier, { policyStep: dpoConfig(step).policyStep, needReward: false, what: "DPO" });
}

export function createStage(deps: StageDeps = {}): StageDefinition {
  const opener = storeOpener(deps.store, deps.dataAccess);
  const threads = deps.threads ?? 2;
  return {
    stage: "rlhf",
    implementation: IMPLEMENTATION,
    version: VERSION,
    validate: (step) => stepProblems(() => checkedStep(step)),
    async train(ctx: StageContext): Promise<TrainResult> {
      const startedAt = performance.now();
      const { cfg, split } = checkedStep(ctx.step);
      const models = { policyStep: cfg.policyStep, needReward: false, configPath: "/config" };
      const { policy, inputs } = await rlhfModels(ctx, models);
      const tok = policy.tokenizer;
      const T = policy.config.blockSize;
      const read = prefsReading(policy, cfg, opener);
      const train = await readingData(ctx.step.name, () => readRankings(split.train, tok, read));
      const heldRanks = await readingData(ctx.step.name, () => readRankings(split.heldOut, tok, read));
      const heldPrompts = await readingData(ctx.step.name, () => readPrompts(split.heldOut, tok, { ...read, room: 4 }));
      const pairs = pairsOf(train.items);
      const heldPairs = pairsOf(heldRanks.items).slice(0, cfg.eval.maxPairs);
      const prompts = heldPrompts.items.slice(0, cfg.eval.maxPrompts);
      if (pairs.length === 0) {
        const records = 'rankings or {"prompt","chosen","rejected"} records';
        const problem = `DPO needs preference pairs, and no training file of /data gives one (${records})`;
        throw BatonError.fatal("DATASET_INVALID", `recipe step "${ctx.step.name}": ${problem}`);
      }

      // B pairs: rows 2i (chosen) and 2i+1 (rejected)
      const shape: PairShape = { pairs: cfg.train.batchSize, seq: T, pad: tok.special.pad };
      const rows = 2 * shape.pairs;
      const session = await openSession(policy, { batchSize: rows, optim: cfg.optim, seed: ctx.seed, threads });
      const logps = await SeqProgram.compile(policy.config, { rows, seq: T, threads, outputs: ["logprobs"] });
      // the reference is the policy as it starts: its log-probabilities, once
      logps.load(session.weights());
      for (const list of [pairs, heldPairs]) {
        const refs = await pairLogps(logps, list, shape);
        list.forEach((p, i) => (p.ref = refs[i] ?? p.ref));
      }
      const heldMetrics = async () => {
        logps.load(session.weights());
        return pairMetrics(heldPairs, await pairLogps(logps, heldPairs, shape), cfg.beta);
      };

      const answer = () => answersOf(session, tok, prompts, cfg.eval);
      const { greedy: before, sampled: sampledBefore } = await answer();
      const run = await trainLoop({
        ctx,
        session,
        ...scheduleOf(cfg),
        batch: (t) => pairsBatch(pairs, shape, ctx.seed, t),
        evaluate: async () => ({ ...(await heldMetrics()) }),
        objective: dpoLoss(cfg.beta, cfg.sftWeight),
        packed: false,
      });
      const held = await heldMetrics();
      const { greedy: after, sampled: sampledAfter } = await answer();
      await logps.dispose();

      const shown = prompts.slice(0, cfg.eval.samples);
      return {
        ...(await finish(ctx, {
          model: policy,
          session,
          run,
          effect: {
            ...accuracyEffect(before, after),
            eos_rate: { before: before.eosRate, after: after.eosRate },
            ...heldOutWinRate(prompts, before, after),
            ...sampledEffects(prompts, sampledBefore, sampledAfter, cfg.eval.sampled),
            "rewards/accuracies": { before: 0, after: held["rewards/accuracies"] },
            "rewards/margins": { before: 0, after: held["rewards/margins"] },
          },
          samples: answerSamples(shown, before.texts, after.texts),
          // the held-out files are read twice (as rankings and as prompts): each counted once
          datasets: datasetCounts(onePerUri([...train.reports, ...heldRanks.reports, ...heldPrompts.reports])),
          implementation: IMPLEMENTATION,
          startedAt,
          metrics: {
            "rewards/chosen": held["rewards/chosen"],
            "rewards/rejected": held["rewards/rejected"],
            beta: cfg.beta,
            train_pairs: pairs.length,
          },
        })),
        inputs,
      };
    },
  };
}

/** The first report of each dataset. */
function onePerUri(reports: readonly DatasetReport[]): DatasetReport[] {
  return reports.filter((r, i) => reports.findIndex((x) => x.uri === r.uri) === i);
}
