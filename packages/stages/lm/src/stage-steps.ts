// The steps every LM stage shares, so a stage's index.ts reads as its recipe: start from the input
// checkpoint, open a session on it, train, then write the checkpoint and its stage report.

import { BatonError, type DatasetRef, type Metrics } from "@baton/contracts";
import { DatasetError, type DatasetReport } from "@baton/data";
import { TrainingSetupInvalid } from "@baton/model";
import type { StageContext, TrainResult } from "@baton/runner";
import type { DataAccess, Store } from "@baton/store";
import { type LoadedModel, loadModel, saveModel, writeStageReport } from "./checkpoint-io.ts";
import { LmSession, type OptimConfig } from "./session.ts";
import type { DatasetCounts, SampleBeforeAfter, StageReport } from "./stage-report.ts";
import type { LoopResult } from "./train-loop.ts";

/** What a service gives the stages it runs. */
export interface StageDeps {
  /** The relay's store: s3:// datasets are read through it. */
  store?: Store;
  /** Where datasets may be read from (the service's policy); unchecked when absent. */
  dataAccess?: DataAccess;
  /** onnxruntime intra-op threads (default 2). */
  threads?: number;
}

/** The input checkpoint's model; a stage that needs one fails clearly on random init. */
export async function startFrom(ctx: StageContext): Promise<LoadedModel> {
  if (!ctx.input) {
    throw BatonError.fatal(
      "CONFIG_INVALID",
      `recipe step "${ctx.step.name}" (${ctx.step.stage}) starts from the previous step's checkpoint, but it is step ${ctx.cursor} with no input; put a pretrain step before it`,
    );
  }
  return loadModel(ctx.input.dir, `input checkpoint ${ctx.input.ref.uri}`);
}

/** A session holding the model's weights, ready to train. */
export async function openSession(
  model: LoadedModel,
  o: { batchSize: number; optim: OptimConfig; seed: number; threads?: number; trainable?: (name: string) => boolean },
): Promise<LmSession> {
  const session = await LmSession.create({
    config: model.config,
    batchSize: o.batchSize,
    optim: o.optim,
    seed: o.seed,
    threads: o.threads ?? 2,
    trainable: o.trainable,
  });
  if (model.weights.size > 0) session.loadWeights(model.weights);
  return session;
}

/** A session for a stage whose config has train.batchSize and optim: seeded by the run. */
export function trainingSession(
  ctx: StageContext,
  model: LoadedModel,
  cfg: { train: { batchSize: number }; optim: OptimConfig },
  o: { threads?: number; trainable?: (name: string) => boolean },
): Promise<LmSession> {
  return openSession(model, {
    batchSize: cfg.train.batchSize,
    optim: cfg.optim,
    seed: ctx.seed,
    threads: o.threads,
    trainable: o.trainable,
  });
}

/**
 * Runs `fn`, turning dataset errors (bad lines under policy fail, a missing file, an unknown format)
 * into fatal relay errors: retrying can not fix the data, so the event is dead-lettered with the reason.
 */
export async function readingData<T>(step: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof DatasetError || err instanceof TrainingSetupInvalid)
      throw BatonError.fatal("DATASET_INVALID", `recipe step "${step}": ${err.message}`, err);
    throw err;
  }
}

export function datasetCounts(reports: readonly DatasetReport[]): DatasetCounts[] {
  return reports.map((r) => ({
    uri: r.uri,
    sha256: r.sha256,
    records: r.records,
    skipped: r.skipped,
    errors: r.errors.slice(0, 10),
  }));
}

export interface Finish {
  model: LoadedModel;
  session: LmSession;
  run: LoopResult;
  effect: StageReport["effect"];
  samples: SampleBeforeAfter[];
  datasets: DatasetCounts[];
  implementation: string;
  startedAt: number;
  /** Extra metrics for the manifest. */
  metrics?: Metrics;
}

/** Writes the trained model and stage-report.json into ctx.outputDir; returns the manifest's metrics. */
export async function finish(ctx: StageContext, f: Finish): Promise<TrainResult> {
  await saveModel(ctx.outputDir, { ...f.model, weights: f.session.weights() });
  const report: StageReport = {
    stage: ctx.step.stage,
    step: ctx.step.name,
    implementation: f.implementation,
    curve: f.run.curve,
    evals: f.run.evals,
    effect: f.effect,
    samples: f.samples,
    datasets: f.datasets,
    seconds: (performance.now() - f.startedAt) / 1000,
  };
  await writeStageReport(ctx.outputDir, report);
  await f.session.dispose();
  const metrics: Metrics = { ...f.metrics, tokens_per_s: f.run.tokensPerSecond, train_steps: f.run.curve.length };
  const last = f.run.curve.at(-1);
  if (last) metrics.train_loss = last.loss;
  for (const [k, v] of Object.entries(f.effect)) {
    metrics[k] = v.after;
    if (v.before !== null) metrics[`${k}_before`] = v.before;
  }
  for (const d of f.datasets) metrics.skipped_records = (metrics.skipped_records ?? 0) + d.skipped;
  const datasets: DatasetRef[] = f.datasets.map((d) => ({ uri: d.uri, sha256: d.sha256 }));
  return { metrics, datasets };
}
