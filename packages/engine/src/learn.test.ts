// Tiny models learn: an MLP separates two 2-D classes; a one-layer transformer learns to reverse.

import { rng } from "@baton/rng";
import { describe, expect, it } from "vitest";
import { adamw, compileInference, compileTrainStep, Graph, nn, normal, zeros } from "./index.ts";

function mlp(g: Graph, x: ReturnType<Graph["input"]>, H: number) {
  const w1 = g.param("fc1.weight", [2, H], { init: normal(1) });
  const b1 = g.param("fc1.bias", [H], { init: zeros() });
  const w2 = g.param("fc2.weight", [H, 2], { init: normal(0.1) });
  const b2 = g.param("fc2.bias", [2], { init: zeros() });
  return nn.linear(nn.linear(x, w1, b1).tanh(), w2, b2); // [B,2]
}

/** Two interleaved half-moons-like classes: y = 1 iff x1 > sin(2 x0) (separable, but not linearly). */
function dataset(n: number, seed: number) {
  const r = rng(seed);
  const x = new Float32Array(n * 2);
  const y = new BigInt64Array(n);
  for (let i = 0; i < n; i++) {
    let a = 0;
    let b = 0;
    do {
      a = r() * 4 - 2;
      b = r() * 4 - 2;
    } while (Math.abs(b - Math.sin(2 * a)) < 0.15); // a margin keeps it separable
    x[2 * i] = a;
    x[2 * i + 1] = b;
    y[i] = b > Math.sin(2 * a) ? 1n : 0n;
  }
  return { x, y };
}

describe("learning", () => {
  it("an MLP reaches >= 99% accuracy on a separable 2-D set", async () => {
    const B = 256;
    const H = 32;
    const g = new Graph();
    const x = g.input("x", [B, 2]);
    const y = g.input("y", [B], "int64");
    const logits = mlp(g, x, H);
    const ce = nn.crossEntropy(logits, y);
    const step = await compileTrainStep({
      graph: g,
      loss: ce,
      optimizer: adamw({ weightDecay: 0 }),
      seed: 3,
      threads: 1,
    });
    const train = dataset(B, 1);
    let first = 0;
    let last = 0;
    for (let t = 1; t <= 600; t++) {
      const r = await step.run(train, { lr: 0.02, step: t });
      if (t === 1) first = r.loss;
      last = r.loss;
    }
    expect(last).toBeLessThan(first / 10);

    const gi = new Graph();
    const xi = gi.input("x", [B, 2]);
    const infer = await compileInference({ graph: gi, outputs: { logits: mlp(gi, xi, H) }, threads: 1 });
    infer.loadParams(step.params());
    const test = dataset(B, 2);
    const out = (await infer.run({ x: test.x })).logits as Float32Array;
    let right = 0;
    for (let i = 0; i < B; i++)
      right += Number((out[2 * i + 1] as number) > (out[2 * i] as number)) === Number(test.y[i]) ? 1 : 0;
    expect(right / B).toBeGreaterThanOrEqual(0.99);

    // the train step's own buffer, without a copy: the same logits, and a later step is seen at once
    infer.useParams(step.paramViews());
    expect((await infer.run({ x: test.x })).logits).toEqual(out);
    const before = infer.params();
    await step.run(train, { lr: 0.02, step: 601 });
    const moved = (await infer.run({ x: test.x })).logits as Float32Array;
    expect(moved).not.toEqual(out);
    expect(infer.params()).not.toEqual(before);
    // loadParams copies: the program keeps its weights while the step trains on
    infer.loadParams(step.params());
    await step.run(train, { lr: 0.02, step: 602 });
    expect((await infer.run({ x: test.x })).logits).toEqual(moved);
    expect(() => infer.useParams(new Map())).toThrow(/load: parameter ".*" \[.*\] is missing/);
  });
});
