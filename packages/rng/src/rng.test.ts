// The generator's sequence is pinned: parameter init, data order and the demo data all read it, so a
// change here would move every seeded result in the workspace.
import { describe, expect, it } from "vitest";
import { rng } from "./index.ts";

const take = (next: () => number, n: number): number[] => Array.from({ length: n }, () => next());

describe("rng (mulberry32)", () => {
  it("draws the pinned sequence for a seed, the same every time", () => {
    expect(take(rng(0), 3)).toEqual([0.26642920868471265, 0.0003297457005828619, 0.2232720274478197]);
    expect(take(rng(2026), 3)).toEqual([0.45540769933722913, 0.30849614599719644, 0.6611574492417276]);
    expect(take(rng(2026), 100)).toEqual(take(rng(2026), 100));
  });

  it("reads the seed as a uint32", () => {
    expect(take(rng(-7), 5)).toEqual(take(rng(2 ** 32 - 7), 5));
    expect(take(rng(2 ** 32 + 5), 5)).toEqual(take(rng(5), 5));
  });

  it("stays in [0, 1) with the mean and variance of a uniform", () => {
    const xs = take(rng(11), 50_000);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.01);
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(0.003);
  });
});
