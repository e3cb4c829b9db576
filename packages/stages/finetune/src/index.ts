// Stage `finetune`, as a recipe:
//   consumes  the previous checkpoint and {"prompt","completion"} JSONL (training + a held-out split)
//   trains    every weight, with the loss on completion tokens (and the EOS after them) only
//   emits     the checkpoint with exact match and ROUGE-L on the held-out split, before and after
import type { RecipeStep } from "@baton/contracts";
import type { StageContext, StageDefinition, TrainResult } from "@baton/runner";
import {
  datasetCounts,
  finish,
  promptCompletion,
  requireSplit,
  type StageDeps,
  sampleTable,
  startFrom,
  stepProblems,
  stepSftData,
  storeOpener,
  trainingSession,
  trainScored,
} from "@baton/stage-lm";
import { finetuneConfig } from "./config.ts";

export type { FinetuneConfig } from "./config.ts";
export { FINETUNE_DEFAULTS, FINETUNE_RULES, finetuneConfig } from "./config.ts";
export const IMPLEMENTATION = "baton-gpt-finetune";
export const VERSION = "0.1.0";

/**
 * How an implementation of the finetune stage differs from this one: its name, and which weights it
 * trains (the others stay as the input checkpoint has them). Another package passes its own.
 */
export interface FinetuneVariant {
  implementation: string;
  version: string;
  /** Default learning rate (training fewer weights tolerates a larger one). */
  lr?: number;
  trainable?: (name: string, nLayer: number) => boolean;
}

export function createStage(deps: StageDeps = {}): StageDefinition {
  return createFinetune(deps, { implementation: IMPLEMENTATION, version: VERSION });
}

export function createFinetune(deps: StageDeps, variant: FinetuneVariant): StageDefinition {
  const opener = storeOpener(deps.store, deps.dataAccess);
  // The step's config and its data split by role: every check that needs no training (train() runs it first).
  const checked = (step: RecipeStep) => {
    const cfg = finetuneConfig(step, variant.lr);
    const split = requireSplit(step, cfg.heldOut, true, "fine-tuning");
    return { cfg, split };
  };
  return {
    stage: "finetune",
    implementation: variant.implementation,
    version: variant.version,
    validate: (step) => stepProblems(() => checked(step)),
    async train(ctx: StageContext): Promise<TrainResult> {
      const startedAt = performance.now();
      const { cfg, split } = checked(ctx.step);
      const model = await startFrom(ctx);
      const tok = model.tokenizer;
      const render = promptCompletion(tok);
      const data = await stepSftData(ctx, model, cfg, { split, formats: ["prompt-completion"], render, opener });
      const only = variant.trainable;
      const trainable = only ? (name: string) => only(name, model.config.nLayer) : undefined;
      const session = await trainingSession(ctx, model, cfg, { threads: deps.threads, trainable });

      const { before, run, after } = await trainScored({ ctx, session, data, tokenizer: tok, config: cfg });

      return finish(ctx, {
        model,
        session,
        run,
        effect: {
          exact_match: { before: before.scores.exact_match, after: after.scores.exact_match },
          rouge_l: { before: before.scores.rouge_l, after: after.scores.rouge_l },
          heldout_loss: { before: before.scores.heldout_loss, after: after.scores.heldout_loss },
        },
        samples: sampleTable(data, before.answers, after.answers, cfg.eval.samples),
        datasets: datasetCounts(data.datasets),
        implementation: variant.implementation,
        startedAt,
      });
    },
  };
}
