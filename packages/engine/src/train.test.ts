// Train-step semantics: determinism, dropout as a function of (seed, step), gradient accumulation
// normalised over all unmasked tokens, exact resume from params + optimizer state, export.

import { rng } from "@baton/rng";
import { describe, expect, it } from "vitest";
import { compileTrainStep, memoryOptions } from "./compile.ts";
import { crossEntropy, dropout, linear } from "./composites.ts";
import { compileInference, exportOnnx } from "./infer.ts";
import { normal, zeros } from "./init.ts";
import { adamw, sgd } from "./optim.ts";
import type { TrainStepConfig } from "./plan.ts";
import { Program } from "./runner.ts";
import { Graph } from "./tensor.ts";

const I = 4;
const V = 5;

/** rows [N,I] -> logits [N,V] through a hidden layer with dropout p */
function net(N: number, p: number) {
  const g = new Graph();
  const x = g.input("x", [N, I]);
  const y = g.input("y", [N], "int64");
  const mask = g.input("mask", [N]);
  const h = dropout(
    linear(x, g.param("fc.weight", [I, 16], { init: normal(0.5) }), g.param("fc.bias", [16], { init: zeros() })).tanh(),
    p,
  );
  const logits = linear(h, g.param("head.weight", [16, V], { init: normal(0.5) }));
  return { g, logits, ce: crossEntropy(logits, y, { mask }) };
}

function data(N: number, seed: number, unmasked = N) {
  const r = rng(seed);
  return {
    x: Float32Array.from({ length: N * I }, () => r() * 2 - 1),
    y: BigInt64Array.from({ length: N }, () => BigInt(Math.floor(r() * V))),
    mask: Float32Array.from({ length: N }, (_, i) => (i < unmasked ? 1 : 0)),
  };
}

const base = (extra: Partial<TrainStepConfig> = {}) => ({
  optimizer: adamw({ weightDecay: 0.1 }),
  clipNorm: 1,
  seed: 9,
  threads: 2,
  ...extra,
});

async function losses(p: number, steps: number, extra: Partial<TrainStepConfig> = {}): Promise<number[]> {
  const { g, ce } = net(16, p);
  const step = await compileTrainStep({ graph: g, loss: ce, ...base(extra) });
  const out: number[] = [];
  for (let t = 1; t <= steps; t++) out.push((await step.run(data(16, 1), { lr: 3e-2, step: t })).loss);
  await step.dispose();
  return out;
}

