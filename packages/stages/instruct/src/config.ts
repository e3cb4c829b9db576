// Instruction-tuning defaults: conversations rendered with the chat template, loss on assistant
// turns only, several short conversations packed per row (attention kept inside each one).

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

export const INSTRUCT_DEFAULTS = {
  train: {
    steps: 300,
    batchSize: 16,
    warmupSteps: 20,
    minLr: 1e-4,
    evalEvery: 100,
    snapshotEvery: 100,
  },
  optim: { ...OPTIM_DEFAULTS, lr: 2e-3, weightDecay: 0.0 },
  // Jinja chat template; null keeps the input checkpoint's tokenizer_config.json chat_template (or
  // Baton's default). Whatever is used is stored with the output checkpoint, so sampling renders
  // prompts exactly as training did.
  chatTemplate: null as string | null,
  // packed: several conversations per row, attention limited to each; rows: one per row
  packing: choice(PACKINGS, "packed"),
  eval: {
    maxExamples: 300, // held-out-template instructions answered greedily: the whole demo test set (short answers)
    maxTokens: 32,
    samples: 3,
  },
  policy: choice(BAD_RECORD_POLICIES, "fail"),
  maxChars: 4000,
  heldOut: HELD_OUT,
};

export type InstructConfig = typeof INSTRUCT_DEFAULTS;

// Every number has an upper bound (a recipe travels in events): instruct.test.ts checks it.
export const INSTRUCT_RULES: ConfigRules = {
  ...SCHEDULE_RULES,
  ...LIMIT_RULES,
  "/chatTemplate": { type: "string", maxLength: 20_000 },
  "/packing": { oneOf: PACKINGS },
};

export function instructConfig(step: RecipeStep): InstructConfig {
  return loadConfig(
    INSTRUCT_DEFAULTS,
    step.config,
    `recipe step "${step.name}" (instruct) /config`,
    INSTRUCT_RULES,
    scheduleProblems,
  );
}
