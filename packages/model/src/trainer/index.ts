import { fileURLToPath } from "node:url";

export type { BatchSource, LmBatch } from "./batches.ts";
export { TokenWindows } from "./batches.ts";
export { TrainingSetupInvalid } from "./errors.ts";
export { Evaluator, pooledLoss } from "./evaluate.ts";
export { batchFeeds, declaredFeeds } from "./feeds.ts";
export type { ModelFolder } from "./folder.ts";
export { loadModelFolder, readTrainerState, saveModelFolder, toCheckpointTensors } from "./folder.ts";
export type { PreparedPretraining, PretrainOverrides, TokenizerChoice } from "./pretrain.ts";
export { preparePretraining, prepareTokenizer } from "./pretrain.ts";
export type { TrainEvent } from "./progress.ts";
export { formatDuration, formatRate, ProgressBar, stageProgress } from "./progress.ts";
export type { LrSchedule } from "./schedule.ts";
export { checkSchedule, learningRate } from "./schedule.ts";
export type { CurvePoint, EvalPoint, SnapshotStore, TrainerSnapshot } from "./snapshot.ts";
export {
  decodeSnapshot,
  encodeSnapshot,
  folderSnapshots,
  planDifferences,
  readSnapshotDir,
  SNAPSHOT_FILES,
  stageSnapshots,
} from "./snapshot.ts";
export type { OptimizerSettings, TrainLanguageModelOptions, TrainMetrics, TrainResult } from "./train.ts";
export { TrainingDiverged, TrainingInterrupted, trainLanguageModel } from "./train.ts";
/** The PyTorch KV-cache sampler that `baton bench rollout` runs beside Baton's (python3 with torch). */
export const KV_SAMPLER_SCRIPT = fileURLToPath(new URL("./baseline/kv_sampler.py", import.meta.url));
/** nanoGPT's training loop restated for CPU timing (python3 with torch): the PyTorch side of `baton bench compare`. */
export const NANOGPT_EQUIVALENT_SCRIPT = fileURLToPath(new URL("./baseline/nanogpt_equivalent.py", import.meta.url));
