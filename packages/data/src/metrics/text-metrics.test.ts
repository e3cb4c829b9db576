import { describe, expect, it } from "vitest";
import { exactMatch, meanScore, rougeL } from "./text-metrics.ts";

describe("task metrics", () => {
  it("exact match ignores surrounding and repeated whitespace, not case", () => {
    expect(exactMatch(" foxes", "foxes ")).toBe(1);
    expect(exactMatch("fox  es", "fox es")).toBe(1);
    expect(exactMatch("Foxes", "foxes")).toBe(0);
    expect(exactMatch("foxe", "foxes")).toBe(0);
  });

  it("ROUGE-L is the F1 of the longest common subsequence of words", () => {
    expect(rougeL("the cat sat on the mat", "the cat sat on the mat")).toBe(1);
    // LCS("the cat was on the mat", "the cat sat on the mat") = 5 of 6 both ways -> 5/6
    expect(rougeL("the cat was on the mat", "the cat sat on the mat")).toBeCloseTo(5 / 6, 10);
    // LCS = 2 ("a c"): precision 2/2, recall 2/4 -> F1 = 2/3
    expect(rougeL("a c", "a b c d")).toBeCloseTo(2 / 3, 10);
    expect(rougeL("x y", "a b")).toBe(0);
    expect(rougeL("", "")).toBe(1);
    expect(rougeL("", "a")).toBe(0);
  });

  it("averages over pairs", () => {
    expect(
      meanScore(
        [
          ["a", "a"],
          ["b", "c"],
        ],
        exactMatch,
      ),
    ).toBe(0.5);
    expect(meanScore([], exactMatch)).toBe(0);
  });
});
