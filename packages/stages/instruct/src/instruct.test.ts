import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { DEFAULT_CHAT_TEMPLATE } from "@baton/data";
import { localContext, stageContract, tempDir, tinyCheckpoint, writeJsonl } from "@baton/stage-contract";
import { readStageReport } from "@baton/stage-lm";
import { describe, expect, it } from "vitest";
import { createStage } from "./index.ts";

const alpaca = (n: number, verb: string) =>
  Array.from({ length: n }, (_, i) => ({
    instruction: `${verb} ${["cat", "sun", "map"][i % 3]}`,
    input: "",
    output: ["tac", "nus", "pam"][i % 3],
  }));
const chat = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    messages: [
      { role: "user", content: `say ${i % 4}` },
      { role: "assistant", content: `${i % 4}` },
    ],
  }));

async function fixture(dir: string) {
  return {
    data: [
      await writeJsonl(dir, "instruct.train.jsonl", alpaca(12, "reverse")),
      await writeJsonl(dir, "chat.train.jsonl", chat(12)),
      await writeJsonl(dir, "instruct.test.jsonl", alpaca(3, "flip")),
    ],
    config: {
      train: { steps: 6, batchSize: 4, warmupSteps: 2, evalEvery: 3, snapshotEvery: 2 },
      eval: { maxExamples: 2, maxTokens: 6, samples: 1 },
    },
    inputDir: await tinyCheckpoint(join(dir, "input")),
  };
}

stageContract({ stage: "instruct", create: () => createStage({ threads: 1 }), fixture });

describe("instruct", () => {
  it("stores the chat template it trained with in tokenizer_config.json", async () => {
    const f = await fixture(await tempDir());
    const template = DEFAULT_CHAT_TEMPLATE.replace("<|end|>", "<|end|>\n");
    const { ctx } = await localContext({
      step: { name: "instruct", stage: "instruct", config: { ...f.config, chatTemplate: template }, data: f.data },
      inputDir: f.inputDir,
    });
    await createStage({ threads: 1 }).train(ctx);
    const saved = JSON.parse(await readFile(join(ctx.outputDir, "tokenizer_config.json"), "utf8")) as Record<
      string,
      unknown
    >;
    expect(saved.chat_template).toBe(template);
    expect(saved.eos_token).toBe("<|endoftext|>");
  });

  it("under policy skip, reports as skipped exactly the records it left out, those too long for the block too", async () => {
    const dir = await tempDir();
    const long = {
      messages: [
        { role: "user", content: "x".repeat(60) },
        { role: "assistant", content: "y" },
      ],
    }; // over the 48-token block
    const data = [
      await writeJsonl(dir, "instruct.train.jsonl", [
        ...alpaca(12, "reverse"),
        long,
        "{oops",
        { instruction: 7 },
        long,
      ]),
      await writeJsonl(dir, "instruct.test.jsonl", [...alpaca(3, "flip"), long]),
    ];
    const config = {
      train: { steps: 2, batchSize: 4, warmupSteps: 1, evalEvery: 2, snapshotEvery: 0 },
      eval: { maxExamples: 2, maxTokens: 4, samples: 1 },
      policy: "skip",
    };
    const { ctx } = await localContext({
      step: { name: "instruct", stage: "instruct", config, data },
      inputDir: await tinyCheckpoint(join(dir, "input")),
    });
    const result = await createStage({ threads: 1 }).train(ctx);
    const report = await readStageReport(ctx.outputDir);
    expect(report?.datasets.map((d) => [d.records, d.skipped])).toEqual([
      [12, 4],
      [3, 1],
    ]);
    expect(result.metrics?.skipped_records).toBe(5);
  });
});
