// A one-layer transformer learns to reverse short sequences: tokens = s1..sL SEP r1..r(L-1), and
// the loss counts only the reversed half (ignore-index elsewhere).

import { rng } from "@baton/rng";
import { describe, expect, it } from "vitest";
import { compileTrainStep } from "./compile.ts";
import { arange, crossEntropy, layerNorm } from "./composites.ts";
import { compileInference } from "./infer.ts";
import { normal, ones, zeros } from "./init.ts";
import { adamw } from "./optim.ts";
import { Graph, type Tensor } from "./tensor.ts";
import { type BlockWeights, block, blockShapes } from "./testing/block.ts";

const L = 5; // digits per sequence
const DIGITS = 6;
const SEP = DIGITS; // vocab: digits 0..5 and SEP
const V = DIGITS + 1;
const T = 2 * L; // s1..sL SEP r1..r(L-1)
const C = 32;
const H = 2;

function model(g: Graph, tokens: Tensor): Tensor {
  const [B] = tokens.shape as [number];
  const wte = g.param("wte", [V, C], { init: normal(0.1) });
  const wpe = g.param("wpe", [T, C], { init: normal(0.1) });
  const shapes = blockShapes(C);
  const w = Object.fromEntries(
    Object.entries(shapes).map(([n, s]) => [
      n,
      g.param(`h.0.${n}`, s, { init: n.startsWith("ln") ? (n.endsWith("w") ? ones() : zeros()) : normal(0.1) }),
    ]),
  ) as unknown as BlockWeights;
  const x = block(g, wte.gather(tokens).add(wpe.gather(arange(g, T))), w, H); // [B,T,C]
  const lnf = layerNorm(x, g.param("ln_f.w", [C], { init: ones() }), g.param("ln_f.b", [C], { init: zeros() }));
  return lnf.reshape([B * T, C]).matmul(wte.mT()); // [B*T, V] tied head
}

function batch(B: number, next: () => number) {
  const tokens = new BigInt64Array(B * T);
  const targets = new BigInt64Array(B * T).fill(-1n);
  for (let b = 0; b < B; b++) {
    const s = Array.from({ length: L }, () => Math.floor(next() * DIGITS));
    const seq = [...s, SEP, ...[...s].reverse()];
    for (let t = 0; t < T; t++) {
      tokens[b * T + t] = BigInt(seq[t] as number);
      if (t >= L) targets[b * T + t] = BigInt(seq[t + 1] as number); // predict the reversal only
    }
  }
  return { tokens, targets };
}

describe("a one-layer transformer", () => {
  it("learns to reverse sequences of 5 digits", async () => {
    const B = 32;
    const g = new Graph();
    const tokens = g.input("tokens", [B, T], "int64");
    const targets = g.input("targets", [B * T], "int64");
    const ce = crossEntropy(model(g, tokens), targets, { ignoreIndex: -1 });
    const step = await compileTrainStep({
      graph: g,
      loss: ce,
      optimizer: adamw({ weightDecay: 0.01, beta2: 0.99 }),
      clipNorm: 1,
      seed: 5,
      threads: 1,
    });
    const next = rng(11);
    let loss = 0;
    for (let t = 1; t <= 500; t++) loss = (await step.run(batch(B, next), { lr: 3e-3, step: t })).loss;
    expect(loss).toBeLessThan(0.1);

    const gi = new Graph();
    const logits = model(gi, gi.input("tokens", [B, T], "int64"));
    const infer = await compileInference({ graph: gi, outputs: { logits }, threads: 1 });
    infer.loadParams(step.params());
    const test = batch(B, rng(99));
    const out = (await infer.run({ tokens: test.tokens })).logits as Float32Array;
    let right = 0;
    let total = 0;
    for (let i = 0; i < B * T; i++) {
      if (test.targets[i] === -1n) continue;
      const row = out.subarray(i * V, (i + 1) * V);
      right += row.indexOf(Math.max(...row)) === Number(test.targets[i]) ? 1 : 0;
      total++;
    }
    expect(right / total).toBeGreaterThanOrEqual(0.98);
  });
});
