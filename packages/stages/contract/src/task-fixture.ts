// A prompt/completion task small enough for the contract suite: reverse a three-letter word.
import { join } from "node:path";
import type { ContractFixture } from "./contract.ts";
import { tinyCheckpoint, writeJsonl } from "./fixtures.ts";

const words = ["cat", "dog", "sun", "map", "red", "box", "hat", "pen", "cup", "key"];
const pairs = (from: number, n: number) =>
  Array.from({ length: n }, (_, i) => {
    const w = words[(from + i) % words.length] as string;
    return { prompt: `rev ${w}:`, completion: ` ${[...w].reverse().join("")}` };
  });

export async function taskFixture(dir: string, nLayer = 1): Promise<ContractFixture> {
  return {
    data: [
      await writeJsonl(dir, "task.train.jsonl", pairs(0, 24)),
      await writeJsonl(dir, "task.test.jsonl", pairs(3, 4)),
    ],
    config: {
      train: { steps: 6, batchSize: 4, warmupSteps: 2, evalEvery: 3, snapshotEvery: 2 },
      eval: { maxExamples: 2, maxTokens: 6, samples: 1 },
    },
    inputDir: await tinyCheckpoint(join(dir, "input"), { nLayer }),
  };
}
