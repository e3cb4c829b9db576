import { describe, expect, it } from "vitest";
import { agreement, levels } from "./agreement.ts";

const r = (ranking: number[], ties: number[] = []) => ({
  prompt: "p",
  responses: ranking.map(String),
  ranking,
  ties,
  rater: "x",
  checkpoint: "file:///c/",
});

describe("agreement between raters", () => {
  it("levels: tied responses share the level of the one above", () => {
    expect(levels(r([2, 0, 1]))).toEqual([1, 2, 0]);
    expect(levels(r([2, 0, 1], [1]))).toEqual([0, 2, 0]);
  });

  it("the same order agrees fully, the reverse not at all, and a prompt ranked once is left out", () => {
    expect(agreement(new Map([[0, [r([0, 1, 2]), r([0, 1, 2])]]]))).toEqual({
      prompts: 1,
      comparisons: 1,
      pairwise: 1,
      kendallTau: 1,
    });
    expect(agreement(new Map([[0, [r([0, 1, 2]), r([2, 1, 0])]]]))).toEqual({
      prompts: 1,
      comparisons: 1,
      pairwise: 0,
      kendallTau: -1,
    });
    const alone = agreement(new Map([[0, [r([0, 1])]]]));
    expect(alone.prompts).toBe(0);
    expect(alone.pairwise).toBeNaN();
  });

  it("one swapped pair of three: 2 of 3 pairs agree, tau = (2 - 1) / 3; a tie counts in tau-b but not in pairwise agreement", () => {
    const a = agreement(new Map([[0, [r([0, 1, 2]), r([1, 0, 2])]]]));
    expect(a.pairwise).toBeCloseTo(2 / 3, 12);
    expect(a.kendallTau).toBeCloseTo(1 / 3, 12);
    // rater 2 ties 0 and 1: pairs (0,2) and (1,2) agree, (0,1) is not strict for both
    const t = agreement(new Map([[0, [r([0, 1, 2]), r([0, 1, 2], [1])]]]));
    expect(t.pairwise).toBe(1);
    expect(t.kendallTau).toBeCloseTo(2 / Math.sqrt(3 * 2), 12);
  });

  it("averages over every rater pair of every prompt", () => {
    const a = agreement(
      new Map([
        [0, [r([0, 1]), r([0, 1]), r([1, 0])]],
        [1, [r([0, 1]), r([0, 1])]],
      ]),
    );
    expect(a).toMatchObject({ prompts: 2, comparisons: 4 });
    expect(a.pairwise).toBeCloseTo(2 / 4, 12);
    expect(a.kendallTau).toBeCloseTo((1 - 1 - 1 + 1) / 4, 12);
  });
});