describe("train step", () => {
  it("is bit-identical run after run (same seed, 2 threads, with dropout)", async () => {
    const a = await losses(0.3, 8);
    const b = await losses(0.3, 8);
    expect(b).toEqual(a);
    expect(a[7]).toBeLessThan(a[0] as number);
  });

  it("gives the same losses without onnxruntime's memory arena and pattern (the lean setting of big steps)", async () => {
    expect(await losses(0.3, 4, { memoryArena: false, memoryPattern: false })).toEqual(await losses(0.3, 4));
    expect(memoryOptions({}, 10 * 2 ** 20)).toEqual({ memoryArena: true, memoryPattern: true });
    expect(memoryOptions({}, 2 ** 30)).toEqual({ memoryArena: false, memoryPattern: false });
    expect(memoryOptions({ memoryArena: true }, 2 ** 30)).toEqual({ memoryArena: true, memoryPattern: false });
  });

  it("trains with SGD and momentum, keeping the momentum buffer as optimizer state", async () => {
    const { g, ce } = net(16, 0);
    const step = await compileTrainStep({ graph: g, loss: ce, ...base({ optimizer: sgd({ momentum: 0.9 }) }) });
    const d = data(16, 3);
    const ls: number[] = [];
    for (let t = 1; t <= 80; t++) ls.push((await step.run(d, { lr: 0.2, step: t })).loss);
    expect(ls[79]).toBeLessThan((ls[0] as number) * 0.5);
    expect([...step.optimizerState().keys()]).toContain("sgd.momentum.fc.weight");
  });

  it("decays exactly the decayed parameters, by 1 - lr wd (decoupled), across the padded layout", async () => {
    for (const optimizer of [sgd({ weightDecay: 0.5 }), adamw({ weightDecay: 0.5 })]) {
      const g = new Graph();
      const w = g.param("w", [3, 5], { init: normal(1) }); // decayed (rank 2)
      const b = g.param("b", [7], { init: normal(1) }); // not decayed (rank 1)
      const w2 = g.param("w2", [70, 2], { init: normal(1) }); // decayed, spans a padding boundary
      const loss = w.sum().add(b.sum()).add(w2.sum()).mul(0); // zero gradients: only decay moves
      const step = await compileTrainStep({ graph: g, loss, optimizer, seed: 2, threads: 1 });
      const before = step.params();
      await step.run({}, { lr: 0.1, step: 1 });
      const after = step.params();
      for (const [name, factor] of [
        ["w", 0.95],
        ["w2", 0.95],
        ["b", 1],
      ] as const) {
        const a = after.get(name) as Float32Array;
        (before.get(name) as Float32Array).forEach((v, i) => expect(a[i]).toBeCloseTo(v * factor, 6));
      }
      expect(step.layout.decayed % 64).toBe(0);
    }
  });

  it("draws dropout masks from (seed, step): steps differ, and the same step repeats", async () => {
    const { g, ce } = net(16, 0.5);
    const mk = () => compileTrainStep({ graph: g, loss: ce, ...base({ optimizer: sgd() }) });
    const [s1, s2] = [await mk(), await mk()];
    const d = data(16, 1);
    const a1 = await s1.run(d, { lr: 0, step: 1 });
    const a2 = await s1.run(d, { lr: 0, step: 2 });
    const b1 = await s2.run(d, { lr: 0, step: 1 });
    expect(a2.loss).not.toEqual(a1.loss); // lr 0: only the mask changed
    expect(b1.loss).toEqual(a1.loss); // a fresh session at step 1 sees the same mask
  });

  it("accumulates micro-batches normalised by the unmasked tokens of the whole batch", async () => {
    const d1 = data(4, 1, 3);
    const d2 = data(4, 2, 1);
    const whole = {
      x: Float32Array.from([...d1.x, ...d2.x]),
      y: BigInt64Array.from([...d1.y, ...d2.y]),
      mask: Float32Array.from([...d1.mask, ...d2.mask]),
    };
    const full = net(8, 0);
    const one = await compileTrainStep({ graph: full.g, loss: full.ce, ...base() });
    const micro = net(4, 0);
    const acc = await compileTrainStep({ graph: micro.g, loss: micro.ce, ...base({ accumSteps: 2 }) });
    const r1 = await one.run(whole, { lr: 1e-2, step: 1 });
    const r2 = await acc.run([d1, d2], { lr: 1e-2, step: 1 });
    expect(r2.loss).toBeCloseTo(r1.loss, 5);
    expect(r2.gradNorm).toBeCloseTo(r1.gradNorm, 5);
    const p1 = one.params().get("fc.weight") as Float32Array;
    const p2 = acc.params().get("fc.weight") as Float32Array;
    p1.forEach((v, i) => expect(p2[i]).toBeCloseTo(v, 5));
  });

  it("resumes exactly from saved parameters and optimizer state", async () => {
    const { g, ce } = net(16, 0.2);
    const run = async (
      from: number,
      to: number,
      state?: { p: Map<string, Float32Array>; o: Map<string, Float32Array> },
    ) => {
      const s = await compileTrainStep({ graph: g, loss: ce, ...base() });
      if (state) {
        s.loadParams(state.p);
        s.loadOptimizerState(state.o);
      }
      const ls: number[] = [];
      for (let t = from; t <= to; t++) ls.push((await s.run(data(16, t), { lr: 1e-2, step: t })).loss);
      return { ls, p: s.params(), o: s.optimizerState() };
    };
    const straight = await run(1, 6);
    const first = await run(1, 3);
    const rest = await run(4, 6, first);
    expect([...first.ls, ...rest.ls]).toEqual(straight.ls);
    expect(rest.p.get("head.weight")).toEqual(straight.p.get("head.weight"));
    expect([...straight.o.keys()].sort()).toEqual([
      "adam.m.fc.bias",
      "adam.m.fc.weight",
      "adam.m.head.weight",
      "adam.v.fc.bias",
      "adam.v.fc.weight",
      "adam.v.head.weight",
    ]);
  });

  it("exports a plain ONNX model that gives the same logits as the inference program", async () => {
    const { g, logits } = net(3, 0);
    const prog = await compileInference({ graph: g, outputs: { logits }, seed: 4, threads: 1 });
    const x = data(3, 5).x;
    const want = (await prog.run({ x })).logits as Float32Array;
    const bytes = exportOnnx({ graph: g, outputs: { logits }, params: prog.params() });
    const served = await Program.open(bytes, { threads: 1 });
    expect(served.inputNames).toEqual(["x"]);
    const got = (await served.run({ x: Program.tensor({ data: x, dims: [3, I] }) }, { logits: null }))
      .logits as Float32Array;
    expect(Array.from(got)).toEqual(Array.from(want));
  });
});
