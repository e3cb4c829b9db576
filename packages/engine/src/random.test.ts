// In-graph uniform numbers: a pure function of the fed seed, uniform enough for dropout masks.
import { describe, expect, it } from "vitest";
import { compileInference } from "./infer.ts";
import { Graph } from "./tensor.ts";

describe("random", () => {
  it("is uniform on [0, 1), uncorrelated between neighbours, and repeats for the same seed", async () => {
    const n = 20_000;
    const g = new Graph();
    const u = g.random([n]);
    const prog = await compileInference({ graph: g, outputs: { u }, threads: 1, randomSeed: 5 });
    const a = (await prog.run({})).u as Float32Array;
    const b = (await prog.run({})).u as Float32Array;
    expect(Array.from(b)).toEqual(Array.from(a));
    const mean = a.reduce((s, v) => s + v, 0) / n;
    const variance = a.reduce((s, v) => s + (v - mean) ** 2, 0) / n;
    expect(Math.min(...a)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...a)).toBeLessThan(1);
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.01);
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(0.003);
    let lag = 0;
    for (let i = 1; i < n; i++) lag += ((a[i] as number) - mean) * ((a[i - 1] as number) - mean);
    expect(Math.abs(lag / (n - 1) / variance)).toBeLessThan(0.03); // lag-1 autocorrelation
    const deciles = new Array<number>(10).fill(0);
    for (const v of a) deciles[Math.floor(v * 10)]! += 1;
    for (const d of deciles) expect(Math.abs(d - n / 10)).toBeLessThan(n / 100 * 1.5);
  });
});
