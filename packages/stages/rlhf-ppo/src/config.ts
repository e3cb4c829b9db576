// PPO defaults (Ouyang et al. 2022; TRL's PPO trainer; CleanRL's ppo.py): rollouts from the policy,
// rewards from the reward model minus a per-token KL penalty to the frozen starting policy, GAE
// advantages, and a few epochs of clipped updates of the policy and of a value model initialised from
// the reward model. Sizes are for small models on CPU; the rates suit a model that is already
// instruction-tuned (RL only nudges it).

import type { RecipeStep } from "@baton/contracts";
import {
  BAD_RECORD_POLICIES,
  type ConfigRules,
  choice,
  HELD_OUT,
  loadConfig,
  OPTIM_DEFAULTS,
  SCHEDULE_RULES,
} from "@baton/stage-lm";

const KL_MODES = ["adaptive", "fixed"] as const;

export const PPO_DEFAULTS = {
  // the earlier step whose checkpoint is the policy; null: the reward model's parent
  policyStep: null as string | null,
  iterations: 20,
  rollouts: 32, // prompts answered per iteration (one sampled response each)
  minibatches: 2, // rollouts / minibatches responses per update (16: fewer, fuller train steps on CPU)
  epochs: 2, // passes over an iteration's rollouts
  maxNewTokens: 24,
  temperature: 1.0, // rollouts sample the policy as it is: PPO's ratios assume it
  gamma: 1.0, // one reward at the end of a short response: no discounting
  lam: 0.95,
  clipRange: 0.2, // policy ratio clipped to [1 - c, 1 + c]
  clipRangeValue: 0.2, // value predictions move at most this far from the rollout's
  whitenAdvantages: true,
  noEosPenalty: 1.0, // subtracted from the reward of a response that ran out of tokens without EOS
  kl: {
    mode: choice(KL_MODES, "adaptive"), // adaptive: beta follows the KL towards `target` (Ziegler et al. 2019); fixed: beta stays
    beta: 0.2, // initial KL coefficient
    target: 0.1, // nats per response (answers of a few tokens: about 0.02 nats a token)
    horizon: 64, // rollouts over which a steady KL error moves beta by its clipped size (20%): two iterations
  },
  // a small step: on the demo, 1e-4 and 3e-5 let the policy find what the reward model wrongly
  // rewards within 20 iterations (held-out accuracy 0.79 -> 0.38, and 0.86 -> 0.63-0.82), 1e-5 kept it
  policyOptim: { ...OPTIM_DEFAULTS, lr: 1e-5, weightDecay: 0.0 },
  valueOptim: { ...OPTIM_DEFAULTS, lr: 3e-4, weightDecay: 0.0 },
  snapshotEvery: 5, // iterations (0: only when stopped)
  eval: {
    maxPrompts: 100, // held-out prompts answered greedily and scored before and after
    sampled: 4, // and answered this many times at temperature 1, as the policy is sampled (0: not)
    maxTokens: 32,
    samples: 3,
  },
  policy: choice(BAD_RECORD_POLICIES, "fail"),
  maxChars: 4000,
  heldOut: HELD_OUT,
};

export type PpoConfig = typeof PPO_DEFAULTS;

// Every number has an upper bound (a recipe travels in events): registry config-bounds.test.ts checks it.
export const PPO_RULES: ConfigRules = {
  "/policyStep": { type: "string" },
  "/iterations": { integer: true, min: 1, max: 100_000 },
  "/rollouts": { integer: true, min: 1, max: 4096 },
  "/minibatches": { integer: true, min: 1, max: 4096 },
  "/epochs": { integer: true, min: 1, max: 100 },
  "/maxNewTokens": { integer: true, min: 1, max: 4096 },
  "/temperature": { min: 0.05, max: 10 },
  "/gamma": { min: 0, max: 1 },
  "/lam": { min: 0, max: 1 },
  "/clipRange": { min: 0, max: 10 },
  "/clipRangeValue": { min: 0, max: 1e6 },
  "/noEosPenalty": { min: 0, max: 1e6 },
  "/kl/mode": { oneOf: KL_MODES },
  "/kl/beta": { min: 0, max: 100 },
  "/kl/target": { min: 1e-6, max: 1e6 },
  "/kl/horizon": { min: 1, max: 1e9 },
  ...prefixed(SCHEDULE_RULES, "/optim/", "/policyOptim/"),
  ...prefixed(SCHEDULE_RULES, "/optim/", "/valueOptim/"),
  "/snapshotEvery": { integer: true, min: 0, max: 100_000 },
  "/eval/maxPrompts": { integer: true, min: 1, max: 100_000 },
  "/eval/sampled": { integer: true, min: 0, max: 64 },
  "/eval/maxTokens": { integer: true, min: 1, max: 4096 },
  "/eval/samples": { integer: true, min: 0, max: 100 },
  "/policy": { oneOf: BAD_RECORD_POLICIES },
  "/maxChars": { integer: true, min: 1, max: 1_000_000 },
};

export function ppoConfig(step: RecipeStep): PpoConfig {
  const where = `recipe step "${step.name}" (rlhf-ppo) /config`;
  return loadConfig(PPO_DEFAULTS, step.config, where, PPO_RULES, minibatchProblems);
}

/** Cross-key rule: every minibatch holds the same number of responses. */
function minibatchProblems(c: PpoConfig): string[] {
  if (c.rollouts % c.minibatches === 0) return [];
  return [
    `/minibatches: ${c.minibatches} does not divide /rollouts (${c.rollouts}); every minibatch holds the same number of responses`,
  ];
}

function prefixed(rules: typeof SCHEDULE_RULES, from: string, to: string): typeof SCHEDULE_RULES {
  return Object.fromEntries(
    Object.entries(rules)
      .filter(([k]) => k.startsWith(from))
      .map(([k, v]) => [to + k.slice(from.length), v]),
  );
}
