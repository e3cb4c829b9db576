// The loop every LM stage runs: warmup then cosine decay, evaluation every N steps, a resume snapshot
// every M steps through the relay's snapshot API, progress to the relay, and a stop at the next step
// boundary when the relay aborts (SIGTERM): the snapshot is written first, so another worker resumes.
// Batches are a pure function of (seed, step), so a resumed run sees the data an uninterrupted one
// would have seen from that step on.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { BatonError, type StageContext } from "@baton/stage-kit";
import { decodeSafetensors, encodeSafetensors, type SafeTensor } from "@baton/model";
import type { LmBatch, LmSession } from "./session.ts";

export interface Schedule {
  steps: number;
  lr: number;
  minLr: number;
  warmupSteps: number;
}

/** Linear warmup to lr over warmupSteps, then cosine decay to minLr at `steps` (nanoGPT's get_lr). */
export function learningRate(s: Schedule, t: number): number {
  if (t <= s.warmupSteps) return (s.lr * t) / Math.max(1, s.warmupSteps);
  const ratio = Math.min(1, (t - s.warmupSteps) / Math.max(1, s.steps - s.warmupSteps));
  return s.minLr + 0.5 * (1 + Math.cos(Math.PI * ratio)) * (s.lr - s.minLr);
}

export interface CurvePoint {
  step: number;
  loss: number;
}

export interface LoopOptions {
  ctx: StageContext;
  session: LmSession;
  schedule: Schedule;
  batch(step: number): LmBatch;
  /** Validation metrics (e.g. { val_loss }), run every evalEvery steps and at the end. */
  evaluate(): Promise<Record<string, number>>;
  evalEvery: number;
  snapshotEvery: number;
}

export interface LoopResult {
  /** Training loss per step (the whole run, resumed parts included). */
  curve: CurvePoint[];
  /** Validation points: step and metrics. */
  evals: { step: number; metrics: Record<string, number> }[];
  tokensPerSecond: number;
  resumedFrom: number;
}

const STATE_FILE = "state.safetensors";
const CURVE_FILE = "curve.json";

/** Runs steps 1..schedule.steps (resuming from the newest snapshot) and returns the curves. */
export async function trainLoop(o: LoopOptions): Promise<LoopResult> {
  const { ctx, session, schedule } = o;
  let curve: CurvePoint[] = [];
  let evals: LoopResult["evals"] = [];
  let start = 1;
  const snap = await ctx.snapshot.latest();
  if (snap) {
    const bytes = await readFile(join(snap.dir, STATE_FILE));
    const { tensors } = decodeSafetensors(bytes, `snapshot ${snap.trainStep} ${STATE_FILE}`);
    const weights = new Map<string, Float32Array>();
    const optim = new Map<string, Float32Array>();
    for (const [name, t] of tensors) {
      if (name.startsWith("optim/")) optim.set(name.slice(6), t.data as Float32Array);
      else weights.set(name, t.data as Float32Array);
    }
    session.loadWeights(weights);
    session.loadOptimizerState(optim);
    const saved = JSON.parse(await readFile(join(snap.dir, CURVE_FILE), "utf8")) as Pick<LoopResult, "curve" | "evals">;
    curve = saved.curve;
    evals = saved.evals;
    start = snap.trainStep + 1;
    ctx.log.info("resumed from snapshot", { trainStep: snap.trainStep });
  }

  let lastSaved = start - 1;
  const saveSnapshot = async (t: number) => {
    if (t === lastSaved || t === 0) return; // nothing new since the last one (or nothing trained)
    lastSaved = t;
    const tensors = new Map<string, SafeTensor>();
    for (const [k, v] of session.weights()) tensors.set(k, { dtype: "F32", shape: [v.length], data: v });
    for (const [k, v] of session.optimizerState()) tensors.set(`optim/${k}`, { dtype: "F32", shape: [v.length], data: v });
    await ctx.snapshot.save(t, {
      [STATE_FILE]: encodeSafetensors(tensors),
      [CURVE_FILE]: new TextEncoder().encode(JSON.stringify({ curve, evals })),
    });
  };

  const tokensPerStep = session.options.batchSize * session.config.blockSize;
  const began = performance.now();
  let stepsRun = 0;
  for (let t = start; t <= schedule.steps; t++) {
    if (ctx.signal.aborted) {
      await saveSnapshot(t - 1);
      throw BatonError.retry("INTERRUPTED", `step ${ctx.step.name} stopped at train step ${t - 1} of ${schedule.steps}; snapshot saved, another worker resumes`);
    }
    const loss = await session.trainStep(o.batch(t), learningRate(schedule, t), t);
    if (!Number.isFinite(loss)) {
      throw BatonError.fatal("TRAIN_FAILED", `step ${ctx.step.name}: loss is ${loss} at train step ${t}; lower optim.lr or raise optim.warmupSteps in the step's config`);
    }
    curve.push({ step: t, loss });
    stepsRun++;
    const metrics: Record<string, number> = { loss, lr: learningRate(schedule, t) };
    if (t % o.evalEvery === 0 || t === schedule.steps) {
      const m = await o.evaluate();
      evals.push({ step: t, metrics: m });
      Object.assign(metrics, m);
    }
    const elapsed = (performance.now() - began) / 1000;
    metrics.tokens_per_s = (stepsRun * tokensPerStep) / Math.max(elapsed, 1e-9);
    ctx.progress({ trainStep: t, totalSteps: schedule.steps, metrics });
    if (o.snapshotEvery > 0 && t % o.snapshotEvery === 0 && t < schedule.steps) await saveSnapshot(t);
  }
  const seconds = (performance.now() - began) / 1000;
  return { curve, evals, tokensPerSecond: (stepsRun * tokensPerStep) / Math.max(seconds, 1e-9), resumedFrom: start - 1 };
}
