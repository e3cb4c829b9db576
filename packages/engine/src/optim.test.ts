// The engine's AdamW held to PyTorch's: torch.optim.AdamW after torch.nn.utils.clip_grad_norm_, 10
// steps, two param groups (decay on the matrices only), fixed gradients per step. The reference is
// testing/adamw-golden.json, written once by testing/adamw_golden.py; torch is not needed here.
// The update runs through compileTrainStep, the train step's own graph: a loss sum(p * G) whose
// gradient is exactly the fed G, so layout, clipping, decay and the update are the real ones.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compileTrainStep } from "./compile.ts";
import { zeros } from "./init.ts";
import { adamw } from "./optim.ts";
import { Graph, type Tensor } from "./tensor.ts";

interface GoldenCase {
  name: string;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  maxNorm: number;
  tensors: { name: string; shape: number[]; decay: boolean; init: number[] }[];
  steps: { lr: number; gradNorm: number; grads: Record<string, number[]>; params: Record<string, number[]> }[];
  m: Record<string, number[]>;
  v: Record<string, number[]>;
}

const golden = JSON.parse(readFileSync(new URL("./testing/adamw-golden.json", import.meta.url), "utf8")) as {
  torch: string;
  cases: GoldenCase[];
};

/** |a - b| <= REL * |b| + ABS for every element; the worst ratio to that bound (<= 1 passes). */
const REL = 1e-6;
const ABS = 1e-7;
function worst(actual: ArrayLike<number>, expected: readonly number[]): number {
  expect(actual.length).toBe(expected.length);
  let w = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i] as number;
    w = Math.max(w, Math.abs((actual[i] as number) - e) / (REL * Math.abs(e) + ABS));
  }
  return w;
}

/** PyTorch's AdamW step in float64, with switches that break it the ways the engine must not. */
type Variant = { decayAfterStep?: boolean; noBiasCorrection1?: boolean; noBiasCorrection2?: boolean };
function reference(c: GoldenCase, variant: Variant = {}): { params: Map<string, number[]>[]; norms: number[] } {
  const p = new Map(c.tensors.map((t) => [t.name, [...t.init]]));
  const m = new Map(c.tensors.map((t) => [t.name, t.init.map(() => 0)]));
  const v = new Map(c.tensors.map((t) => [t.name, t.init.map(() => 0)]));
  const out: Map<string, number[]>[] = [];
  const norms: number[] = [];
  for (const [s, st] of c.steps.entries()) {
    const t = s + 1;
    const norm = Math.sqrt(Object.values(st.grads).reduce((a, g) => a + g.reduce((b, x) => b + x * x, 0), 0));
    const clip = Math.min(1, c.maxNorm / (norm + 1e-6));
    const bc1 = variant.noBiasCorrection1 ? 1 : 1 - c.beta1 ** t;
    const bc2 = variant.noBiasCorrection2 ? 1 : 1 - c.beta2 ** t;
    for (const tensor of c.tensors) {
      const [pp, mm, vv, g] = [p.get(tensor.name)!, m.get(tensor.name)!, v.get(tensor.name)!, st.grads[tensor.name]!];
      const decay = tensor.decay ? 1 - st.lr * c.weightDecay : 1;
      for (let i = 0; i < pp.length; i++) {
        const gi = g[i]! * clip;
        mm[i] = c.beta1 * mm[i]! + (1 - c.beta1) * gi;
        vv[i] = c.beta2 * vv[i]! + (1 - c.beta2) * gi * gi;
        const step = ((st.lr / bc1) * mm[i]!) / (Math.sqrt(vv[i]!) / Math.sqrt(bc2) + c.eps);
        pp[i] = variant.decayAfterStep ? (pp[i]! - step) * decay : pp[i]! * decay - step;
      }
    }
    norms.push(norm);
    out.push(new Map([...p].map(([k, x]) => [k, [...x]])));
  }
  return { params: out, norms };
}

/** The train step of the golden tensors: loss = sum over tensors of sum(p * G), G fed per step. */
async function goldenStep(c: GoldenCase) {
  const g = new Graph();
  let loss: Tensor | null = null;
  for (const t of c.tensors) {
    const term = g
      .param(t.name, t.shape, { init: zeros(), decay: t.decay })
      .mul(g.input(`grad.${t.name}`, t.shape))
      .sum();
    loss = loss ? loss.add(term) : term;
  }
  const step = await compileTrainStep({
    graph: g,
    loss: loss!,
    optimizer: adamw({ beta1: c.beta1, beta2: c.beta2, eps: c.eps, weightDecay: c.weightDecay }),
    clipNorm: c.maxNorm,
    seed: 1,
    threads: 1,
  });
  step.loadParams(new Map(c.tensors.map((t) => [t.name, Float32Array.from(t.init)])));
  return step;
}

describe(`AdamW against PyTorch's (torch ${golden.torch}, testing/adamw-golden.json)`, () => {
  for (const c of golden.cases) {
    it(`${c.name}: parameters after each of 10 steps, gradient norms and final moments within ${REL} relative`, async () => {
      const step = await goldenStep(c);
      try {
        for (const [s, st] of c.steps.entries()) {
          const feeds = Object.fromEntries(
            c.tensors.map((t) => [`grad.${t.name}`, Float32Array.from(st.grads[t.name]!)]),
          );
          const r = await step.run(feeds, { lr: st.lr, step: s + 1 });
          expect(Math.abs(r.gradNorm - st.gradNorm) / st.gradNorm, `step ${s + 1} gradient norm`).toBeLessThan(1e-6);
          const params = step.params();
          for (const t of c.tensors)
            expect(worst(params.get(t.name)!, st.params[t.name]!), `step ${s + 1} ${t.name}`).toBeLessThanOrEqual(1);
        }
        const state = step.optimizerState();
        for (const t of c.tensors) {
          expect(worst(state.get(`adam.m.${t.name}`)!, c.m[t.name]!), `m of ${t.name}`).toBeLessThanOrEqual(1);
          expect(worst(state.get(`adam.v.${t.name}`)!, c.v[t.name]!), `v of ${t.name}`).toBeLessThanOrEqual(1);
        }
      } finally {
        await step.dispose();
      }
    });

    it(`${c.name}: the fixture tells PyTorch's order and bias corrections from their mistakes`, () => {
      // PyTorch's formula in float64 matches the fixture; decay after the Adam step, or a dropped
      // bias correction, misses it by many times the tolerance, so the test above would catch them.
      const final = (r: ReturnType<typeof reference>) =>
        c.tensors.map((t) => worst(r.params.at(-1)!.get(t.name)!, c.steps.at(-1)!.params[t.name]!));
      expect(Math.max(...final(reference(c)))).toBeLessThanOrEqual(1);
      reference(c).norms.forEach((n, s) => expect(Math.abs(n - c.steps[s]!.gradNorm) / n).toBeLessThan(1e-6));
      for (const variant of [{ decayAfterStep: true }, { noBiasCorrection1: true }, { noBiasCorrection2: true }]) {
        expect(Math.max(...final(reference(c, variant))), JSON.stringify(variant)).toBeGreaterThan(20);
      }
    });
  }
});
