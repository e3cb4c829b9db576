// The relay's side of training: @baton/model's trainLanguageModel (lr schedule, exact resume
// snapshots, progress, stop at the step boundary on abort) wired to a stage's context. Snapshots go
// through ctx.snapshot, progress to ctx.progress, SIGTERM (ctx.signal) becomes a retryable error after
// the snapshot is written, so another worker resumes; a diverged loss is fatal. Batch t (1-based) is
// the stage's batch(t): a pure function of (seed, step), so a resumed run sees the data an
// uninterrupted one would have seen from that step on.
import { BatonError } from "@baton/contracts";
import {
  type LmBatch,
  type Objective,
  stageProgress,
  stageSnapshots,
  TrainingDiverged,
  TrainingInterrupted,
  TrainingSetupInvalid,
  trainLanguageModel,
} from "@baton/model";
import type { StageContext } from "@baton/runner";
import type { LmSession } from "./session.ts";

export interface Schedule {
  steps: number;
  lr: number;
  minLr: number;
  warmupSteps: number;
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
  /**
   * Validation metrics (e.g. { val_loss }) under the session's weights: at step 0 (the input
   * checkpoint, the stage's "before"), every evalEvery steps and at the end.
   */
  evaluate(): Promise<Record<string, number>>;
  evalEvery: number;
  snapshotEvery: number;
  /** the loss; default next-token cross-entropy over the batch's loss mask */
  objective?: Objective;
  /** rows carry positions and segment ids, examples in one row do not attend to each other (default true) */
  packed?: boolean;
  /** micro-batches of batch(t) per optimizer step, their gradients summed (default 1) */
  accumSteps?: number;
}

export interface LoopResult {
  /** Training loss per step (the whole run, resumed parts included). */
  curve: CurvePoint[];
  /** Validation points: step and metrics, the first at step 0 (before training). */
  evals: { step: number; metrics: Record<string, number> }[];
  tokensPerSecond: number;
  resumedFrom: number;
}

/** A stage config's schedule and its evaluation and snapshot cadence, as trainLoop takes them. */
export function scheduleOf(c: {
  train: { steps: number; minLr: number; warmupSteps: number; evalEvery: number; snapshotEvery: number };
  optim: { lr: number };
}): Pick<LoopOptions, "schedule" | "evalEvery" | "snapshotEvery"> {
  const t = c.train;
  return {
    schedule: { steps: t.steps, lr: c.optim.lr, minLr: t.minLr, warmupSteps: t.warmupSteps },
    evalEvery: t.evalEvery,
    snapshotEvery: t.snapshotEvery,
  };
}

/**
 * Trains the session's weights for steps 1..schedule.steps (resuming from the newest snapshot) with
 * the session's optimizer settings and frozen weights; the session holds the trained weights after.
 */
export async function trainLoop(o: LoopOptions): Promise<LoopResult> {
  const { ctx, session, schedule } = o;
  const { optim, batchSize, threads } = session.options;
  try {
    const r = await trainLanguageModel({
      model: session.config,
      // the trainer's data step is 0-based, the stage's batches 1-based (with accumulation, one
      // per micro-batch); validation is the stage's own
      data: {
        train: (_seed, step) => o.batch(step + 1),
        val: () => {
          throw new Error("trainLoop: validation is the stage's evaluate(), not the trainer's");
        },
      },
      batchSize,
      iters: schedule.steps,
      schedule: {
        lr: schedule.lr,
        minLr: schedule.minLr,
        warmupIters: schedule.warmupSteps,
        decayIters: schedule.steps,
      },
      optimizer: { beta1: optim.beta1, beta2: optim.beta2, eps: 1e-8, weightDecay: optim.weightDecay },
      clipNorm: optim.clipNorm,
      seed: ctx.seed,
      threads,
      init: session.weights(),
      frozen: session.frozen(),
      packed: o.packed ?? true,
      ...(o.accumSteps !== undefined && o.accumSteps > 1 ? { accumSteps: o.accumSteps } : {}),
      ...(o.objective ? { objective: o.objective } : {}),
      // step 0 too: every curve in the report starts from the value the effect table calls "before",
      // so a gain or a loss of general ability shows in the plot as in the table
      eval: { every: o.evalEvery, batches: 0, atStart: true },
      evaluate: async (params) => {
        session.loadWeights(params);
        return o.evaluate();
      },
      snapshots: { every: o.snapshotEvery, store: stageSnapshots(ctx.snapshot) },
      signal: ctx.signal,
      onEvent: stageProgress(ctx.progress),
      progressBar: false,
    });
    session.loadWeights(r.params);
    if (r.resumedFrom !== null) ctx.log.info("resumed from snapshot", { trainStep: r.resumedFrom });
    return {
      curve: r.curve.map((c) => ({ step: c.step, loss: c.loss })),
      evals: r.evals.map((e) => ({ step: e.step, metrics: e.metrics ?? {} })),
      tokensPerSecond: r.metrics.tokensPerSec,
      resumedFrom: r.resumedFrom ?? 0,
    };
  } catch (err) {
    if (err instanceof TrainingInterrupted) {
      throw BatonError.retry(
        "INTERRUPTED",
        `step ${ctx.step.name} stopped at train step ${err.step} of ${schedule.steps}; snapshot saved, another worker resumes`,
      );
    }
    if (err instanceof TrainingDiverged) {
      throw BatonError.fatal(
        "TRAIN_FAILED",
        `step ${ctx.step.name}: loss is ${err.loss} at train step ${err.step}; lower optim.lr or raise train.warmupSteps in the step's config`,
      );
    }
    // Settings the trainer can never train with: the same on every attempt, so no retry.
    if (err instanceof TrainingSetupInvalid)
      throw BatonError.fatal("CONFIG_INVALID", `recipe step "${ctx.step.name}": ${err.message}`, err);
    throw err;
  }
}
