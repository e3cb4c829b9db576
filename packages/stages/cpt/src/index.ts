// Stage `cpt` (continued pretraining), as a recipe:
//   consumes  the previous checkpoint, a domain corpus and general text (the step's data; file names
//             matching replay.match are general), each with a held-out split
//   trains    next-token loss on batches whose rows are domain text except a replay share of general
//             text; warmup from zero again (lr re-warm), then cosine decay
//   emits     the checkpoint with domain and general val loss before and after: the gain on the
//             domain, and the forgetting on general text
import type { BadRecordPolicy } from "@baton/data";
import { BatonError, type RecipeStep } from "@baton/contracts";
import type { StageContext, StageDefinition, TrainResult } from "@baton/runner";
import {
  type SampleBeforeAfter,
  type StageDeps,
  continueTexts,
  datasetCounts,
  finish,
  fromTokenBatch,
  lmCorpus,
  mixRows,
  openSession,
  openings,
  partition,
  readingData,
  splitByRole,
  startFrom,
  stepProblems,
  storeOpener,
  trainLoop,
  valLoss,
} from "@baton/stage-lm";
import { type CptConfig, cptConfig } from "./config.ts";

export { CPT_DEFAULTS, CPT_RULES, cptConfig } from "./config.ts";
export type { CptConfig } from "./config.ts";
export const IMPLEMENTATION = "baton-gpt-cpt";
export const VERSION = "0.1.0";

/** Row r of step t replays general text: a golden-ratio sequence, so exactly `share` of rows over time. */
export function isReplayRow(t: number, r: number, rows: number, share: number): boolean {
  return (((t * rows + r) * 0.6180339887498949) % 1) < share;
}

/** The step's config and its data split by role: every check that needs no training (train() runs it first). */
function checkedStep(step: RecipeStep): { cfg: CptConfig; generalUris: string[]; domainUris: string[] } {
  const cfg = cptConfig(step);
  const [generalUris, domainUris] = partition(step.data, cfg.replay.match);
  if (domainUris.length === 0) throw BatonError.fatal("CONFIG_INVALID", `recipe step "${step.name}": /data has no domain corpus (every file name matches /config/replay/match "${cfg.replay.match}"); add one`);
  if (generalUris.length === 0) throw BatonError.fatal("CONFIG_INVALID", `recipe step "${step.name}": /data has no general text (no file name matches /config/replay/match "${cfg.replay.match}"); add the general corpus to measure forgetting and to replay`);
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
      const B = cfg.train.batchSize;
      const corpusOf = (uris: string[], name: string) =>
        readingData(ctx.step.name, () =>
          lmCorpus({ ...splitByRole(uris, cfg.heldOut), tokenizer: model.tokenizer, dir: ctx.workdir, name, batchSize: B, blockSize: model.config.blockSize, evalBatches: cfg.evalBatches, valFraction: cfg.valFraction, policy: cfg.policy as BadRecordPolicy, maxChars: cfg.maxChars, opener }),
        );
      const domain = await corpusOf(domainUris, "domain");
      const general = await corpusOf(generalUris, "general");
      const session = await openSession(model, { batchSize: B, optim: cfg.optim, seed: ctx.seed, threads: deps.threads });

      const evaluate = async () => ({ domain_val_loss: await valLoss(session, domain), general_val_loss: await valLoss(session, general) });
      const domainHeld = splitByRole(domainUris, cfg.heldOut);
      const prompts = await openings(domainHeld.heldOut.length > 0 ? domainHeld.heldOut : domainHeld.train, cfg.samples.count, cfg.samples.promptChars, opener);
      const sample = () => continueTexts(session, model.tokenizer, prompts.map((p) => ({ prompt: model.tokenizer.encode(p), maxTokens: cfg.samples.maxTokens })));
      const before = { ...(await evaluate()), samples: await sample() };

      const run = await trainLoop({
        ctx,
        session,
        schedule: { steps: cfg.train.steps, lr: cfg.optim.lr, minLr: cfg.train.minLr, warmupSteps: cfg.train.warmupSteps },
        batch: (t) => mixRows(fromTokenBatch(domain.batches.train(ctx.seed, t)), fromTokenBatch(general.batches.train(ctx.seed + 1, t)), B, (r) => isReplayRow(t, r, B, cfg.replay.share)),
        evaluate,
        evalEvery: cfg.train.evalEvery,
        snapshotEvery: cfg.train.snapshotEvery,
      });

      const after = { ...(await evaluate()), samples: await sample() };
      const samples: SampleBeforeAfter[] = prompts.map((prompt, i) => ({ prompt, before: before.samples[i]?.text ?? "", after: after.samples[i]?.text ?? "" }));
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
        samples,
        datasets: datasetCounts([...domain.datasets, ...general.datasets]),
        implementation: IMPLEMENTATION,
        startedAt,
        metrics: { forgetting: after.general_val_loss - before.general_val_loss, replay_share: cfg.replay.share },
      });
    },
  };
}
