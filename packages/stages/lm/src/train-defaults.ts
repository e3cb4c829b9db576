// The training knobs every LM stage has, with their rules. A stage's config embeds these under
// `train` and `optim` and sets its own defaults (pretraining and fine-tuning want different ones).
import type { BadRecordPolicy } from "@baton/data";
import type { ConfigRules } from "./config.ts";
import type { OptimConfig } from "./session.ts";

export interface TrainDefaults {
  /** Optimizer steps. */
  steps: number;
  /** Rows per step (B). */
  batchSize: number;
  /** Linear warmup steps, then cosine decay to minLr. */
  warmupSteps: number;
  minLr: number;
  /** Validation every N steps (and at the end). */
  evalEvery: number;
  /** Resume snapshot every N steps (0: none). */
  snapshotEvery: number;
}

export const OPTIM_DEFAULTS: OptimConfig = {
  lr: 1e-3,
  beta1: 0.9,
  beta2: 0.99, // nanoGPT's choice for small models: the second moment adapts faster
  weightDecay: 0.1, // on 2-D weights only
  clipNorm: 1.0, // global-norm clipping; 0 disables
};

/** What a stage does with a bad record: "fail" stops at the first (file:line), "skip" drops and counts it. */
export const BAD_RECORD_POLICIES: readonly BadRecordPolicy[] = ["skip", "fail"];

/** How supervised examples become rows: one per row, or several packed (attention kept inside each). */
export const PACKINGS: readonly ("rows" | "packed")[] = ["rows", "packed"];

export const SCHEDULE_RULES: ConfigRules = {
  "/train/steps": { integer: true, min: 1, max: 1_000_000 },
  "/train/batchSize": { integer: true, min: 1, max: 4096 },
  "/train/warmupSteps": { integer: true, min: 0, max: 1_000_000 },
  "/train/minLr": { min: 0, max: 1 },
  "/train/evalEvery": { integer: true, min: 1, max: 1_000_000 },
  "/train/snapshotEvery": { integer: true, min: 0, max: 1_000_000 },
  "/optim/lr": { min: 0, max: 1 },
  "/optim/beta1": { min: 0, max: 1 },
  "/optim/beta2": { min: 0, max: 1 },
  "/optim/weightDecay": { min: 0, max: 10 },
  "/optim/clipNorm": { min: 0, max: 1_000_000 },
  "/policy": { oneOf: BAD_RECORD_POLICIES },
  "/heldOut": { regex: true },
};

/** Rules across the schedule's keys: a warmup longer than the run never reaches its peak rate. */
export function scheduleProblems(c: { train: TrainDefaults }): string[] {
  const problems: string[] = [];
  if (c.train.warmupSteps > c.train.steps)
    problems.push(
      `/train/warmupSteps: ${c.train.warmupSteps} warmup steps exceed /train/steps (${c.train.steps}); lower the warmup or train longer`,
    );
  return problems;
}

/**
 * Bounds on what a step reads and generates, shared by the stages that have these keys: a recipe
 * travels in events, so each of these is a size an event could otherwise set without limit.
 */
export const LIMIT_RULES: ConfigRules = {
  "/maxChars": { integer: true, min: 1, max: 1_000_000 }, // one record's characters
  "/evalBatches": { integer: true, min: 1, max: 1000 },
  "/samples/count": { integer: true, min: 0, max: 16 },
  "/samples/promptChars": { integer: true, min: 1, max: 256 }, // copied into the stage report
  "/samples/maxTokens": { integer: true, min: 1, max: 1024 },
  "/eval/maxExamples": { integer: true, min: 1, max: 10_000 },
  "/eval/maxTokens": { integer: true, min: 1, max: 1024 },
  "/eval/samples": { integer: true, min: 0, max: 32 },
};
