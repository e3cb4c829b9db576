// The session wrapper: a preallocated output comes back as the caller's own buffer (onnxruntime-node
// returns a copy as well, which is dropped), and the collection that frees those copies works.
import { describe, expect, it } from "vitest";
import { ParamLayout } from "./layout.ts";
import { buildModel, flatParamEmitter } from "./plan.ts";
import { collectGarbage, Program } from "./runner.ts";
import { Graph } from "./tensor.ts";

describe("Program", () => {
  it("returns a preallocated output as the buffer it wrote into, and an allocated one as onnxruntime's", async () => {
    const g = new Graph();
    const x = g.input("x", [4]);
    const { model } = buildModel(flatParamEmitter(new ParamLayout(g), false), "t", { y: x.mul(2), z: x.add(1) });
    const program = await Program.open(model, { threads: 1 });
    const into = new Float32Array(4);
    const out = await program.run(
      { x: Program.tensor({ data: Float32Array.of(1, 2, 3, 4), dims: [4] }) },
      { y: Program.tensor({ data: into, dims: [4] }), z: null },
    );
    expect(out.y).toBe(into);
    expect([...into]).toEqual([2, 4, 6, 8]);
    expect([...(out.z as Float32Array)]).toEqual([2, 3, 4, 5]);
    await program.dispose();
  });

  it("collectGarbage frees a dropped ArrayBuffer at once", () => {
    const before = process.memoryUsage().arrayBuffers;
    let big: Float32Array | null = new Float32Array(2 ** 24).fill(1); // 64 MiB
    expect(process.memoryUsage().arrayBuffers - before).toBeGreaterThanOrEqual(2 ** 26);
    big = null;
    collectGarbage();
    expect(big).toBeNull();
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(2 ** 25);
  });
});
