// The two things supervised stages need from the trainer: weights that stay as the checkpoint has
// them (a stage that trains only the last layers), and packed rows whose examples do not attend to
// each other (segment ids), so packing changes the speed and not the loss.
import { describe, expect, it } from "vitest";
import { PRESETS, presetModel } from "../presets.ts";
import type { BatchSource, LmBatch } from "./batches.ts";
import { Evaluator } from "./evaluate.ts";
import { trainLanguageModel } from "./train.ts";

const model = { ...presetModel(PRESETS.tiny!, 8), dropout: 0 }; // 2 layers, block 16, vocab 8
const T = model.blockSize;

/** Rows of the cycle 1..7 at phases drawn from (seed, step): learnable in a few dozen steps. */
function cycleBatch(B: number, seed: number, step: number): LmBatch {
  const x = new Int32Array(B * T);
  const y = new Int32Array(B * T);
  for (let r = 0; r < B; r++) {
    const phase = (seed * 31 + step * 7 + r * 3) % 7;
    for (let t = 0; t < T; t++) {
      x[r * T + t] = ((phase + t) % 7) + 1;
      y[r * T + t] = ((phase + t + 1) % 7) + 1;
    }
  }
  return { x, y };
}
const cycles = (B: number): BatchSource => ({
  train: (seed, step) => cycleBatch(B, seed, step),
  val: (k) => cycleBatch(B, 99, k),
});

/** One row holding `docs` one after another (each: inputs at positions 0.., its own segment id); only the last is scored. */
function packedRow(docs: number[][]): LmBatch {
  const b: Required<Omit<LmBatch, "extra">> = {
    x: new Int32Array(T),
    y: new Int32Array(T),
    lossMask: new Float32Array(T),
    positions: new Int32Array(T),
    segmentIds: new Int32Array(T),
  };
  let at = 0;
  docs.forEach((doc, d) => {
    for (let i = 0; i < doc.length - 1; i++, at++) {
      b.x[at] = doc[i] as number;
      b.y[at] = doc[i + 1] as number;
      b.positions[at] = i;
      b.segmentIds[at] = d + 1;
      b.lossMask[at] = d === docs.length - 1 ? 1 : 0;
    }
  });
  return b;
}

describe("frozen weights", () => {
  it("stay bit-identical while the others train and the loss falls", async () => {
    const init = (
      await trainLanguageModel({
        model,
        data: cycles(4),
        batchSize: 4,
        iters: 0,
        schedule: { lr: 1e-2, minLr: 1e-3, warmupIters: 0, decayIters: 1 },
        seed: 5,
        progressBar: false,
      })
    ).params;
    const frozen = new Set(
      [...init.keys()].filter((n) => !n.startsWith("transformer.h.1.") && !n.startsWith("transformer.ln_f.")),
    );
    const seen: number[] = [];
    const r = await trainLanguageModel({
      model,
      data: cycles(4),
      batchSize: 4,
      iters: 40,
      schedule: { lr: 1e-2, minLr: 1e-3, warmupIters: 4, decayIters: 40 },
      optimizer: { weightDecay: 0.1 },
      seed: 5,
      init,
      frozen,
      eval: { every: 20, batches: 0, atStart: false },
      evaluate: async (params) => {
        seen.push(params.size);
        return { weights: params.size };
      },
      progressBar: false,
    });
    for (const name of frozen)
      expect(Buffer.from(r.params.get(name)!.buffer).equals(Buffer.from(init.get(name)!.buffer)), name).toBe(true);
    expect(r.params.get("transformer.h.1.mlp.c_fc.weight")).not.toEqual(init.get("transformer.h.1.mlp.c_fc.weight"));
    expect(r.optimizerState.size).toBeGreaterThan(0);
    for (const k of r.optimizerState.keys()) expect([...frozen].some((f) => k.endsWith(f))).toBe(false);
    expect(r.curve.at(-1)!.loss).toBeLessThan(r.curve[0]!.loss * 0.7);
    // the caller's metrics at every evaluation, given every weight (frozen ones included), none at step 0
    expect(r.evals.map((e) => [e.step, e.metrics?.weights])).toEqual([
      [20, init.size],
      [40, init.size],
    ]);
    expect(seen).toEqual([init.size, init.size]);
  });

  it("must have a value in init", async () => {
    const run = trainLanguageModel({
      model,
      data: cycles(2),
      batchSize: 2,
      iters: 1,
      schedule: { lr: 1e-3, minLr: 1e-4, warmupIters: 0, decayIters: 1 },
      frozen: new Set(["transformer.wte.weight"]),
      progressBar: false,
    });
    await expect(run).rejects.toThrow(/frozen weight transformer\.wte\.weight has no value in init/);
  });
});

describe("packed rows", () => {
  it("score an example exactly as it scores alone: no attention across segments", async () => {
    const params = (
      await trainLanguageModel({
        model,
        data: cycles(1),
        batchSize: 1,
        iters: 0,
        schedule: { lr: 1e-3, minLr: 1e-4, warmupIters: 0, decayIters: 1 },
        seed: 9,
        progressBar: false,
      })
    ).params;
    const ev = await Evaluator.compile(model, { batch: 1, seq: T, threads: 1, packed: true });
    ev.loadParams(params);
    const a = [3, 1, 4, 1, 5, 2, 6];
    const b = [2, 7, 1, 2, 5, 3, 4, 6, 1];
    const alone = await ev.lossTerms(packedRow([b]));
    const packed = await ev.lossTerms(packedRow([a, b]));
    expect(packed.count).toBe(b.length - 1);
    expect(alone.count).toBe(b.length - 1);
    expect(Math.abs(packed.sum - alone.sum)).toBeLessThan(1e-4 * Math.max(1, alone.sum));
    // the segment ids are what keeps them apart: the same row as one segment scores differently
    const joined = packedRow([a, b]);
    joined.segmentIds!.fill(1);
    expect(Math.abs((await ev.lossTerms(joined)).sum - alone.sum)).toBeGreaterThan(1e-3);
    await expect(ev.lossTerms({ x: joined.x, y: joined.y })).rejects.toThrow(/needs positions and segmentIds/);
    await ev.dispose();
  });
});
