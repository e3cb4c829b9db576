// Pretraining defaults: a tiny character-level GPT that learns the demo corpus in a couple of minutes
// on 2 CPU cores. Every key may be overridden by the recipe step's `config`; an unknown key or a value
// of another type is an error naming its JSON path.
import { type ConfigRules, HELD_OUT, LIMIT_RULES, OPTIM_DEFAULTS, SCHEDULE_RULES, loadConfig, scheduleProblems } from "@baton/stage-lm";
import type { RecipeStep } from "@baton/contracts";

export const PRETRAIN_DEFAULTS = {
  model: {
    nLayer: 2,
    nHead: 4,
    nEmbd: 64, // C; head size C / nHead = 16
    blockSize: 64, // T: learned positions, so sampling sees at most T tokens
    dropout: 0, // the demo corpus is small but varied enough that dropout only slows learning
    bias: true,
  },
  // char: one token per character (printable ASCII is always included, so every later stage's
  // text encodes); bpe: GPT-2 byte-level BPE learned from the training data, to bpeVocabSize ids.
  tokenizer: "char",
  bpeVocabSize: 512,
  train: {
    steps: 400,
    batchSize: 16,
    warmupSteps: 30,
    minLr: 1e-4,
    evalEvery: 100,
    snapshotEvery: 100,
  },
  optim: { ...OPTIM_DEFAULTS, lr: 3e-3 },
  // Validation: mean loss over this many fixed held-out batches. Without a held-out dataset in the
  // step's data, the last valFraction of the training tokens is held out.
  evalBatches: 4,
  valFraction: 0.1,
  // Data validation: "fail" stops at the first bad line (file:line in the error); "skip" drops bad
  // lines and counts them in the report.
  policy: "fail",
  maxChars: 100_000,
  heldOut: HELD_OUT, // file names matching this regular expression are held-out data
  samples: { count: 2, promptChars: 16, maxTokens: 48 },
};

export type PretrainConfig = typeof PRETRAIN_DEFAULTS;

// Every number has an upper bound (a recipe travels in events): pretrain.test.ts checks it.
export const PRETRAIN_RULES: ConfigRules = {
  ...SCHEDULE_RULES,
  ...LIMIT_RULES,
  "/model/nLayer": { integer: true, min: 1, max: 96 },
  "/model/nHead": { integer: true, min: 1, max: 128 },
  "/model/nEmbd": { integer: true, min: 1, max: 16_384 },
  "/model/blockSize": { integer: true, min: 2, max: 32_768 },
  "/model/dropout": { min: 0, max: 0.9 },
  "/tokenizer": { oneOf: ["char", "bpe"] },
  "/bpeVocabSize": { integer: true, min: 300, max: 262_144 },
  "/valFraction": { min: 0.01, max: 0.5 },
};

export function pretrainConfig(step: RecipeStep): PretrainConfig {
  return loadConfig(PRETRAIN_DEFAULTS, step.config, `recipe step "${step.name}" (pretrain) /config`, PRETRAIN_RULES, modelAndSchedule);
}

/** Cross-key rules: the schedule's, and attention heads that split the embedding evenly. */
function modelAndSchedule(c: PretrainConfig): string[] {
  const problems = scheduleProblems(c);
  if (c.model.nEmbd % c.model.nHead !== 0) problems.push(`/model/nEmbd: ${c.model.nEmbd} is not a multiple of /model/nHead (${c.model.nHead}); each head takes nEmbd / nHead channels`);
  return problems;
}
