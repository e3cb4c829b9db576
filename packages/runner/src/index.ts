// Public surface of @baton/runner: the relay every stage service runs (ledger, checkpoints, snapshots, retries, runs).

export { sweepWorkRoot } from "./attempts.ts";
export type { CommittedCheckpoint, LineageHop, ManifestDraft, OpenedCheckpoint } from "./checkpoint/checkpoint.ts";
export { commitCheckpoint, lineage, openCheckpoint, readManifest } from "./checkpoint/checkpoint.ts";
export type { PushOptions, PushResult } from "./dataset/push.ts";
export { pushDataset, readDatasetManifest } from "./dataset/push.ts";
export type { StageEnv } from "./env.ts";
export { stageEnv } from "./env.ts";
export type { RunStart } from "./first-event.ts";
export { checkpointAt, firstEvent, tail } from "./first-event.ts";
export type { Garbage, GcOptions } from "./gc.ts";
export { collectGarbage, findGarbage } from "./gc.ts";
export { latestCheckpoint } from "./ledger/latest.ts";
export type { CommitResult, LatestCheckpoint, Ledger, LedgerRecord } from "./ledger/ledger.ts";
export { MemoryLedger } from "./ledger/memory.ts";
export { NatsLedger } from "./ledger/nats.ts";
export { jsonLogger, silentLogger, withFields } from "./log.ts";
export type { JsonLogger, JsonLoggerOptions, LogContext, LogLevel } from "./logger.ts";
export { createLogger, redact, secretsFromEnv } from "./logger.ts";
export { composeObservers } from "./observe.ts";
export { defaultWorker, emitNext } from "./relay.ts";
export type { ServeStageOptions, StageService, StartRunOptions } from "./run.ts";
export { awaitRun, ensureStepConsumers, runStage, serveStage, startRun } from "./run.ts";
export type { RunSummary, StepStatus } from "./run-status.ts";
export { RunStatus } from "./run-status.ts";
export type {
  InputCheckpoint,
  Logger,
  Phase,
  Progress,
  RunStageOptions,
  Snapshot,
  SnapshotApi,
  StageContext,
  StageDefinition,
  StageObserver,
  StageOutcome,
  TrainResult,
  WorkInfo,
  WorkObserver,
} from "./types.ts";
