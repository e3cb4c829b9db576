import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { sleep } from "@baton/bus";
import type { StageDefinition } from "./types.ts";

/**
 * A deterministic stage for relay tests: its "model" is weights.bin, WIDTH float32 values, and each
 * train step does w = w * 0.5 + add + step. It snapshots every `snapshotEvery` steps and honours
 * ctx.signal at step boundaries, so resume can be checked byte for byte against an uninterrupted run.
 */
export const WIDTH = 8;

export interface CountingStageOptions {
  stage: string;
  add: number;
  steps: number;
  stepDelayMs?: number;
  snapshotEvery?: number;
  /** Throw an ordinary (retryable) error on the first n attempts. */
  failAttempts?: number;
  implementation?: string;
}

export function countingStage(o: CountingStageOptions): StageDefinition {
  return {
    stage: o.stage,
    implementation: o.implementation ?? "counting",
    version: "1.0.0",
    async train(ctx) {
      if (ctx.attempt <= (o.failAttempts ?? 0)) throw new Error(`injected fault on attempt ${ctx.attempt}`);
      let w = ctx.input ? await readWeights(join(ctx.input.dir, "weights.bin")) : new Float32Array(WIDTH);
      let start = 0;
      const snap = await ctx.snapshot.latest();
      if (snap) {
        w = await readWeights(join(snap.dir, "weights.bin"));
        start = snap.trainStep;
      }
      for (let s = start; s < o.steps; s++) {
        if (ctx.signal.aborted) {
          await ctx.snapshot.save(s, { "weights.bin": bytesOf(w) });
          throw ctx.signal.reason ?? new Error("aborted");
        }
        w = trainStep(w, o.add, s);
        ctx.progress({ trainStep: s + 1, totalSteps: o.steps, metrics: { loss: 1 / (s + 1) } });
        if (o.snapshotEvery && (s + 1) % o.snapshotEvery === 0)
          await ctx.snapshot.save(s + 1, { "weights.bin": bytesOf(w) });
        if (o.stepDelayMs) await sleep(o.stepDelayMs);
      }
      await writeFile(join(ctx.outputDir, "weights.bin"), bytesOf(w));
      await writeFile(join(ctx.outputDir, "config.json"), JSON.stringify({ width: WIDTH, add: o.add, steps: o.steps }));
      return { metrics: { loss: 1 / o.steps, first: w[0]! } };
    },
  };
}

export function trainStep(w: Float32Array, add: number, step: number): Float32Array {
  return w.map((x, i) => x * 0.5 + add + step + i);
}

/** Weights after running the given stages from zeros, without any relay: the reference. */
export function expectedWeights(stages: { add: number; steps: number }[]): Float32Array {
  let w: Float32Array = new Float32Array(WIDTH);
  for (const s of stages) for (let i = 0; i < s.steps; i++) w = trainStep(w, s.add, i);
  return w;
}

export async function readWeights(path: string): Promise<Float32Array> {
  const b = await readFile(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

export function bytesOf(w: Float32Array): Uint8Array {
  return new Uint8Array(w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength));
}
