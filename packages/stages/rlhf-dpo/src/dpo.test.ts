import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { localContext, stageContract, tempDir, tinyCheckpoint, writeJsonl } from "@baton/stage-contract";
import { isBatonError } from "@baton/stage-kit";
import { readStageReport } from "@baton/stage-lm";
import { createStage } from "./index.ts";

const WORDS = ["cat", "sun", "map", "red", "box", "pen"];
const rev = (w: string) => [...w].reverse().join("");
const pairs = (n: number, from: number) => Array.from({ length: n }, (_, i) => {
  const w = WORDS[(from + i) % WORDS.length] as string;
  return { prompt: `rev ${w}`, chosen: rev(w), rejected: w };
});
const asks = (n: number, from: number) => Array.from({ length: n }, (_, i) => {
  const w = WORDS[(from + i) % WORDS.length] as string;
  return { instruction: `rev ${w}`, input: "", output: rev(w) };
});

async function fixture(dir: string) {
  return {
    data: [await writeJsonl(dir, "prefs.train.jsonl", pairs(24, 0)), await writeJsonl(dir, "prefs.test.jsonl", pairs(6, 2)), await writeJsonl(dir, "asks.test.jsonl", asks(3, 1))],
    config: { train: { steps: 6, batchSize: 2, warmupSteps: 2, evalEvery: 3, snapshotEvery: 2 }, eval: { maxPairs: 6, maxPrompts: 2, maxTokens: 6, samples: 1 } },
    inputDir: await tinyCheckpoint(join(dir, "input")),
  };
}

stageContract({ stage: "rlhf", create: () => createStage({ threads: 1 }), fixture });

describe("rlhf-dpo", () => {
  it("moves probability from rejected to chosen answers on held-out pairs", async () => {
    const f = await fixture(await tempDir());
    const step = { name: "rlhf", stage: "rlhf", config: { ...f.config, train: { steps: 40, batchSize: 4, warmupSteps: 4, evalEvery: 20, snapshotEvery: 0 }, optim: { lr: 3e-3 }, beta: 0.5 }, data: f.data };
    const { ctx } = await localContext({ step, inputDir: f.inputDir });
    const r = await createStage({ threads: 1 }).train(ctx);
    expect(r.metrics?.["rewards/accuracies"]).toBeGreaterThanOrEqual(0.9);
    expect(r.metrics?.["rewards/margins"]).toBeGreaterThan(0);
    expect((r.metrics?.["rewards/chosen"] as number) - (r.metrics?.["rewards/rejected"] as number)).toBeCloseTo(r.metrics?.["rewards/margins"] as number, 5);
    expect(r.inputs).toEqual([]); // the input checkpoint was the policy
    expect((await readStageReport(ctx.outputDir))?.evals.length).toBeGreaterThan(0);
  });

  it("starts from the earlier step named by policyStep and records it as the policy input", async () => {
    const dir = await tempDir();
    const f = await fixture(dir);
    const other = await tinyCheckpoint(join(dir, "other"), { seed: 9 });
    const { ctx } = await localContext({ step: { name: "rlhf", stage: "rlhf", config: { ...f.config, policyStep: "instruct" }, data: f.data }, inputDir: other, earlier: { instruct: f.inputDir } });
    const r = await createStage({ threads: 1 }).train(ctx);
    expect(r.inputs?.map((i) => i.role)).toEqual(["policy"]);
    expect(r.inputs?.[0]?.checkpoint.uri).toContain(f.inputDir);
  });

  it("refuses a policyStep that is not an earlier step, naming the config path", async () => {
    const f = await fixture(await tempDir());
    const { ctx, progress } = await localContext({ step: { name: "rlhf", stage: "rlhf", config: { ...f.config, policyStep: "instrukt" }, data: f.data }, inputDir: f.inputDir, earlier: { instruct: f.inputDir } });
    const err = await createStage({ threads: 1 }).train(ctx).then(() => null, (e: unknown) => e);
    expect(isBatonError(err) && err.code).toBe("CONFIG_INVALID");
    expect(String((err as Error).message)).toMatch(/\/config\/policyStep: step "instrukt" is not an earlier step .*earlier steps: instruct/);
    expect(progress).toEqual([]);
  });
});
