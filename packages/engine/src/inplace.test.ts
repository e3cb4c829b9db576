// Writing the new weights and optimizer state over the old ones: the rule that allows it, and train
// steps that give the same losses and weights, bit for bit, with one buffer as with two; and the
// update of a large model in buckets, which trains as one update over the whole buffer does.

import { rng } from "@baton/rng";
import { describe, expect, it } from "vitest";
import { compileTrainStep } from "./compile.ts";
import { crossEntropy, dropout, layerNorm } from "./composites.ts";
import { normal, ones, zeros } from "./init.ts";
import { canWriteOver } from "./inplace.ts";
import { ParamLayout } from "./layout.ts";
import type { OnnxNode } from "./onnx/model.ts";
import { adamw, type Optimizer, sgd } from "./optim.ts";
import { updateBuckets } from "./plan.ts";
import { Graph } from "./tensor.ts";
import { type BlockWeights, block, blockShapes } from "./testing/block.ts";

const n = (op: string, inputs: string[], out: string): OnnxNode => ({ op, inputs, outputs: [out] });

describe("canWriteOver", () => {
  it("allows it when every reader of the memory is an ancestor of the writer, which reads it elementwise", () => {
    const nodes = [
      n("MatMul", ["param.w", "x"], "h"),
      n("Mul", ["h", "h"], "g"),
      n("Reshape", ["params", "shape"], "pr"),
      n("Mul", ["pr", "decay"], "pd"),
      n("Sub", ["pd", "g"], "params.next"),
    ];
    expect(canWriteOver(nodes, ["params", "param.w"], "params.next")).toBe(true);
    expect(canWriteOver([n("Mul", ["m", "b1"], "mb"), n("Add", ["mb", "g"], "m.next")], ["m"], "m.next")).toBe(true);
    expect(canWriteOver([n("Add", ["m", "g"], "m.next")], ["m"], "m.next")).toBe(true); // element i read, then written
  });

  it("refuses a reader that may run after the writer, also through an alias, and a writer that is not elementwise", () => {
    // "h" is a graph output of its own: nothing orders its MatMul before the Sub
    expect(
      canWriteOver(
        [n("MatMul", ["param.w", "x"], "h"), n("Sub", ["params", "g"], "params.next")],
        ["params", "param.w"],
        "params.next",
      ),
    ).toBe(false);
    expect(
      canWriteOver(
        [n("Reshape", ["params", "s"], "pr"), n("MatMul", ["pr", "x"], "h"), n("Sub", ["params", "g"], "params.next")],
        ["params"],
        "params.next",
      ),
    ).toBe(false);
    expect(canWriteOver([n("MatMul", ["m", "x"], "m.next")], ["m"], "m.next")).toBe(false);
    expect(canWriteOver([n("Identity", ["m"], "m.next")], ["m"], "m.next")).toBe(false);
    expect(canWriteOver([n("Add", ["a", "b"], "c")], ["m"], "m.next")).toBe(false); // no writer
  });
});

/** A one-block GPT-shaped model with dropout: tokens [B,T] -> next-token loss. */
function model(B: number, T: number, C: number, V: number) {
  const g = new Graph();
  const tokens = g.input("tokens", [B, T], "int64");
  const targets = g.input("targets", [B * T], "int64");
  const wte = g.param("wte", [V, C], { init: normal(0.1) });
  const w = Object.fromEntries(
    Object.entries(blockShapes(C)).map(([k, s]) => [
      k,
      g.param(k, s, { init: k.startsWith("ln") ? (k.endsWith("w") ? ones() : zeros()) : normal(0.1) }),
    ]),
  ) as unknown as BlockWeights;
  const x = block(g, dropout(wte.gather(tokens), 0.2), w, 2);
  const logits = layerNorm(x, g.param("lnf", [C], { init: ones() }), null)
    .reshape([B * T, C])
    .matmul(wte.mT());
  return { g, loss: crossEntropy(logits, targets) };
}

