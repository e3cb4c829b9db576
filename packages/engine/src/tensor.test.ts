// Trace-level behaviour: constants, and the simplifications that keep graphs small.
import { describe, expect, it } from "vitest";
import { compileInference } from "./infer.ts";
import { Graph } from "./tensor.ts";

describe("tracing", () => {
  it("fills a shaped constant from a number (a scalar expanded, not a big initializer)", async () => {
    const g = new Graph();
    const c = g.const(0.5, [2, 3]);
    expect(c.op).toBe("expand");
    const prog = await compileInference({ graph: g, outputs: { c: c.add(g.input("x", [3])) }, threads: 1 });
    expect(Array.from((await prog.run({ x: Float32Array.of(1, 2, 3) })).c as Float32Array)).toEqual([
      1.5, 2.5, 3.5, 1.5, 2.5, 3.5,
    ]);
  });

  it("drops transposes that cancel and merges reshapes, but keeps other transpose pairs", () => {
    const g = new Graph();
    const x = g.input("x", [2, 3, 4, 5]);
    const t = x.transpose([0, 2, 1, 3]);
    expect(t.transpose([0, 2, 1, 3])).toBe(x);
    expect(t.mT().op).toBe("transpose");
    expect(t.mT().inputs[0]).toBe(t); // shared with the forward pass, fused into MatMul by onnxruntime
    const r = x.reshape([6, 20]).reshape([120]);
    expect(r.inputs[0]).toBe(x);
    expect(x.reshape([2, 3, 4, 5])).toBe(x);
  });
});
