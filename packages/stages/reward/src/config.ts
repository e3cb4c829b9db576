// Reward-model defaults: the instruct checkpoint's trunk plus a one-number head, trained with the
// Bradley-Terry loss on every pair of each ranking. Small learning rate: the trunk already knows the
// tasks, the head has to learn which answers people prefer, not the language again.

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

export const REWARD_DEFAULTS = {
  train: {
    steps: 150,
    batchSize: 8, // prompts per step; each brings all K of its responses as rows
    warmupSteps: 15,
    minLr: 3e-5,
    evalEvery: 50,
    snapshotEvery: 50,
  },
  optim: { ...OPTIM_DEFAULTS, lr: 3e-4, weightDecay: 0.0 },
  eval: {
    maxGroups: 300, // held-out rankings scored for pairwise accuracy
    samples: 3,
  },
  // the scores of at most this many training responses set the bias that centres them on 0
  normalizeOn: 2000,
  policy: choice(BAD_RECORD_POLICIES, "fail"),
  maxChars: 4000,
  heldOut: HELD_OUT,
};

export type RewardConfig = typeof REWARD_DEFAULTS;

// Every number has an upper bound (a recipe travels in events): registry config-bounds.test.ts checks it.
export const REWARD_RULES: ConfigRules = {
  ...SCHEDULE_RULES,
  "/train/batchSize": { integer: true, min: 1, max: 256 },
  "/eval/maxGroups": { integer: true, min: 1, max: 100_000 },
  "/eval/samples": { integer: true, min: 0, max: 100 },
  "/normalizeOn": { integer: true, min: 1, max: 1_000_000 },
  "/maxChars": { integer: true, min: 1, max: 1_000_000 },
};

export function rewardConfig(step: RecipeStep): RewardConfig {
  return loadConfig(
    REWARD_DEFAULTS,
    step.config,
    `recipe step "${step.name}" (reward) /config`,
    REWARD_RULES,
    scheduleProblems,
  );
}