async function train(optimizer: Optimizer, inPlaceUpdates: boolean, accumSteps = 1, updateBucket?: number) {
  const [B, T, C, V] = [4, 8, 16, 11];
  const { g, loss } = model(B, T, C, V);
  const step = await compileTrainStep({
    graph: g,
    loss,
    optimizer,
    clipNorm: 0.5,
    seed: 3,
    threads: 2,
    accumSteps,
    inPlaceUpdates,
    ...(updateBucket && { updateBucket }),
  });
  const r = rng(5);
  const batch = () => ({
    tokens: BigInt64Array.from({ length: B * T }, () => BigInt(Math.floor(r() * V))),
    targets: BigInt64Array.from({ length: B * T }, () => BigInt(Math.floor(r() * V))),
  });
  const losses: number[] = [];
  for (let t = 1; t <= 6; t++)
    losses.push(
      (await step.run(accumSteps === 1 ? batch() : Array.from({ length: accumSteps }, batch), { lr: 2e-2, step: t }))
        .loss,
    );
  const out = { inPlace: step.inPlace, losses, params: step.params(), state: step.optimizerState() };
  await step.dispose();
  return out;
}

describe("train steps that write over their inputs", () => {
  for (const [name, opt, accum] of [
    ["AdamW", () => adamw({ weightDecay: 0.1 }), 1],
    ["AdamW, 3 micro-batches", () => adamw({ weightDecay: 0.1 }), 3],
    ["SGD with momentum", () => sgd({ momentum: 0.9, weightDecay: 0.01 }), 1],
  ] as const) {
    it(`${name}: one buffer each, and the same losses, weights and state as two buffers, bit for bit`, async () => {
      const one = await train(opt(), true, accum);
      const two = await train(opt(), false, accum);
      const expected = [
        "params.next",
        ...(name.startsWith("SGD") ? ["sgd.momentum.next"] : ["adam.m.next", "adam.v.next"]),
        ...(accum > 1 ? ["grad.acc.next"] : []),
      ];
      expect([...one.inPlace].sort()).toEqual(expected.sort());
      expect(two.inPlace).toEqual([]);
      expect(one.losses).toEqual(two.losses);
      expect(one.losses[5]).toBeLessThan(one.losses[0] as number);
      for (const [k, v] of two.params) expect(one.params.get(k), k).toEqual(v);
      for (const [k, v] of two.state) expect(one.state.get(k), k).toEqual(v);
    });
  }
});

describe("an optimizer update in buckets (a model larger than UPDATE_BUCKET)", () => {
  it("cuts the decayed prefix and the rest into ranges of at most the bucket size, and keeps a small model whole", () => {
    const g = new Graph();
    g.param("a", [100, 10], { init: zeros() }); // decayed: a matrix
    g.param("b", [700], { init: zeros(), decay: false });
    const layout = new ParamLayout(g);
    expect(updateBuckets(layout)).toEqual([{ offset: 0, size: layout.total, decayed: layout.decayed }]);
    const cut = updateBuckets(layout, 256);
    expect(cut.map((b) => [b.offset, b.size, b.decayed])).toEqual([
      [0, 256, 256],
      [256, 256, 256],
      [512, 256, 256],
      [768, 256, 256],
      [1024, 256, 0],
      [1280, 256, 0],
      [1536, 192, 0],
    ]);
    expect(() => updateBuckets(layout, 100)).toThrow(/multiple of 64 floats, got 100/);
  });

  for (const [name, accum, inPlace] of [
    ["in place", 1, true],
    ["in two buffers", 1, false],
    ["3 micro-batches", 3, true],
  ] as const) {
    it(`${name}: the same training as one update over the whole buffer`, async () => {
      const whole = await train(adamw({ weightDecay: 0.1 }), inPlace, accum);
      const cut = await train(adamw({ weightDecay: 0.1 }), inPlace, accum, 64);
      expect(cut.inPlace).toEqual(whole.inPlace);
      // the global norm is summed over the parameters' gradients instead of the flat one: last bits only
      cut.losses.forEach((l, i) => expect(l).toBeCloseTo(whole.losses[i] as number, 5));
      for (const [k, v] of whole.params) {
        const got = cut.params.get(k)!;
        const worst = Math.max(...v.map((x, i) => Math.abs(x - (got[i] as number))));
        expect(worst, k).toBeLessThan(1e-5);
      }
      for (const [k, v] of whole.state) expect(cut.state.get(k)!.length, k).toBe(v.length);
    });
  }
});
