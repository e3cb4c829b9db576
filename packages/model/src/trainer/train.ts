// trainLanguageModel: the loop every language-model stage runs. One engine call per optimizer step
// (forward + loss + backward + clipping + AdamW in one ONNX graph); around it: the lr schedule,
// gradient accumulation, evaluation, resume snapshots, the abort signal and progress.
import { adamw, compileTrainStep, type Feeds, type TrainStep } from "@baton/engine";
import { checkModelConfig, type GptModelConfig } from "../gpt/config.ts";
import { type Objective, traceTraining } from "../gpt/graphs.ts";
import type { BatchSource } from "./batches.ts";
import { TrainingSetupInvalid } from "./errors.ts";
import { Evaluator, pooledLoss } from "./evaluate.ts";
import { batchFeeds, declaredFeeds } from "./feeds.ts";
import { ProgressBar, type TrainEvent } from "./progress.ts";
import { checkSchedule, type LrSchedule, learningRate } from "./schedule.ts";
import {
  type CurvePoint,
  type EvalPoint,
  planDifferences,
  type SnapshotStore,
  type TrainerSnapshot,
} from "./snapshot.ts";

export interface OptimizerSettings {
  beta1: number;
  beta2: number;
  eps: number;
  /** decoupled, on matrices and embeddings only */
  weightDecay: number;
}

export interface TrainLanguageModelOptions {
  model: GptModelConfig;
  data: BatchSource;
  batchSize: number; // B per micro-batch
  /** T; default the model's block size */
  seq?: number;
  /** optimizer steps to reach (a resumed run continues up to the same number) */
  iters: number;
  schedule: LrSchedule;
  optimizer?: Partial<OptimizerSettings>;
  /** global-norm clipping (nanoGPT: 1.0); 0 = off */
  clipNorm?: number;
  /** micro-batches per optimizer step; the loss is normalised over the tokens of all of them */
  accumSteps?: number;
  /**
   * mean val loss over `batches` batches every `every` steps, at step 0 (unless atStart is false) and
   * at the end; every 0 = only at the end; batches 0 = no built-in losses (see `evaluate`)
   */
  /** keepBatches: record each validation batch's loss terms in the eval point (a benchmark's spread of estimates) */
  eval?: { every: number; batches: number; trainBatches?: number; atStart?: boolean; keepBatches?: boolean };
  /** a caller's own metrics at every evaluation (a stage's held-out scores), given all the weights */
  evaluate?: (params: ReadonlyMap<string, Float32Array>) => Promise<Record<string, number>>;
  /** batches carry positions and segmentIds: packed examples do not attend to each other */
  packed?: boolean;
  /** weights that stay as `init` has them (required there): fed as inputs, no gradient, no optimizer state */
  frozen?: ReadonlySet<string>;
  /** data order, init and dropout; default 1337 */
  seed?: number;
  threads?: number;
  /** starting weights (CPT, fine-tuning) by HF name; default: random init from the seed */
  init?: ReadonlyMap<string, Float32Array>;
  /** the loss; default next-token cross-entropy over loss_mask */
  objective?: Objective;
  /** resume snapshots every `every` steps and when aborted; loaded at start if one exists */
  snapshots?: { every: number; store: SnapshotStore };
  /** aborted: stop at the next step boundary, snapshot, throw TrainingInterrupted */
  signal?: AbortSignal;
  onEvent?: (e: TrainEvent) => void;
  /** a progress bar on stderr; "auto" = when stderr is a terminal (default) */
  progressBar?: boolean | "auto";
}

export interface TrainMetrics {
  trainLoss: number; // last evaluation's estimate (mean of the last steps if none)
  valLoss: number;
  tokensPerSec: number; // from the median step time
  msPerIter: number; // median wall time of an optimizer step, evaluation excluded
  tokens: number; // tokens trained on, resumed part included
  params: number;
  steps: number;
  wallMs: number; // this call, compile and evaluation included
}

export interface TrainResult {
  params: Map<string, Float32Array>;
  optimizerState: Map<string, Float32Array>;
  step: number;
  curve: CurvePoint[];
  evals: EvalPoint[];
  metrics: TrainMetrics;
  /** wall ms of each step run by this call */
  stepMs: number[];
  resumedFrom: number | null;
}

export class TrainingInterrupted extends Error {
  override name = "TrainingInterrupted";
  constructor(
    readonly step: number,
    readonly snapshotSaved: boolean,
  ) {
    super(
      `training stopped at step ${step} because it was asked to (abort signal)${snapshotSaved ? "; a resume snapshot was saved" : ""}`,
    );
  }
}

