// One table of pretraining configurations: `baton train pretrain --preset X` (and `baton bench
// pretrain`, which prepares the same way) and a recipe's pretrain step with `preset: X` build the same
// GPT and train it with the same settings, with or without overrides.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PRESET_NAMES, type TrainDefaults } from "@baton/model";
import { type PretrainConfig, pretrainConfig, pretrainModel } from "@baton/stage-pretrain";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prepareFromFlags } from "./train.ts";

const step = (config: Record<string, unknown>) => ({ name: "pretrain", stage: "pretrain", config, data: [] });

/** The stage's config in the trainer's terms (its cosine decays over the whole run). */
function trainerSettings(c: PretrainConfig): TrainDefaults {
  const { train: t, optim: o } = c;
  return {
    batchSize: t.batchSize,
    iters: t.steps,
    lr: o.lr,
    minLr: t.minLr,
    warmupIters: t.warmupSteps,
    decayIters: t.steps,
    beta1: o.beta1,
    beta2: o.beta2,
    weightDecay: o.weightDecay,
    clipNorm: o.clipNorm,
    accumSteps: t.accumSteps,
    evalInterval: t.evalEvery,
    evalBatches: c.evalBatches,
  };
}

describe("a preset on the command line and in a recipe step", () => {
  let dir: string;
  let data: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "baton-presets-"));
    data = join(dir, "corpus.txt");
    // longer than the largest preset's block (1024) in both the 90% and the 10% split
    const lines = Array.from(
      { length: 1200 },
      (_, i) => `line ${i}: the quick brown fox jumps over the lazy dog ${i % 7}.`,
    );
    await writeFile(data, lines.join("\n"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each(PRESET_NAMES)("%s: the same model and training settings", async (preset) => {
    const prep = await prepareFromFlags({ preset, data: [data], tokenizer: "char" }, "usage", join(dir, preset));
    try {
      const cfg = pretrainConfig(step({ preset }));
      // the vocabulary is each path's tokenizer's; given the same one, the models are equal
      expect(pretrainModel(cfg, prep.tokenizer.vocabSize)).toEqual(prep.model);
      expect(trainerSettings(cfg)).toEqual(prep.hyper);
    } finally {
      prep.corpus.close();
    }
  });

  it("the same overrides, as flags and as the step's config, give the same model and settings", async () => {
    const flags = {
      preset: "nanogpt-baby",
      data: [data],
      tokenizer: "char",
      "block-size": "32",
      dropout: "0.1",
      iters: "50",
      "batch-size": "4",
      warmup: "5",
      lr: "0.01",
    };
    const prep = await prepareFromFlags(flags, "usage", join(dir, "overrides"));
    try {
      const cfg = pretrainConfig(
        step({
          preset: "nanogpt-baby",
          model: { blockSize: 32, dropout: 0.1 },
          train: { steps: 50, batchSize: 4, warmupSteps: 5 },
          optim: { lr: 0.01 },
        }),
      );
      expect(pretrainModel(cfg, prep.tokenizer.vocabSize)).toEqual(prep.model);
      expect(prep.model).toMatchObject({ nLayer: 4, nEmbd: 128, blockSize: 32, dropout: 0.1, bias: false });
      expect(trainerSettings(cfg)).toEqual(prep.hyper);
    } finally {
      prep.corpus.close();
    }
  });

  it("a step without a preset is the pretrain-default row; an unknown preset is refused with the known ones", () => {
    expect(pretrainConfig(step({}))).toEqual(pretrainConfig(step({ preset: "pretrain-default" })));
    expect(() => pretrainConfig(step({ preset: "nanogpt-bby", train: { steps: 3 } }))).toThrow(
      `/preset: must be one of ${PRESET_NAMES.map((n) => JSON.stringify(n)).join(", ")}, got "nanogpt-bby"`,
    );
  });
});
