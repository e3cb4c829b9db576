import { describe, expect, it } from "vitest";
import { PRESET_NAMES } from "@baton/model";
import { stageContract, writeJsonl } from "@baton/stage-contract";
import { createStage, presetDefaults, pretrainConfig } from "./index.ts";

const sentences = ["the cat sat on the mat.", "a dog ran to the red door.", "we saw the sun set over the hill.", "the bird sang in the old tree."];
const docs = (n: number, k: number) => Array.from({ length: n }, (_, i) => ({ text: `${sentences[(i + k) % 4]} ${sentences[(i + k + 1) % 4]}` }));

stageContract({
  stage: "pretrain",
  create: () => createStage({ threads: 1 }),
  fixture: async (dir) => ({
    data: [await writeJsonl(dir, "general.train.jsonl", docs(40, 0)), await writeJsonl(dir, "general.val.jsonl", docs(8, 1))],
    config: {
      model: { nLayer: 1, nHead: 2, nEmbd: 32, blockSize: 32 },
      train: { steps: 6, batchSize: 4, warmupSteps: 2, evalEvery: 3, snapshotEvery: 2 },
      evalBatches: 1,
      samples: { count: 1, promptChars: 8, maxTokens: 8 },
    },
    inputDir: null,
  }),
});

describe("presets", () => {
  // a preset's row is the defaults of a step naming it: every value must be one a recipe could set
  it.each(PRESET_NAMES)("%s: its row is within the stage's bounds", (preset) => {
    const row = presetDefaults(preset);
    expect(pretrainConfig({ name: "p", stage: "pretrain", config: row, data: [] })).toEqual(row);
  });
});
