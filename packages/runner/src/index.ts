// Public surface of @baton/runner: the relay every stage service runs (ledger, checkpoints, snapshots, retries, runs).
export { pushDataset, readDatasetManifest } from "./dataset/push.ts";
export type { PushOptions, PushResult } from "./dataset/push.ts";
export type { Ledger, LedgerRecord, CommitResult, LatestCheckpoint } from "./ledger/ledger.ts";
export { latestCheckpoint } from "./ledger/latest.ts";
export { MemoryLedger } from "./ledger/memory.ts";
export { NatsLedger } from "./ledger/nats.ts";
export { commitCheckpoint, openCheckpoint, readManifest, lineage } from "./checkpoint/checkpoint.ts";
export type { ManifestDraft, CommittedCheckpoint, OpenedCheckpoint, LineageHop } from "./checkpoint/checkpoint.ts";
export type {
  StageDefinition,
  StageContext,
  TrainResult,
  InputCheckpoint,
  Progress,
  SnapshotApi,
  Snapshot,
  Logger,
  Phase,
  StageObserver,
  WorkInfo,
  WorkObserver,
  StageOutcome,
  RunStageOptions,
} from "./types.ts";
export { runStage, serveStage, startRun, awaitRun, ensureStepConsumers } from "./run.ts";
export type { ServeStageOptions, StageService, StartRunOptions } from "./run.ts";
export { emitNext, defaultWorker } from "./relay.ts";
export { findGarbage, collectGarbage } from "./gc.ts";
export type { Garbage, GcOptions } from "./gc.ts";
export { sweepWorkRoot } from "./attempts.ts";
export { firstEvent, tail, checkpointAt } from "./first-event.ts";
export type { RunStart } from "./first-event.ts";
export { composeObservers } from "./observe.ts";
export { RunStatus } from "./run-status.ts";
export type { RunSummary, StepStatus } from "./run-status.ts";
export { jsonLogger, withFields, silentLogger } from "./log.ts";
export { stageEnv } from "./env.ts";
export type { StageEnv } from "./env.ts";
export { createLogger, redact, secretsFromEnv } from "./logger.ts";
export type { JsonLogger, JsonLoggerOptions, LogContext, LogLevel } from "./logger.ts";
