import { describe, expect, it } from "vitest";
import { DEFAULT_GPT_CONFIG, type GptConfig } from "@baton/model";
import { LmSession, type LmBatch } from "./session.ts";
import { generate } from "./sample.ts";
import { OPTIM_DEFAULTS } from "./train-defaults.ts";

const config: GptConfig = { ...DEFAULT_GPT_CONFIG, nLayer: 1, nHead: 2, nEmbd: 32, blockSize: 16, vocabSize: 8 };
const B = 4;
const T = config.blockSize;

/** Rows of the cycle 1,2,...,7,1,2,... at random phases; only even positions are trained. */
function batch(step: number, maskOdd: boolean): LmBatch {
  const n = B * T;
  const tokens = new BigInt64Array(n);
  const targets = new BigInt64Array(n);
  const mask = new Float32Array(n);
  for (let r = 0; r < B; r++) {
    const phase = (step * 7 + r * 3) % 7;
    for (let t = 0; t < T; t++) {
      tokens[r * T + t] = BigInt(((phase + t) % 7) + 1);
      targets[r * T + t] = BigInt(((phase + t + 1) % 7) + 1);
      mask[r * T + t] = maskOdd && t % 2 === 1 ? 0 : 1;
    }
  }
  const positions = BigInt64Array.from({ length: n }, (_, i) => BigInt(i % T));
  return { tokens, targets, mask, positions, segments: new BigInt64Array(n).fill(1n) };
}

describe("LmSession", () => {
  it("learns a cycle, scores with the mask, and greedy sampling continues it", async () => {
    const s = await LmSession.create({ config, batchSize: B, optim: { ...OPTIM_DEFAULTS, lr: 1e-2 }, seed: 1, threads: 1 });
    const first = await s.score(batch(0, false));
    expect(first.count).toBe(B * T);
    expect(first.sum / first.count).toBeGreaterThan(1.5); // ~ln 8 at init
    for (let t = 1; t <= 60; t++) await s.trainStep(batch(t, false), 1e-2, t);
    const masked = await s.score(batch(99, true));
    expect(masked.count).toBe(B * T / 2);
    expect(masked.sum / masked.count).toBeLessThan(0.2);
    const g = await generate(s, [1, 2, 3], { maxTokens: 5, eos: 0 });
    expect(g.ids).toEqual([4, 5, 6, 7, 1]);
    expect(g.endedWithEos).toBe(false);
    await s.dispose();
  });

  it("keeps frozen weights fixed and trains the rest", async () => {
    const trainable = (name: string) => !name.startsWith("transformer.h.0.attn");
    const s = await LmSession.create({ config, batchSize: B, optim: OPTIM_DEFAULTS, seed: 2, threads: 1, trainable });
    const full = await LmSession.create({ config, batchSize: B, optim: OPTIM_DEFAULTS, seed: 2, threads: 1 });
    s.loadWeights(full.weights());
    const before = s.weights();
    for (let t = 1; t <= 3; t++) await s.trainStep(batch(t, false), 1e-2, t);
    const after = s.weights();
    expect(after.get("transformer.h.0.attn.c_attn.weight")).toEqual(before.get("transformer.h.0.attn.c_attn.weight"));
    expect(after.get("transformer.h.0.mlp.c_fc.weight")).not.toEqual(before.get("transformer.h.0.mlp.c_fc.weight"));
    await s.dispose();
    await full.dispose();
  });
});

describe("packing", () => {
  it("a document packed after another scores exactly as it does alone: no attention across segments", async () => {
    const s = await LmSession.create({ config, batchSize: 1, optim: OPTIM_DEFAULTS, seed: 4, threads: 1 });
    const a = [3, 1, 4, 1, 5, 2, 6];
    const b = [2, 7, 1, 2, 5, 3, 4, 6, 1];
    const row = (docs: number[][]) => {
      const tokens = new BigInt64Array(T);
      const targets = new BigInt64Array(T);
      const positions = new BigInt64Array(T);
      const segments = new BigInt64Array(T);
      const mask = new Float32Array(T);
      let at = 0;
      docs.forEach((doc, d) => {
        for (let i = 0; i < doc.length - 1; i++, at++) {
          tokens[at] = BigInt(doc[i]!);
          targets[at] = BigInt(doc[i + 1]!);
          positions[at] = BigInt(i);
          segments[at] = BigInt(d + 1);
          mask[at] = d === docs.length - 1 ? 1 : 0; // score the last document only
        }
      });
      return { tokens, targets, positions, segments, mask };
    };
    const alone = await s.score(row([b]));
    const packed = await s.score(row([a, b]));
    expect(packed.count).toBe(b.length - 1);
    expect(packed.sum).toBeCloseTo(alone.sum, 4);
    // and the segment ids matter: the same row as one segment scores differently
    const one = row([a, b]);
    one.segments.fill(1n);
    expect(Math.abs((await s.score(one)).sum - alone.sum)).toBeGreaterThan(1e-3);
    await s.dispose();
  });
});
