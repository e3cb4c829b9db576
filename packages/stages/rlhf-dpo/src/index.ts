// Stage `rlhf`, implementation `rlhf-dpo`, as a recipe:
//   consumes  the reward model's checkpoint (or the instruct one) and the step's data: rankings or
//             preference pairs to learn from, held-out pairs and instructions to judge by
//   trains    the policy (the reward model's parent, or `policyStep`) with DPO: each pair's
//             log-probability ratio to the frozen starting policy, chosen over rejected, by beta
//   emits     the policy, rewards/chosen, rewards/rejected, accuracy and margin on held-out pairs,
//             and held-out answer accuracy and EOS rate before and after
import { type BadRecordPolicy, chatTemplateOf } from "@baton/data";
import { BatonError } from "@baton/contracts";
import type { StageContext, StageDefinition, TrainResult } from "@baton/runner";
import { SeqProgram, type StageDeps, answerPrompts, datasetCounts, EVAL_SEED, heldOutWinRate, sampledEffects, finish, openSession, readPrompts, readRankings, readingData, requireData, stepProblems, rlhfModels, splitByRole, storeOpener, trainLoop } from "@baton/stage-lm";
import { dpoConfig } from "./config.ts";
import { dpoLoss } from "./dpo-loss.ts";
import { type PairShape, pairLogps, pairMetrics, pairsBatch, pairsOf } from "./pairs.ts";

export { DPO_DEFAULTS, DPO_RULES, dpoConfig } from "./config.ts";
export type { DpoConfig } from "./config.ts";
export const IMPLEMENTATION = "baton-gpt-rlhf-dpo";
export const VERSION = "0.1.0";

export function createStage(deps: StageDeps = {}): StageDefinition {
  const opener = storeOpener(deps.store, deps.dataAccess);
  return {
    stage: "rlhf",
    implementation: IMPLEMENTATION,
    version: VERSION,
    // The checks train() starts with, run before anything is published (baton run, the relay).
    validate: (step) => stepProblems(() => requireData(step, splitByRole(step.data, dpoConfig(step).heldOut), true, "DPO")),
    async train(ctx: StageContext): Promise<TrainResult> {
      const startedAt = performance.now();
      const cfg = dpoConfig(ctx.step);
      const split = splitByRole(ctx.step.data, cfg.heldOut);
      requireData(ctx.step, split, true, "DPO");
      const { policy, inputs } = await rlhfModels(ctx, { policyStep: cfg.policyStep, needReward: false, configPath: "/config" });
      const tok = policy.tokenizer;
      const T = policy.config.blockSize;
      const read = { policy: cfg.policy as BadRecordPolicy, maxChars: cfg.maxChars, opener, template: chatTemplateOf(policy.tokenizerConfig), blockSize: T };
      const train = await readingData(ctx.step.name, () => readRankings(split.train, tok, read));
      const heldRanks = await readingData(ctx.step.name, () => readRankings(split.heldOut, tok, read));
      const heldPrompts = await readingData(ctx.step.name, () => readPrompts(split.heldOut, tok, { ...read, room: 4 }));
      const pairs = pairsOf(train.items);
      const heldPairs = pairsOf(heldRanks.items).slice(0, cfg.eval.maxPairs);
      const prompts = heldPrompts.items.slice(0, cfg.eval.maxPrompts);
      if (pairs.length === 0) throw BatonError.fatal("DATASET_INVALID", `recipe step "${ctx.step.name}": DPO needs preference pairs, and no training file of /data gives one (rankings or {"prompt","chosen","rejected"} records)`);

      const shape: PairShape = { pairs: cfg.train.batchSize, seq: T, pad: tok.special.pad };
      const session = await openSession(policy, { batchSize: 2 * shape.pairs, optim: cfg.optim, seed: ctx.seed, threads: deps.threads });
      const logps = await SeqProgram.compile(policy.config, { rows: 2 * shape.pairs, seq: T, threads: deps.threads ?? 2, outputs: ["logprobs"] });
      // the reference is the policy as it starts: its log-probabilities, once
      logps.load(session.weights());
      for (const [list, refs] of [[pairs, await pairLogps(logps, pairs, shape)], [heldPairs, await pairLogps(logps, heldPairs, shape)]] as const) list.forEach((p, i) => (p.ref = refs[i] as [number, number]));
      const heldMetrics = async () => {
        logps.load(session.weights());
        return pairMetrics(heldPairs, await pairLogps(logps, heldPairs, shape), cfg.beta);
      };

      const answer = async () => ({
        greedy: await answerPrompts(session, tok, prompts, cfg.eval.maxTokens),
        sampled: cfg.eval.sampled > 0 ? await answerPrompts(session, tok, prompts, cfg.eval.maxTokens, { samples: cfg.eval.sampled, seed: EVAL_SEED }) : null,
      });
      const { greedy: before, sampled: sampledBefore } = await answer();
      const run = await trainLoop({
        ctx,
        session,
        schedule: { steps: cfg.train.steps, lr: cfg.optim.lr, minLr: cfg.train.minLr, warmupSteps: cfg.train.warmupSteps },
        batch: (t) => pairsBatch(pairs, shape, ctx.seed, t),
        evaluate: async () => ({ ...(await heldMetrics()) }),
        evalEvery: cfg.train.evalEvery,
        snapshotEvery: cfg.train.snapshotEvery,
        objective: dpoLoss(cfg.beta, cfg.sftWeight),
        packed: false,
      });
      const held = await heldMetrics();
      const { greedy: after, sampled: sampledAfter } = await answer();
      await logps.dispose();

      return {
        ...(await finish(ctx, {
          model: policy,
          session,
          run,
          effect: {
            ...(Number.isFinite(after.accuracy) ? { heldout_accuracy: { before: before.accuracy, after: after.accuracy } } : {}),
            eos_rate: { before: before.eosRate, after: after.eosRate },
            ...heldOutWinRate(prompts, before, after),
            ...sampledEffects(prompts, sampledBefore, sampledAfter, cfg.eval.sampled),
            "rewards/accuracies": { before: 0, after: held["rewards/accuracies"] },
            "rewards/margins": { before: 0, after: held["rewards/margins"] },
          },
          samples: prompts.slice(0, cfg.eval.samples).map((p, i) => ({ prompt: p.prompt, before: before.texts[i] ?? "", after: after.texts[i] ?? "", ...(p.reference !== undefined ? { reference: p.reference } : {}) })),
          datasets: datasetCounts([...train.reports, ...heldRanks.reports, ...heldPrompts.reports.filter((r) => !heldRanks.reports.some((x) => x.uri === r.uri))]),
          implementation: IMPLEMENTATION,
          startedAt,
          metrics: { "rewards/chosen": held["rewards/chosen"], "rewards/rejected": held["rewards/rejected"], beta: cfg.beta, train_pairs: pairs.length },
        })),
        inputs,
      };
    },
  };
}
