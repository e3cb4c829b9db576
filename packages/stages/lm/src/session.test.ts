import { DEFAULT_GPT_CONFIG, type GptConfig } from "@baton/model";
import type { StageContext } from "@baton/runner";
import { describe, expect, it } from "vitest";
import { meanLoss } from "./batches.ts";
import { generate } from "./sample.ts";
import { type LmBatch, LmSession } from "./session.ts";
import { OPTIM_DEFAULTS } from "./train-defaults.ts";
import { trainLoop } from "./train-loop.ts";

const config: GptConfig = { ...DEFAULT_GPT_CONFIG, nLayer: 2, nHead: 2, nEmbd: 32, blockSize: 16, vocabSize: 8 };
const B = 4;
const T = config.blockSize;

/** Rows of the cycle 1,2,...,7,1,2,... at phases drawn from the step; with maskOdd only even positions count. */
function batch(step: number, maskOdd: boolean): LmBatch {
  const n = B * T;
  const x = new Int32Array(n);
  const y = new Int32Array(n);
  const lossMask = new Float32Array(n);
  for (let r = 0; r < B; r++) {
    const phase = (step * 7 + r * 3) % 7;
    for (let t = 0; t < T; t++) {
      x[r * T + t] = ((phase + t) % 7) + 1;
      y[r * T + t] = ((phase + t + 1) % 7) + 1;
      lossMask[r * T + t] = maskOdd && t % 2 === 1 ? 0 : 1;
    }
  }
  return {
    x,
    y,
    lossMask,
    positions: Int32Array.from({ length: n }, (_, i) => i % T),
    segmentIds: new Int32Array(n).fill(1),
  };
}

/** The parts of a relay context trainLoop uses: progress, snapshots in memory, a live signal. */
function context(progress: Record<string, number>[]): StageContext {
  return {
    seed: 3,
    step: { name: "unit", stage: "finetune" },
    signal: new AbortController().signal,
    progress: (p: { metrics?: Record<string, number> }) => progress.push(p.metrics ?? {}),
    snapshot: { save: async () => {}, latest: async () => null },
    log: { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} },
  } as unknown as StageContext;
}

describe("LmSession + trainLoop", () => {
  it("learns a cycle on the model's trainer, keeps frozen weights, scores with the mask, and greedy sampling continues it", async () => {
    const trainable = (name: string) => !name.startsWith("transformer.h.0.attn");
    const s = await LmSession.create({
      config,
      batchSize: B,
      optim: { ...OPTIM_DEFAULTS, lr: 1e-2 },
      seed: 1,
      threads: 1,
      trainable,
    });
    const before = s.weights();
    const first = await s.score(batch(0, false));
    expect(first.count).toBe(B * T);
    expect(first.sum / first.count).toBeGreaterThan(1.5); // ~ln 8 at init
    const untrained = await generate(s, [1, 2, 3], { maxTokens: 5, eos: 0 }); // compiles the sampler on the init weights
    expect(untrained.ids).not.toEqual([4, 5, 6, 7, 1]);
    const progress: Record<string, number>[] = [];
    const run = await trainLoop({
      ctx: context(progress),
      session: s,
      schedule: { steps: 60, lr: 1e-2, minLr: 1e-3, warmupSteps: 5 },
      batch: (t) => batch(t, false),
      evaluate: async () => ({ heldout_loss: await meanLoss(s, [batch(99, false)]) }),
      evalEvery: 30,
      snapshotEvery: 0,
    });
    expect(run.curve.map((c) => c.step)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(run.evals.map((e) => e.step)).toEqual([0, 30, 60]); // step 0: the weights it started from
    expect(run.evals[0]!.metrics.heldout_loss).toBeGreaterThan(1.5);
    expect(run.evals[2]!.metrics.heldout_loss).toBeLessThan(0.2);
    expect(progress.some((m) => m.loss !== undefined && m.tokens_per_s! > 0)).toBe(true);
    // an evaluation's report carries its step's loss and speed too
    expect(progress.some((m) => m.heldout_loss !== undefined && m.loss !== undefined && m.tokens_per_s! > 0)).toBe(
      true,
    );

    const after = s.weights();
    expect(after.get("transformer.h.0.attn.c_attn.weight")).toEqual(before.get("transformer.h.0.attn.c_attn.weight"));
    expect(after.get("transformer.h.0.mlp.c_fc.weight")).not.toEqual(before.get("transformer.h.0.mlp.c_fc.weight"));
    const masked = await s.score(batch(99, true));
    expect(masked.count).toBe((B * T) / 2);
    expect(masked.sum / masked.count).toBeLessThan(0.2);
    const g = await generate(s, [1, 2, 3], { maxTokens: 5, eos: 0 }); // the same sampler, the trained weights
    expect(g.ids).toEqual([4, 5, 6, 7, 1]);
    expect(g.endedWithEos).toBe(false);
    await s.dispose();
  });

  it("turns a diverged loss into a fatal TRAIN_FAILED and an abort into a retryable INTERRUPTED after a snapshot", async () => {
    const s = await LmSession.create({ config, batchSize: B, optim: OPTIM_DEFAULTS, seed: 4, threads: 1 });
    const good = s.weights();
    const bad = s.weights();
    bad.get("transformer.wte.weight")!.fill(Number.NaN);
    s.loadWeights(bad);
    const loop = (ctx: StageContext) =>
      trainLoop({
        ctx,
        session: s,
        schedule: { steps: 5, lr: 1e-3, minLr: 1e-4, warmupSteps: 1 },
        batch: (t) => batch(t, false),
        evaluate: async () => ({}),
        evalEvery: 5,
        snapshotEvery: 0,
      });
    await expect(loop(context([]))).rejects.toMatchObject({
      name: "BatonError",
      code: "TRAIN_FAILED",
      disposition: "fatal",
      message: expect.stringMatching(/loss is NaN at train step 1; lower optim\.lr/),
    });

    s.loadWeights(good);
    const saved: number[] = [];
    const stop = new AbortController();
    stop.abort();
    const ctx = {
      ...context([]),
      signal: stop.signal,
      snapshot: { save: async (step: number) => void saved.push(step), latest: async () => null },
    } as StageContext;
    await expect(loop(ctx)).rejects.toMatchObject({
      code: "INTERRUPTED",
      disposition: "retry",
      message: expect.stringMatching(/stopped at train step 0 of 5; snapshot saved/),
    });
    expect(saved).toEqual([0]);
    await s.dispose();
  });

  it("refuses a checkpoint that lacks a weight", async () => {
    const s = await LmSession.create({ config, batchSize: 1, optim: OPTIM_DEFAULTS, seed: 2, threads: 1 });
    const w = s.weights();
    w.delete("transformer.ln_f.weight");
    expect(() => s.loadWeights(w)).toThrow(/weight transformer\.ln_f\.weight .* is missing from the loaded checkpoint/);
    await s.dispose();
  });
});
