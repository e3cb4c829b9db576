// Task fine-tuning defaults: a few hundred steps on {"prompt","completion"} pairs at a lower learning
// rate than pretraining, so the task is learned without tearing up the base model.

import type { RecipeStep } from "@baton/contracts";
import {
  BAD_RECORD_POLICIES,
  type ConfigRules,
  choice,
  HELD_OUT,
  LIMIT_RULES,
  loadConfig,
  OPTIM_DEFAULTS,
  PACKINGS,
  SCHEDULE_RULES,
  scheduleProblems,
} from "@baton/stage-lm";

export const FINETUNE_DEFAULTS = {
  train: {
    steps: 300,
    batchSize: 16,
    warmupSteps: 20,
    minLr: 1e-4,
    evalEvery: 100,
    snapshotEvery: 100,
  },
  optim: { ...OPTIM_DEFAULTS, lr: 2e-3, weightDecay: 0.0 },
  // packed: several examples per row, attention and positions kept inside each (short task examples
  // would otherwise leave most of a row as masked padding); rows: one example per row
  packing: choice(PACKINGS, "packed"),
  eval: {
    maxExamples: 100, // held-out prompts answered greedily for exact match and ROUGE-L (answers are short)
    maxTokens: 32, // longest answer generated
    samples: 3, // shown before / after in the report
  },
  policy: choice(BAD_RECORD_POLICIES, "fail"),
  maxChars: 4000,
  heldOut: HELD_OUT,
};

export type FinetuneConfig = typeof FINETUNE_DEFAULTS;

// Every number has an upper bound (a recipe travels in events): finetune.test.ts checks it.
export const FINETUNE_RULES: ConfigRules = {
  ...SCHEDULE_RULES,
  ...LIMIT_RULES,
  "/packing": { oneOf: PACKINGS },
};

/** The step's config over the defaults (`lr` replaces the default learning rate of a variant). */
export function finetuneConfig(step: RecipeStep, lr?: number): FinetuneConfig {
  const defaults =
    lr === undefined ? FINETUNE_DEFAULTS : { ...FINETUNE_DEFAULTS, optim: { ...FINETUNE_DEFAULTS.optim, lr } };
  return loadConfig(
    defaults,
    step.config,
    `recipe step "${step.name}" (${step.stage}) /config`,
    FINETUNE_RULES,
    scheduleProblems,
  );
}
