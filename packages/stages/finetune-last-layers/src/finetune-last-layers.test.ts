import { join } from "node:path";
import { localContext, stageContract, taskFixture, tempDir } from "@baton/stage-contract";
import { loadModel } from "@baton/stage-lm";
import { describe, expect, it } from "vitest";
import { createStage, lastLayerWeights } from "./index.ts";

stageContract({ stage: "finetune", create: () => createStage({ threads: 1 }), fixture: taskFixture });

describe("finetune-last-layers", () => {
  it("changes only the last block and the final layer norm", async () => {
    const f = await taskFixture(await tempDir(), 2);
    const { ctx } = await localContext({
      step: { name: "finetune", stage: "finetune", config: f.config, data: f.data },
      inputDir: f.inputDir,
    });
    await createStage({ threads: 1 }).train(ctx);
    const before = await loadModel(f.inputDir as string, "input");
    const after = await loadModel(join(ctx.outputDir), "output");
    const L = before.config.nLayer;
    expect(L).toBe(2);
    for (const [name, w] of before.weights) {
      const moved = w.some((x, i) => x !== after.weights.get(name)?.[i]);
      if (!lastLayerWeights(name, L)) expect(moved, `${name} is frozen`).toBe(false);
    }
    expect(after.weights.get(`transformer.h.${L - 1}.mlp.c_fc.weight`)).not.toEqual(
      before.weights.get(`transformer.h.${L - 1}.mlp.c_fc.weight`),
    );
  });
});
