// Stage `instruct`, as a recipe:
//   consumes  the previous checkpoint and instructions: alpaca {"instruction","input","output"} or
//             chat {"messages":[...]} JSONL, with a held-out split phrased with unseen templates
//   trains    every weight, loss on assistant turns (and the EOS that ends them) only, conversations
//             rendered by the chat template and packed without attention across them
//   emits     the checkpoint with the chat template in tokenizer_config.json, accuracy on the
//             held-out templates before and after, and how often generation stops at EOS

import type { RecipeStep } from "@baton/contracts";
import { chatTemplateOf, tokenizerConfigFor } from "@baton/data";
import type { StageContext, StageDefinition, TrainResult } from "@baton/runner";
import {
  chatTurns,
  datasetCounts,
  finish,
  requireSplit,
  type SplitData,
  type StageDeps,
  sampleTable,
  startFrom,
  stepProblems,
  stepSftData,
  storeOpener,
  trainingSession,
  trainScored,
} from "@baton/stage-lm";
import { type InstructConfig, instructConfig } from "./config.ts";

export type { InstructConfig } from "./config.ts";
export { INSTRUCT_DEFAULTS, INSTRUCT_RULES, instructConfig } from "./config.ts";
export const IMPLEMENTATION = "baton-gpt-instruct";
export const VERSION = "0.1.0";

/** The step's config and its data split by role: every check that needs no training (train() runs it first). */
function checkedStep(step: RecipeStep): { cfg: InstructConfig; split: SplitData } {
  const cfg = instructConfig(step);
  const split = requireSplit(step, cfg.heldOut, true, "instruction tuning");
  return { cfg, split };
}

export function createStage(deps: StageDeps = {}): StageDefinition {
  const opener = storeOpener(deps.store, deps.dataAccess);
  return {
    stage: "instruct",
    implementation: IMPLEMENTATION,
    version: VERSION,
    validate: (step) => stepProblems(() => checkedStep(step)),
    async train(ctx: StageContext): Promise<TrainResult> {
      const startedAt = performance.now();
      const { cfg, split } = checkedStep(ctx.step);
      const model = await startFrom(ctx);
      const tok = model.tokenizer;
      const template = cfg.chatTemplate ?? chatTemplateOf(model.tokenizerConfig);
      const render = chatTurns(tok, template);
      const data = await stepSftData(ctx, model, cfg, { split, formats: ["alpaca", "chat"], render, opener });
      const session = await trainingSession(ctx, model, cfg, deps);

      const { before, run, after } = await trainScored({ ctx, session, data, tokenizer: tok, config: cfg });

      // the template travels with the weights: sampling renders prompts as training did
      const stored = tokenizerConfigFor(tok, { template, modelMaxLength: model.config.blockSize });
      return finish(ctx, {
        model: { ...model, tokenizerConfig: { ...model.tokenizerConfig, ...stored } },
        session,
        run,
        effect: {
          heldout_template_accuracy: { before: before.scores.exact_match, after: after.scores.exact_match },
          eos_rate: { before: before.scores.eos_rate, after: after.scores.eos_rate },
          heldout_loss: { before: before.scores.heldout_loss, after: after.scores.heldout_loss },
        },
        samples: sampleTable(data, before.answers, after.answers, cfg.eval.samples),
        datasets: datasetCounts(data.datasets),
        implementation: IMPLEMENTATION,
        startedAt,
        metrics: { rouge_l: after.scores.rouge_l },
      });
    },
  };
}
