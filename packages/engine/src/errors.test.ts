// Bad use gives clear errors naming the op and the shapes (or the feed and what it expected).
import { describe, expect, it } from "vitest";
import { compileTrainStep } from "./compile.ts";
import { dropout } from "./composites.ts";
import { compileInference } from "./infer.ts";
import { normal } from "./init.ts";
import { adamw } from "./optim.ts";
import { concat, Graph } from "./tensor.ts";

describe("bad use", () => {
  it("names the op and both shapes for a matmul mismatch", () => {
    const g = new Graph();
    const a = g.input("a", [8, 3]);
    const b = g.input("b", [4, 5]);
    expect(() => a.matmul(b)).toThrow("matmul: inner dims differ: a [8,3] @ b [4,5] (3 != 4)");
  });

  it("names the op and both shapes when broadcasting fails", () => {
    const g = new Graph();
    expect(() => g.input("a", [2, 3]).add(g.input("b", [4, 3]))).toThrow(
      /add: shapes do not broadcast: \[2,3\] vs \[4,3\]/,
    );
  });

  it("rejects a dtype mismatch and says how to fix it", () => {
    const g = new Graph();
    const x = g.input("x", [2, 3]);
    const i = g.input("i", [2, 3], "int64");
    expect(() => x.mul(i)).toThrow(/mul: dtype mismatch: float32 \[2,3\] vs int64 \[2,3\]; cast one side/);
  });

  it("rejects a tensor from another graph", () => {
    const g1 = new Graph();
    const g2 = new Graph();
    const a = g1.input("a", [2]);
    const b = g2.input("b", [2]);
    expect(() => a.add(b)).toThrow(/add: input %0:input float32\[2\] belongs to another Graph/);
  });

  it("rejects bad reshapes, slices, concats and gathers with their shapes", () => {
    const g = new Graph();
    const x = g.input("x", [2, 3]);
    expect(() => x.reshape([4, 2])).toThrow("reshape: cannot reshape [2,3] (6 elements) to [4,2]");
    expect(() => x.slice(1, 2, 5)).toThrow("slice: range [2, 5) is outside axis 1 (size 3) of [2,3]");
    expect(() => concat([x, g.input("y", [3, 3])], 1)).toThrow("concat: shapes differ off axis 1: [2,3] vs [3,3]");
    expect(() => x.gather(x)).toThrow("gather: indices must be int64 or int32, got float32 [2,3]");
    expect(() => x.transpose([0, 0])).toThrow("transpose: perm [0,0] is not a permutation of the axes of [2,3]");
  });

  it("rejects a feed of the wrong size, dtype or name, naming the feed and the expected shape", async () => {
    const g = new Graph();
    const x = g.input("x", [4, 3]);
    const w = g.param("w", [3, 2], { init: normal(1) });
    const prog = await compileInference({ graph: g, outputs: { y: x.matmul(w) }, threads: 1 });
    await expect(prog.run({ x: new Float32Array(10) })).rejects.toThrow(
      'inference: feed "x" has 10 values, expected float32 [4,3] = 12',
    );
    await expect(prog.run({ x: new Float64Array(12) })).rejects.toThrow(
      'inference: feed "x" must be float32 [4,3], got a Float64Array (float64)',
    );
    await expect(prog.run({ x: new Float32Array(12), z: new Float32Array(1) })).rejects.toThrow(
      'inference: unknown feed "z"; this program takes "x"',
    );
    await expect(prog.run({})).rejects.toThrow('inference: feed "x" (float32 [4,3]) is missing');
  });

  it("refuses an inference graph that still draws dropout masks", async () => {
    const g = new Graph();
    const x = g.input("x", [2, 3]);
    await expect(compileInference({ graph: g, outputs: { y: dropout(x, 0.1) }, threads: 1 })).rejects.toThrow(
      /compileInference: the outputs depend on random numbers \(dropout p > 0\?\)/,
    );
  });

  it("rejects loading parameters of the wrong shape, naming the parameter", async () => {
    const g = new Graph();
    const x = g.input("x", [4, 3]);
    const w = g.param("w", [3, 2], { init: normal(1) });
    const step = await compileTrainStep({ graph: g, loss: x.matmul(w).mean(), optimizer: adamw(), threads: 1 });
    expect(() => step.loadParams(new Map([["w", new Float32Array(5)]]))).toThrow(
      'load: parameter "w" has 5 values, the model wants [3,2] = 6',
    );
    expect(() => step.loadParams(new Map([["v", new Float32Array(6)]]))).toThrow(/load: unknown parameter\(s\) v/);
    await expect(step.run({ x: new Float32Array(12) }, { lr: 1, step: 0 })).rejects.toThrow(
      /step must be an integer >= 1/,
    );
  });
});