/** The loss became NaN or infinite: retrying the same settings gives the same result. */
export class TrainingDiverged extends Error {
  override name = "TrainingDiverged";
  constructor(
    readonly step: number,
    readonly loss: number,
    readonly lr: number,
    readonly gradNorm: number,
  ) {
    super(
      `training step ${step}: loss is ${loss} (lr ${lr.toExponential(3)}, grad norm ${gradNorm}); lower the learning rate, raise the warmup, or check the data`,
    );
  }
}

const median = (xs: number[]): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

export async function trainLanguageModel(o: TrainLanguageModelOptions): Promise<TrainResult> {
  const t0 = performance.now();
  const cfg = checkModelConfig(o.model);
  const seq = o.seq ?? cfg.blockSize;
  const accum = o.accumSteps ?? 1;
  const seed = o.seed ?? 1337;
  const threads = o.threads ?? 2;
  const opt: OptimizerSettings = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, ...o.optimizer };
  const clipNorm = o.clipNorm ?? 1.0;
  const evalCfg = o.eval ?? { every: 0, batches: 0 };
  checkSchedule(o.schedule);
  if (!Number.isInteger(o.iters) || o.iters < 0)
    throw new TrainingSetupInvalid(`trainLanguageModel: iters must be an integer >= 0, got ${o.iters}`);
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1)
    throw new TrainingSetupInvalid(`trainLanguageModel: batchSize must be a positive integer, got ${o.batchSize}`);
  if (seq > cfg.blockSize)
    throw new TrainingSetupInvalid(
      `trainLanguageModel: seq ${seq} is longer than the model's block size ${cfg.blockSize}`,
    );
  const packed = o.packed ?? false;
  const frozenNames = [...(o.frozen ?? [])].sort();
  const frozen: Record<string, Float32Array> = {};
  for (const name of frozenNames) {
    const w = o.init?.get(name);
    if (!w)
      throw new TrainingSetupInvalid(
        `trainLanguageModel: frozen weight ${name} has no value in init; pass the starting checkpoint's weights as init`,
      );
    frozen[name] = w;
  }
  // everything that shapes the weights' trajectory: a snapshot taken under another plan is refused
  const plan: Record<string, unknown> = {
    model: cfg,
    batchSize: o.batchSize,
    seq,
    accumSteps: accum,
    seed,
    schedule: o.schedule,
    optimizer: opt,
    clipNorm,
    eval: evalCfg,
    packed,
    frozen: frozenNames,
  };
  const trainable = (m: ReadonlyMap<string, Float32Array>) => new Map([...m].filter(([k]) => !(k in frozen)));

  const { trace, loss } = traceTraining(cfg, {
    batch: o.batchSize,
    seq,
    packed,
    frozen: new Set(frozenNames),
    ...(o.objective ? { objective: o.objective } : {}),
  });
  const step: TrainStep = await compileTrainStep({
    graph: trace.g,
    loss,
    optimizer: adamw(opt),
    ...(clipNorm > 0 ? { clipNorm } : {}),
    accumSteps: accum,
    seed,
    threads,
  });
  const evaluator =
    evalCfg.batches > 0
      ? await Evaluator.compile(cfg, {
          batch: o.batchSize,
          seq,
          threads,
          packed,
          ...(o.objective ? { objective: o.objective } : {}),
        })
      : null;
  /**
   * Every weight, trained and frozen, by HF name: copies, or views of the step's own buffer (valid
   * until its next run; what evaluation reads, and the result once training is over).
   */
  const allParams = (views = false): Map<string, Float32Array> => {
    const out = views ? step.paramViews() : step.params();
    for (const [k, v] of Object.entries(frozen)) out.set(k, v);
    return out;
  };
  const bar =
    o.progressBar === true || ((o.progressBar ?? "auto") === "auto" && process.stderr.isTTY) ? new ProgressBar() : null;
  const emit = (e: TrainEvent) => {
    bar?.onEvent(e);
    o.onEvent?.(e);
  };

  try {
    let done = 0;
    let tokensSeen = 0;
    let curve: CurvePoint[] = [];
    let evals: EvalPoint[] = [];
    let resumedFrom: number | null = null;
    const snap = o.snapshots ? await o.snapshots.store.load() : null;
    if (snap) {
      const diff = planDifferences(snap.plan, plan);
      if (diff.length > 0)
        throw new TrainingSetupInvalid(
          `resume snapshot at step ${snap.step} was taken with other settings; start a new run or restore them:\n  ${diff.join("\n  ")}`,
        );
      step.loadParams(trainable(snap.params));
      step.loadOptimizerState(snap.optimizer);
      ({ step: done, tokensSeen, curve, evals } = snap);
      resumedFrom = done;
    } else if (o.init) {
      step.loadParams(trainable(o.init));
    }
    const tokensPerStep = o.batchSize * seq * accum;
    emit({
      type: "start",
      step: done,
      totalSteps: o.iters,
      params: step.layout.total,
      tokensPerStep,
      resumed: snap !== null,
    });

    const takeSnapshot = async (): Promise<void> => {
      if (!o.snapshots) return;
      const s: TrainerSnapshot = {
        step: done,
        params: allParams(),
        optimizer: step.optimizerState(),
        seed,
        tokensSeen,
        curve: [...curve],
        evals: [...evals],
        plan,
      };
      await o.snapshots.store.save(s);
      emit({ type: "snapshot", step: done });
    };
    const evaluate = async (): Promise<void> => {
      if (!evaluator && !o.evaluate) return;
      if (evals.some((e) => e.step === done)) return;
      let valLoss = NaN;
      let trainLoss = NaN;
      let valBatches: { sum: number; count: number }[] | undefined;
      if (evaluator) {
        const weights = allParams(true); // nothing trains while the evaluator reads them
        valBatches = await evaluator.batchLosses(weights, evalCfg.batches, (k) => o.data.val(k));
        valLoss = pooledLoss(valBatches);
        const evalSeed = (seed ^ 0x6576616c) >>> 0; // windows of the train split the steps do not draw from
        trainLoss = await evaluator.meanLoss(weights, evalCfg.trainBatches ?? evalCfg.batches, (k) =>
          o.data.train(evalSeed, k),
        );
      }
      const metrics = o.evaluate ? await o.evaluate(allParams()) : undefined;
      evals.push({
        step: done,
        valLoss,
        trainLoss,
        ...(metrics ? { metrics } : {}),
        ...(evalCfg.keepBatches && valBatches ? { valBatches } : {}),
      });
      emit({ type: "eval", step: done, totalSteps: o.iters, valLoss, trainLoss, ...(metrics ? { metrics } : {}) });
    };

    if (evalCfg.every > 0 && done === 0 && (evalCfg.atStart ?? true)) await evaluate();
    const stepMs: number[] = [];
    let ema = NaN;
    while (done < o.iters) {
      if (o.signal?.aborted) {
        await takeSnapshot();
        throw new TrainingInterrupted(done, o.snapshots !== undefined);
      }
      const t = done + 1;
      const lr = learningRate(t, o.schedule);
      const ts = performance.now();
      const micro: Feeds[] = [];
      for (let k = 0; k < accum; k++) {
        const feeds = batchFeeds(
          await o.data.train(seed, done * accum + k),
          { batch: o.batchSize, seq, vocab: cfg.vocabSize, packed },
          `training step ${t}, micro-batch ${k}`,
        );
        micro.push({ ...frozen, ...declaredFeeds(feeds, step.userInputs) });
      }
      const r = await step.run(accum === 1 ? (micro[0] as Feeds) : micro, { lr, step: t });
      if (!Number.isFinite(r.loss)) throw new TrainingDiverged(t, r.loss, lr, r.gradNorm);
      const ms = performance.now() - ts;
      stepMs.push(ms);
      done = t;
      tokensSeen += tokensPerStep;
      curve.push({ step: t, loss: r.loss, lr, gradNorm: r.gradNorm });
      ema = Number.isNaN(ema) ? ms : 0.9 * ema + 0.1 * ms;
      emit({
        type: "step",
        step: t,
        totalSteps: o.iters,
        loss: r.loss,
        lr,
        gradNorm: r.gradNorm,
        msPerIter: ema,
        tokensPerSec: (tokensPerStep / ema) * 1000,
        etaSec: ((o.iters - t) * ema) / 1000,
      });
      if (evalCfg.every > 0 && t % evalCfg.every === 0) await evaluate();
      if (o.snapshots && o.snapshots.every > 0 && t % o.snapshots.every === 0 && t < o.iters) await takeSnapshot();
    }
    await evaluate(); // always at the end

    const last = evals.at(-1);
    const tail = curve.slice(-Math.min(50, curve.length)).map((c) => c.loss);
    const msPerIter = median(stepMs.length > 2 ? stepMs.slice(2) : stepMs); // the first steps pay for warm-up
    const wallMs = performance.now() - t0;
    emit({ type: "done", step: done, wallMs });
    return {
      // the step's own buffers, not copies (1.5 GB at gpt2-124m): it is disposed below and trains no more
      params: allParams(true),
      optimizerState: step.optimizerStateViews(),
      step: done,
      curve,
      evals,
      metrics: {
        trainLoss:
          last && Number.isFinite(last.trainLoss)
            ? last.trainLoss
            : tail.reduce((a, b) => a + b, 0) / Math.max(tail.length, 1),
        valLoss: last?.valLoss ?? NaN, // NaN when only the caller's metrics are evaluated
        tokensPerSec: (tokensPerStep / msPerIter) * 1000,
        msPerIter,
        tokens: tokensSeen,
        params: step.layout.total,
        steps: done,
        wallMs,
      },
      stepMs,
      resumedFrom,
    };
  } finally {
    await step.dispose();
    await evaluator?.dispose();
  }
}
