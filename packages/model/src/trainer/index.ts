import { fileURLToPath } from "node:url";
export { trainLanguageModel, TrainingInterrupted, TrainingDiverged } from "./train.ts";
export { TrainingSetupInvalid } from "./errors.ts";
export type { TrainLanguageModelOptions, TrainResult, TrainMetrics, OptimizerSettings } from "./train.ts";
export { learningRate, checkSchedule } from "./schedule.ts";
export type { LrSchedule } from "./schedule.ts";
export { TokenWindows } from "./batches.ts";
export type { BatchSource, LmBatch } from "./batches.ts";
export { encodeSnapshot, decodeSnapshot, readSnapshotDir, folderSnapshots, stageSnapshots, planDifferences, SNAPSHOT_FILES } from "./snapshot.ts";
export type { TrainerSnapshot, SnapshotStore, CurvePoint, EvalPoint } from "./snapshot.ts";
export { ProgressBar, formatDuration, formatRate, stageProgress } from "./progress.ts";
export type { TrainEvent } from "./progress.ts";
export { Evaluator, pooledLoss } from "./evaluate.ts";
export { batchFeeds, declaredFeeds } from "./feeds.ts";
export { saveModelFolder, loadModelFolder, toCheckpointTensors, readTrainerState } from "./folder.ts";
export type { ModelFolder } from "./folder.ts";
export { preparePretraining, prepareTokenizer } from "./pretrain.ts";
export type { PreparedPretraining, PretrainOverrides, TokenizerChoice } from "./pretrain.ts";
/** The PyTorch KV-cache sampler that `baton bench rollout` runs beside Baton's (python3 with torch). */
export const KV_SAMPLER_SCRIPT = fileURLToPath(new URL("./baseline/kv_sampler.py", import.meta.url));
/** nanoGPT's training loop restated for CPU timing (python3 with torch): the PyTorch side of `baton bench compare`. */
export const NANOGPT_EQUIVALENT_SCRIPT = fileURLToPath(new URL("./baseline/nanogpt_equivalent.py", import.meta.url));
