import { getPreset, PRESET_NAMES, presetModel } from "@baton/model";
import { localContext, stageContract, tempDir, writeJsonl } from "@baton/stage-contract";
import { loadModel } from "@baton/stage-lm";
import { describe, expect, it } from "vitest";
import { createStage, presetDefaults, pretrainConfig } from "./index.ts";

const sentences = [
  "the cat sat on the mat.",
  "a dog ran to the red door.",
  "we saw the sun set over the hill.",
  "the bird sang in the old tree.",
];
const docs = (n: number, k: number) =>
  Array.from({ length: n }, (_, i) => ({ text: `${sentences[(i + k) % 4]} ${sentences[(i + k + 1) % 4]}` }));

stageContract({
  stage: "pretrain",
  create: () => createStage({ threads: 1 }),
  fixture: async (dir) => ({
    data: [
      await writeJsonl(dir, "general.train.jsonl", docs(40, 0)),
      await writeJsonl(dir, "general.val.jsonl", docs(8, 1)),
    ],
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

  it("a step with preset: tiny trains the preset's GPT, with gradient accumulation as the preset's train.accumSteps would", async () => {
    const dir = await tempDir();
    const data = [
      await writeJsonl(dir, "general.train.jsonl", docs(40, 0)),
      await writeJsonl(dir, "general.val.jsonl", docs(8, 1)),
    ];
    const trained = async (accumSteps: number) => {
      const config = {
        preset: "tiny",
        train: { steps: 2, warmupSteps: 1, evalEvery: 2, accumSteps },
        evalBatches: 1,
        samples: { count: 1, maxTokens: 4 },
      };
      const { ctx, progress } = await localContext({ step: { name: "pretrain", stage: "pretrain", config, data } });
      await createStage({ threads: 1 }).train(ctx);
      expect(progress.at(-1)).toMatchObject({ trainStep: 2, totalSteps: 2 });
      return loadModel(ctx.outputDir, "output");
    };
    const out = await trained(2);
    expect(out.config).toEqual(presetModel(getPreset("tiny"), out.tokenizer.vocabSize));
    expect(out.config).toMatchObject({ nLayer: 2, nHead: 2, nEmbd: 32, blockSize: 16 });
    // two micro-batches a step see other rows than one: the weights differ
    const single = await trained(1);
    expect(out.weights.get("transformer.wte.weight")).not.toEqual(single.weights.get("transformer.wte.weight"));
  });
});
