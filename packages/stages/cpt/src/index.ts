// Stage `cpt` (continued pretraining), as a recipe:
//   consumes  the previous checkpoint, a domain corpus and general text (the step's data; file names
//             matching replay.match are general), each with a held-out split
//   trains    next-token loss on batches whose rows are domain text except a replay share of general
//             text; warmup from zero again (lr re-warm), then cosine decay
//   emits     the checkpoint with domain and general val loss before and after: the gain on the
//             domain, and the forgetting on general text
import type { RecipeStep } from "@baton/contracts";
import type { StageContext, StageDefinition, TrainResult } from "@baton/runner";
import {
  beforeAfter,
  continuePrompts,
  datasetCounts,
  finish,
  fromTokenBatch,
  mixRows,
  partition,
  type StageDeps,
  StepInvalid,
  samplePrompts,
  scheduleOf,
  splitByRole,
  startFrom,
  stepCorpus,
  stepProblems,
  storeOpener,
  trainingSession,
  trainLoop,
  valLoss,
} from "@baton/stage-lm";
import { type CptConfig, cptConfig } from "./config.ts";

export type { CptConfig } from "./config.ts";
export { CPT_DEFAULTS, CPT_RULES, cptConfig } from "./config.ts";
export const IMPLEMENTATION = "baton-gpt-cpt";
export const VERSION = "0.1.0";

/** Row r of step t replays general text: a golden-ratio sequence, so exactly `share` of rows over time. */
export function isReplayRow(t: number, r: number, rows: number, share: number): boolean {
  return ((t * rows + r) * 0.6180339887498949) % 1 < share;
}

/** The step's config and its data split by role: every check that needs no training (train() runs it first). */
function checkedStep(step: RecipeStep): { cfg: CptConfig; generalUris: string[]; domainUris: string[] } {
  const cfg = cptConfig(step);
  const [generalUris, domainUris] = partition(step.data, cfg.replay.match);
  const match = `/config/replay/match "${cfg.replay.match}"`;
  const problems: string[] = [];
  if (domainUris.length === 0) problems.push(`/data: no domain corpus (every file name matches ${match}); add one`);
  if (generalUris.length === 0) {
    const why = "add the general corpus to measure forgetting and to replay";
    problems.push(`/data: no general text (no file name matches ${match}); ${why}`);
  }
  if (problems.length > 0) throw new StepInvalid(step.name, problems);
  return { cfg, generalUris, domainUris };
}

export function createStage(deps: StageDeps = {}): StageDefinition {
  const opener = storeOpener(deps.store, deps.dataAccess);
  return {
    stage: "cpt",
    implementation: IMPLEMENTATION,
    version: VERSION,
    validate: (step) => stepProblems(() => checkedStep(step)),
    async train(ctx: StageContext): Promise<TrainResult> {
      const startedAt = performance.now();
      const { cfg, generalUris, domainUris } = checkedStep(ctx.step);
      const model = await startFrom(ctx);
      const domainSplit = splitByRole(domainUris, cfg.heldOut);
      const generalSplit = splitByRole(generalUris, cfg.heldOut);
      const domain = await stepCorpus(ctx, model, cfg, { split: domainSplit, name: "domain", opener });
      const general = await stepCorpus(ctx, model, cfg, { split: generalSplit, name: "general", opener });
      const session = await trainingSession(ctx, model, cfg, deps);

      const evaluate = async () => ({
        domain_val_loss: await valLoss(session, domain),
        general_val_loss: await valLoss(session, general),
      });
      const prompts = await samplePrompts(domainSplit, cfg.samples, opener);
      const sample = () => continuePrompts(session, model.tokenizer, prompts, cfg.samples.maxTokens);
      const before = { ...(await evaluate()), samples: await sample() };

      const B = cfg.train.batchSize;
      const run = await trainLoop({
        ctx,
        session,
        ...scheduleOf(cfg),
        // rows of domain text, and at the replay rows general text (its own stream of batches)
        batch: (t) => {
          const domainRows = fromTokenBatch(domain.batches.train(ctx.seed, t));
          const generalRows = fromTokenBatch(general.batches.train(ctx.seed + 1, t));
          return mixRows(domainRows, generalRows, B, (r) => isReplayRow(t, r, B, cfg.replay.share));
        },
        evaluate,
      });

      const after = { ...(await evaluate()), samples: await sample() };
      domain.close();
      general.close();
      return finish(ctx, {
        model,
        session,
        run,
        effect: {
          domain_val_loss: { before: before.domain_val_loss, after: after.domain_val_loss },
          general_val_loss: { before: before.general_val_loss, after: after.general_val_loss },
        },
        samples: beforeAfter(prompts, before.samples, after.samples),
        datasets: datasetCounts([...domain.datasets, ...general.datasets]),
        implementation: IMPLEMENTATION,
        startedAt,
        metrics: { forgetting: after.general_val_loss - before.general_val_loss, replay_share: cfg.replay.share },
      });
    },
  };
}
