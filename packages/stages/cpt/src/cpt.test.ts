import { join } from "node:path";
import { stageContract, tinyCheckpoint, writeJsonl } from "@baton/stage-contract";
import { describe, expect, it } from "vitest";
import { createStage, isReplayRow } from "./index.ts";

const general = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ text: `the cat sat on the mat ${i % 5}. the dog ran home.` }));
const domain = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ text: `lanterns glow under star chart ${i % 7}; the wick burns blue.` }));

stageContract({
  stage: "cpt",
  create: () => createStage({ threads: 1 }),
  fixture: async (dir) => ({
    data: [
      await writeJsonl(dir, "domain.train.jsonl", domain(30)),
      await writeJsonl(dir, "domain.val.jsonl", domain(6)),
      await writeJsonl(dir, "general.train.jsonl", general(30)),
      await writeJsonl(dir, "general.val.jsonl", general(6)),
    ],
    config: {
      train: { steps: 6, batchSize: 4, warmupSteps: 2, evalEvery: 3, snapshotEvery: 2 },
      evalBatches: 1,
      samples: { count: 1, promptChars: 8, maxTokens: 8 },
    },
    inputDir: await tinyCheckpoint(join(dir, "input")),
  }),
});

describe("cpt replay", () => {
  it("replays the configured share of rows, spread over steps", () => {
    let replayed = 0;
    for (let t = 1; t <= 100; t++) for (let r = 0; r < 16; r++) replayed += isReplayRow(t, r, 16, 0.25) ? 1 : 0;
    expect(replayed / 1600).toBeCloseTo(0.25, 2);
    expect(Array.from({ length: 16 }, (_, r) => isReplayRow(1, r, 16, 0)).some(Boolean)).toBe(false);
  });
});
