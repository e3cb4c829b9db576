import { join } from "node:path";
import { localContext, stageContract, taskFixture, tempDir, tinyCheckpoint, writeJsonl } from "@baton/stage-contract";
import { readStageReport } from "@baton/stage-lm";
import { describe, expect, it } from "vitest";
import { createStage } from "./index.ts";

stageContract({ stage: "finetune", create: () => createStage({ threads: 1 }), fixture: taskFixture });

const pair = (i: number) => ({
  prompt: `rev ${["cat", "dog", "sun"][i % 3]}:`,
  completion: ` ${["tac", "god", "nus"][i % 3]}`,
});

describe("finetune under policy skip", () => {
  it("reports as skipped exactly the records it left out, each against its own dataset", async () => {
    const dir = await tempDir();
    // the block is 48 tokens: a 60-character prompt is a good record that cannot be trained on
    const tooLong = { prompt: "x".repeat(60), completion: " y" };
    const train = await writeJsonl(dir, "task.train.jsonl", [
      ...Array.from({ length: 20 }, (_, i) => pair(i)),
      "{not json", // 1: bad JSON
      { prompt: 3, completion: "x" }, // 2: not a prompt/completion record
      { prompt: "p", completion: "c".repeat(300) }, // 3: over maxChars
      tooLong, // 4: over the block
      "[1, 2", // 5: bad JSON
      tooLong, // 6: over the block
    ]);
    const test = await writeJsonl(dir, "task.test.jsonl", [pair(0), pair(1), tooLong, "}", pair(2)]); // 2 left out
    const step = {
      name: "finetune",
      stage: "finetune",
      config: {
        policy: "skip",
        maxChars: 200,
        train: { steps: 2, batchSize: 4, warmupSteps: 1, evalEvery: 2, snapshotEvery: 0 },
        eval: { maxExamples: 2, maxTokens: 4, samples: 1 },
      },
      data: [train, test],
    };
    const { ctx } = await localContext({ step, inputDir: await tinyCheckpoint(join(dir, "input")) });
    const result = await createStage({ threads: 1 }).train(ctx);

    const report = await readStageReport(ctx.outputDir);
    const counts = report?.datasets.map((d) => ({
      file: d.uri.slice(d.uri.lastIndexOf("/") + 1),
      records: d.records,
      skipped: d.skipped,
    }));
    expect(counts).toEqual([
      { file: "task.train.jsonl", records: 20, skipped: 6 },
      { file: "task.test.jsonl", records: 3, skipped: 2 },
    ]);
    expect(report?.datasets[0]?.errors).toEqual([
      expect.stringMatching(/task\.train\.jsonl:21: bad JSON/),
      expect.stringMatching(/task\.train\.jsonl:22: /),
      expect.stringMatching(/task\.train\.jsonl:23: record is \d+ chars, over maxChars 200/),
      expect.stringMatching(/task\.train\.jsonl:25: bad JSON/),
      expect.stringMatching(/task\.train\.jsonl:24: example is \d+ tokens, over blockSize \+ 1 = 49/),
      expect.stringMatching(/task\.train\.jsonl:26: example is \d+ tokens, over blockSize \+ 1 = 49/),
    ]);
    expect(result.metrics?.skipped_records).toBe(8);
  });
});
