// DPO defaults (Rafailov et al. 2023): the policy learns straight from preference pairs, each pair's
// log-probability ratio to a frozen reference pushed apart by beta. Shared with rlhf-ppo: the step,
// the data list and where the policy comes from (policyStep).

import type { RecipeStep } from "@baton/contracts";
import {
  BAD_RECORD_POLICIES,
  type ConfigRules,
  choice,
  HELD_OUT,
  loadConfig,
  OPTIM_DEFAULTS,
  SCHEDULE_RULES,
  scheduleProblems,
} from "@baton/stage-lm";

export const DPO_DEFAULTS = {
  // the earlier step whose checkpoint is the policy; null: the reward model's parent, or the input
  // checkpoint itself when it is not a reward model
  policyStep: null as string | null,
  beta: 0.1, // strength of the pull towards the reference (TRL's default)
  sftWeight: 1.0, // weight of the chosen response's mean NLL beside the DPO loss (RPO's alpha; 0: plain DPO)
  train: {
    steps: 150,
    batchSize: 8, // preference pairs per step (2 rows each)
    warmupSteps: 10,
    minLr: 1e-5,
    evalEvery: 50,
    snapshotEvery: 50,
  },
  optim: { ...OPTIM_DEFAULTS, lr: 5e-5, weightDecay: 0.0 }, // 2e-4 moved the demo policy off its right answers (held-out accuracy 0.87 -> 0.82)
  eval: {
    maxPairs: 300, // held-out pairs for rewards/chosen, rewards/rejected, accuracy, margin
    maxPrompts: 200, // held-out instructions answered greedily (accuracy against the reference, EOS rate)
    sampled: 4, // and answered this many times at temperature 1, as the policy is sampled (0: not)
    maxTokens: 32,
    samples: 3,
  },
  policy: choice(BAD_RECORD_POLICIES, "fail"),
  maxChars: 4000,
  heldOut: HELD_OUT,
};

export type DpoConfig = typeof DPO_DEFAULTS;

// Every number has an upper bound (a recipe travels in events): registry config-bounds.test.ts checks it.
export const DPO_RULES: ConfigRules = {
  ...SCHEDULE_RULES,
  "/policyStep": { type: "string" },
  "/beta": { min: 1e-4, max: 100 },
  "/sftWeight": { min: 0, max: 100 },
  "/train/batchSize": { integer: true, min: 1, max: 512 },
  "/eval/maxPairs": { integer: true, min: 1, max: 100_000 },
  "/eval/maxPrompts": { integer: true, min: 1, max: 100_000 },
  "/eval/sampled": { integer: true, min: 0, max: 64 },
  "/eval/maxTokens": { integer: true, min: 1, max: 4096 },
  "/eval/samples": { integer: true, min: 0, max: 100 },
  "/maxChars": { integer: true, min: 1, max: 1_000_000 },
};

export function dpoConfig(step: RecipeStep): DpoConfig {
  return loadConfig(
    DPO_DEFAULTS,
    step.config,
    `recipe step "${step.name}" (rlhf-dpo) /config`,
    DPO_RULES,
    scheduleProblems,
  );
}
