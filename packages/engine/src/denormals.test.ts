// Sessions flush denormal floats to zero (SessionConfig.denormalAsZero, on by default): products
// below the smallest normal float come out 0, and the causal softmax, whose masked keys' exponentials
// (~1e-45) are denormals before it normalises, gives exactly 0 to every masked key and sums to 1.
import { describe, expect, it } from "vitest";
import { compileInference } from "./infer.ts";
import { Graph } from "./tensor.ts";

describe("denormals", () => {
  it("are flushed to zero: masked softmax entries are exactly 0, tiny products are 0", async () => {
    const g = new Graph();
    const x = g.input("x", [4, 64]);
    const y = g.input("y", [2]);
    const prog = await compileInference({ graph: g, outputs: { p: x.softmax(-1), tiny: y.mul(y) }, threads: 1 });
    // causal rows: row r sees keys 0..r*16, the rest carry the engine's -1e9 mask
    const rows = Float32Array.from({ length: 4 * 64 }, (_, i) =>
      i % 64 > Math.floor(i / 64) * 16 ? -1e9 : Math.sin(i),
    );
    const out = await prog.run({ x: rows, y: Float32Array.of(1e-20, 3e-20) });
    const p = out.p as Float32Array;
    const masked = [...p].filter((_, i) => rows[i] === -1e9);
    expect(masked.length).toBe(64 * 4 - (1 + 17 + 33 + 49));
    expect(masked.every((v) => v === 0)).toBe(true);
    for (let r = 0; r < 4; r++) expect(p.subarray(r * 64, r * 64 + 64).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect([...(out.tiny as Float32Array)]).toEqual([0, 0]); // 1e-40 and 9e-40 are below 1.18e-38
    await prog.dispose();
  });
});
