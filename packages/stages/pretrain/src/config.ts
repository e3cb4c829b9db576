// Pretraining defaults: a row of @baton/model's preset table (the one `baton train pretrain --preset`
// reads), so a recipe step with `preset: X` builds and trains the model the CLI does. Every key may be
// overridden by the recipe step's `config`; an unknown key or a value of another type is an error
// naming its JSON path.

import type { RecipeStep } from "@baton/contracts";
import { type GptModelConfig, getPreset, PRESET_NAMES, presetModel } from "@baton/model";
import {
  BAD_RECORD_POLICIES,
  type ConfigRules,
  choice,
  HELD_OUT,
  LIMIT_RULES,
  loadConfig,
  SCHEDULE_RULES,
  scheduleProblems,
} from "@baton/stage-lm";

const TOKENIZERS = ["char", "bpe"] as const;

/** The keys a preset row gives (its model and training), in the stage's shape. */
function fromPreset(name: string) {
  const { model: m, train: t } = getPreset(name);
  return {
    model: {
      nLayer: m.nLayer,
      nHead: m.nHead,
      nEmbd: m.nEmbd, // C; head size C / nHead
      blockSize: m.blockSize, // T: learned positions, so sampling sees at most T tokens
      dropout: m.dropout,
      bias: m.bias,
    },
    // warmup, then cosine decay to minLr over the whole run (the presets decay over their iters)
    train: {
      steps: t.iters,
      batchSize: t.batchSize,
      warmupSteps: t.warmupIters,
      minLr: t.minLr,
      evalEvery: t.evalInterval,
      accumSteps: t.accumSteps,
    },
    optim: { lr: t.lr, beta1: t.beta1, beta2: t.beta2, weightDecay: t.weightDecay, clipNorm: t.clipNorm },
    evalBatches: t.evalBatches, // validation: the mean loss over this many fixed held-out batches
  };
}

const BASE = fromPreset("pretrain-default");

export const PRETRAIN_DEFAULTS = {
  // The row of @baton/model's preset table (PRESETS) that model, train, optim and evalBatches come
  // from: "pretrain-default" is a small GPT that learns the demo corpus in minutes on 2 CPU cores;
  // nanogpt-baby, nanogpt-shakespeare-char and gpt2-124m are the models `baton train pretrain
  // --preset` trains. The step's other keys override the row's.
  preset: choice(PRESET_NAMES, "pretrain-default"),
  model: BASE.model,
  // char: one token per character (printable ASCII is always included, so every later stage's
  // text encodes); bpe: GPT-2 byte-level BPE learned from the training data, to bpeVocabSize ids.
  tokenizer: choice(TOKENIZERS, "char"),
  bpeVocabSize: 512,
  train: { ...BASE.train, snapshotEvery: 100 },
  optim: BASE.optim,
  evalBatches: BASE.evalBatches,
  // Without a held-out dataset in the step's data, the last valFraction of the training tokens is held out.
  valFraction: 0.1,
  // Data validation: "fail" stops at the first bad line (file:line in the error); "skip" drops bad
  // lines and counts them in the report.
  policy: choice(BAD_RECORD_POLICIES, "fail"),
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
  "/preset": { oneOf: PRESET_NAMES },
  "/train/accumSteps": { integer: true, min: 1, max: 1024 },
  "/tokenizer": { oneOf: TOKENIZERS },
  "/bpeVocabSize": { integer: true, min: 300, max: 262_144 },
  "/valFraction": { min: 0.01, max: 0.5 },
};

/** The step's config over its preset's row (the stage's defaults when it names none, or one that does not exist). */
export function pretrainConfig(step: RecipeStep): PretrainConfig {
  const named = step.config?.preset;
  const preset = typeof named === "string" && PRESET_NAMES.includes(named) ? named : PRETRAIN_DEFAULTS.preset;
  const where = `recipe step "${step.name}" (pretrain) /config`;
  return loadConfig(presetDefaults(preset), step.config, where, PRETRAIN_RULES, modelAndSchedule);
}

/** The stage's defaults with a preset's row in place of "pretrain-default"'s. */
export function presetDefaults(preset: string): PretrainConfig {
  const row = fromPreset(preset);
  return {
    ...PRETRAIN_DEFAULTS,
    preset,
    ...row,
    train: { ...row.train, snapshotEvery: PRETRAIN_DEFAULTS.train.snapshotEvery },
  };
}

/** The GPT a step trains from random init: its preset's, with the step's config.model over it. */
export function pretrainModel(cfg: PretrainConfig, vocabSize: number): GptModelConfig {
  return presetModel(getPreset(cfg.preset), vocabSize, cfg.model);
}

/** Cross-key rules: the schedule's, and attention heads that split the embedding evenly. */
function modelAndSchedule(c: PretrainConfig): string[] {
  const problems = scheduleProblems(c);
  if (c.model.nEmbd % c.model.nHead !== 0)
    problems.push(
      `/model/nEmbd: ${c.model.nEmbd} is not a multiple of /model/nHead (${c.model.nHead}); each head takes nEmbd / nHead channels`,
    );
  return problems;
}
