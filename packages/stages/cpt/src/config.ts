// Continued-pretraining defaults: next-token training on a domain corpus with a share of general
// text replayed so the base model's general ability is not overwritten, after a fresh warmup (the
// lr "re-warm": the optimizer state is new, so a cold start at full lr would jolt the weights).

import type { RecipeStep } from "@baton/contracts";
import {
  BAD_RECORD_POLICIES,
  type ConfigRules,
  choice,
  HELD_OUT,
  LIMIT_RULES,
  loadConfig,
  OPTIM_DEFAULTS,
  SCHEDULE_RULES,
  scheduleProblems,
} from "@baton/stage-lm";

export const CPT_DEFAULTS = {
  train: {
    steps: 250,
    batchSize: 16,
    warmupSteps: 25, // the re-warm
    minLr: 1e-4,
    evalEvery: 50,
    snapshotEvery: 100,
  },
  optim: { ...OPTIM_DEFAULTS, lr: 2e-3 },
  replay: {
    // share of each batch's rows drawn from general (replay) data instead of the domain corpus
    share: 0.25,
    // dataset file names matching this regular expression are general (replay) data; the rest domain
    match: "general",
  },
  evalBatches: 4,
  valFraction: 0.1,
  policy: choice(BAD_RECORD_POLICIES, "fail"),
  maxChars: 100_000,
  heldOut: HELD_OUT,
  samples: { count: 2, promptChars: 16, maxTokens: 48 },
};

export type CptConfig = typeof CPT_DEFAULTS;

// Every number has an upper bound (a recipe travels in events): cpt.test.ts checks it.
export const CPT_RULES: ConfigRules = {
  ...SCHEDULE_RULES,
  ...LIMIT_RULES,
  "/replay/share": { min: 0, max: 0.95 },
  "/replay/match": { regex: true },
  "/valFraction": { min: 0.01, max: 0.5 },
};

export function cptConfig(step: RecipeStep): CptConfig {
  return loadConfig(CPT_DEFAULTS, step.config, `recipe step "${step.name}" (cpt) /config`, CPT_RULES, scheduleProblems);
}
