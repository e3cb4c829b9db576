// In-graph random numbers: a pure function of the fed key, uniform enough for dropout masks, and
// (for [rows, cols] shapes, which share per-row and per-column tables) with no structure between
// rows or columns.
import { describe, expect, it } from "vitest";
import { dropout, dropoutUnscaled } from "./composites.ts";
import { compileInference } from "./infer.ts";
import { Graph } from "./tensor.ts";

const mean = (a: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] as number;
  return s / a.length;
};
/** Pearson correlation of a[i] with a[j] over the given index pairs. */
function correlation(a: Float32Array, pairs: [number, number][]): number {
  const m = mean(a);
  const v = mean(Array.from(a, (x) => (x - m) ** 2));
  let c = 0;
  for (const [i, j] of pairs) c += ((a[i] as number) - m) * ((a[j] as number) - m);
  return c / pairs.length / v;
}

function expectUniform(a: Float32Array): void {
  const n = a.length;
  const m = mean(a);
  const variance = mean(Array.from(a, (v) => (v - m) ** 2));
  expect(Math.min(...a)).toBeGreaterThanOrEqual(0);
  expect(Math.max(...a)).toBeLessThan(1);
  expect(Math.abs(m - 0.5)).toBeLessThan(0.01);
  expect(Math.abs(variance - 1 / 12)).toBeLessThan(0.003);
  const deciles = new Array<number>(10).fill(0);
  for (const v of a) deciles[Math.floor(v * 10)]! += 1;
  for (const d of deciles) expect(Math.abs(d - n / 10)).toBeLessThan((n / 100) * 1.5);
}

describe("random", () => {
  it("is uniform on [0, 1), uncorrelated between neighbours, and repeats for the same seed", async () => {
    const n = 20_000;
    const g = new Graph();
    const u = g.random([n]);
    const prog = await compileInference({ graph: g, outputs: { u }, threads: 1, randomSeed: 5 });
    const a = (await prog.run({})).u as Float32Array;
    const b = (await prog.run({})).u as Float32Array;
    expect(Array.from(b)).toEqual(Array.from(a));
    expectUniform(a);
    expect(
      Math.abs(
        correlation(
          a,
          Array.from({ length: n - 1 }, (_, i) => [i, i + 1]),
        ),
      ),
    ).toBeLessThan(0.03); // lag 1
  });

  it("has no structure between rows or columns of a [rows, cols] tensor, and differs per node and seed", async () => {
    const [R, C] = [300, 64];
    const g = new Graph();
    const u = g.random([R, C]);
    const w = g.random([R, C]);
    const draw = async (seed: number) => {
      const prog = await compileInference({ graph: g, outputs: { u, w }, threads: 1, randomSeed: seed });
      return (await prog.run({})) as { u: Float32Array; w: Float32Array };
    };
    const { u: a, w: b } = await draw(1);
    const { u: c } = await draw(2);
    expectUniform(a);
    const pairs = (f: (r: number, c: number) => [number, number] | null) => {
      const out: [number, number][] = [];
      for (let r = 0; r < R; r++)
        for (let k = 0; k < C; k++) {
          const p = f(r, k);
          if (p) out.push(p);
        }
      return out;
    };
    const next = (r: number, k: number): [number, number] | null => (k + 1 < C ? [r * C + k, r * C + k + 1] : null);
    const below = (r: number, k: number): [number, number] | null => (r + 1 < R ? [r * C + k, (r + 1) * C + k] : null);
    expect(Math.abs(correlation(a, pairs(next)))).toBeLessThan(0.03); // along a row
    expect(Math.abs(correlation(a, pairs(below)))).toBeLessThan(0.03); // down a column
    // no two rows near-copies of each other (rows sharing a table XORed with close words would be):
    // per pair of rows, the share of columns within 1/64 of each other is ~3%; the worst of 44,850 pairs stays low
    let worst = 0;
    for (let r = 0; r < R; r++)
      for (let q = r + 1; q < R; q++) {
        let close = 0;
        for (let k = 0; k < C; k++) if (Math.abs((a[r * C + k] as number) - (a[q * C + k] as number)) < 1 / 64) close++;
        worst = Math.max(worst, close / C);
      }
    expect(worst).toBeLessThan(0.3);
    const agree = (x: Float32Array, y: Float32Array) => x.filter((v, i) => v === y[i]).length;
    expect(agree(a, b)).toBeLessThan(5); // another node of the same run
    expect(agree(a, c)).toBeLessThan(5); // the same node, another seed
  });

  it("draws Bernoulli masks at the asked rate, independent between neighbours", async () => {
    const g = new Graph();
    const shape = [50, 400];
    const m = g.bernoulli(shape, 0.9);
    const prog = await compileInference({ graph: g, outputs: { m }, threads: 1, randomSeed: 3 });
    const keep = Float32Array.from((await prog.run({})).m as Uint8Array);
    const n = keep.length;
    expect(Math.abs(mean(keep) - 0.9)).toBeLessThan(0.01); // sd of the mean is 0.002
    expect(
      Math.abs(
        correlation(
          keep,
          Array.from({ length: n - 1 }, (_, i) => [i, i + 1]),
        ),
      ),
    ).toBeLessThan(0.03);
    expect(
      Math.abs(
        correlation(
          keep,
          Array.from({ length: n - 400 }, (_, i) => [i, i + 400]),
        ),
      ),
    ).toBeLessThan(0.03);
    expect(() => g.bernoulli([2], 1.5)).toThrow(/bernoulli: p must be in \[0, 1\], got 1.5/);
  });

  it("dropout keeps 1-p of the values scaled by 1/(1-p); dropoutUnscaled draws the same mask without the scale", async () => {
    const n = 20_000;
    const run = async (f: (x: ReturnType<Graph["input"]>) => ReturnType<Graph["input"]>) => {
      const g = new Graph();
      const x = g.input("x", [n], "float32");
      const prog = await compileInference({ graph: g, outputs: { y: f(x) }, threads: 1, randomSeed: 11 });
      return (await prog.run({ x: new Float32Array(n).fill(2) })).y as Float32Array;
    };
    const scaled = await run((x) => dropout(x, 0.2));
    const unscaled = await run((x) => dropoutUnscaled(x, 0.2));
    expect(new Set(scaled)).toEqual(new Set([0, 2 / 0.8]));
    expect(Math.abs(mean(Array.from(scaled, (v) => (v > 0 ? 1 : 0))) - 0.8)).toBeLessThan(0.01);
    expect(Array.from(unscaled, (v) => v / 0.8)).toEqual(Array.from(scaled));
  });
});
