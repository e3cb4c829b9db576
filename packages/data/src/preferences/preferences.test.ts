import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { demoAnswer, isCorrect, rankResponses } from "../demo/rater.ts";
import { collectDataset } from "../read/reader.ts";
import { rankedGroup, rankedPairs } from "./pairs.ts";

const file = async (name: string, lines: unknown[]): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), "baton-prefs-"));
  const path = join(dir, name);
  await writeFile(path, `${lines.map((l) => (typeof l === "string" ? l : JSON.stringify(l))).join("\n")}\n`);
  return path;
};

describe("ranked pairs", () => {
  it("gives all C(K,2) pairs of a ranking, better first", () => {
    expect(rankedPairs([2, 0, 1])).toEqual([
      [2, 0],
      [2, 1],
      [0, 1],
    ]);
    expect(rankedPairs([3, 1, 0, 2])).toHaveLength(6);
  });

  it("gives no pair between tied responses", () => {
    // positions 1 and 2 tied: responses 0 and 1 share second place
    expect(rankedPairs([2, 0, 1, 3], [2])).toEqual([
      [2, 0],
      [2, 1],
      [2, 3],
      [0, 3],
      [1, 3],
    ]);
    expect(rankedPairs([0, 1], [1])).toEqual([]);
  });

  it("reads a preference pair as the ranking of two", async () => {
    const { records } = await collectDataset(await file("p.jsonl", [{ prompt: "p", chosen: "a", rejected: "b" }]), {
      format: "preference",
    });
    expect(rankedGroup(records[0]!)).toMatchObject({ responses: ["a", "b"], pairs: [[0, 1]] });
  });

  it("keeps ties, the rater and the ranked checkpoint of a ranking", async () => {
    const path = await file("r.jsonl", [
      {
        prompt: "p",
        responses: ["a", "b", "c"],
        ranking: [1, 0, 2],
        ties: [2],
        rater: "ann",
        checkpoint: "s3://b/checkpoints/r/3-instruct/x/",
      },
    ]);
    const { records } = await collectDataset(path, { format: "ranking" });
    expect(rankedGroup(records[0]!)).toMatchObject({
      pairs: [
        [1, 0],
        [1, 2],
      ],
      rater: "ann",
      checkpoint: "s3://b/checkpoints/r/3-instruct/x/",
      where: "r.jsonl:1",
    });
  });
});

describe("bad rankings", () => {
  const bad: Array<[string, unknown, RegExp]> = [
    [
      "not a permutation",
      { prompt: "p", responses: ["a", "b", "c"], ranking: [0, 0, 1] },
      /r\.jsonl:1: \/ranking must be a permutation of 0\.\.2/,
    ],
    ["K = 1", { prompt: "p", responses: ["a"], ranking: [0] }, /r\.jsonl:1: \/responses needs at least 2 items/],
    [
      "K = 10",
      { prompt: "p", responses: [..."abcdefghij"], ranking: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] },
      /r\.jsonl:1: \/responses has more than 9 items/,
    ],
    [
      "an empty response",
      { prompt: "p", responses: ["a", " "], ranking: [0, 1] },
      /r\.jsonl:1: \/responses\/1 is empty/,
    ],
    [
      "a tie outside the ranking",
      { prompt: "p", responses: ["a", "b"], ranking: [0, 1], ties: [2] },
      /r\.jsonl:1: \/ties names position 2/,
    ],
  ];
  for (const [what, record, message] of bad) {
    it(`refuses ${what} with file:line, and skips it under policy skip`, async () => {
      const path = await file("r.jsonl", [record, { prompt: "p", responses: ["a", "b"], ranking: [1, 0] }]);
      await expect(collectDataset(path, { format: "ranking" })).rejects.toThrow(message);
      const skipped = await collectDataset(path, { format: "ranking", policy: "skip" });
      expect(skipped.records).toHaveLength(1);
      expect(skipped.report.skipped).toBe(1);
      expect(skipped.report.errors[0]).toMatch(message);
    });
  }
});

describe("the demo's rule rater", () => {
  it("knows the answer to every demo instruction form, and none to other text", () => {
    expect(demoAnswer("what is the plural of fox?")).toEqual({ task: "plural", answer: "foxes" });
    expect(demoAnswer("ok, last letter of brim:")).toEqual({ task: "last-letter", answer: "m" });
    expect(demoAnswer("give the first letter of this word.\n\nzebra")).toEqual({ task: "first-letter", answer: "z" });
    expect(demoAnswer("tell me a story")).toBeNull();
    expect(isCorrect("say cat twice.", " cat cat")).toBe(true);
  });

  it("ranks right before wrong, then EOS before cut off, then shorter, and ties equals", () => {
    const prompt = "what is the plural of box?";
    const responses = [
      { text: "boxs", endedWithEos: true }, // wrong, stops
      { text: "boxes", endedWithEos: false }, // right, cut off
      { text: "boxes", endedWithEos: true }, // right, stops: best
      { text: "boxs and more", endedWithEos: true }, // wrong, longer
      { text: "boxx", endedWithEos: true }, // wrong, same length as 0: tied with it
    ];
    expect(rankResponses(prompt, responses)).toEqual({ ranking: [2, 1, 0, 4, 3], ties: [3] });
    expect(() => rankResponses("tell me a story", responses)).toThrow(/only the demo's instructions/);
  });
});
