// Public surface of @baton/stage-kit. See ../API.md.
export type * from "./contracts/types.gen.ts";
export { createEvent, decodeEvent, encodeEvent, validateEvent, isValidEvent, expectType, EVENT_TYPES } from "./contracts/events.ts";
export type { BatonEvent, EventType, NewEvent } from "./contracts/events.ts";
export { assertValid, violations, SCHEMA_FILES } from "./contracts/validate.ts";
export type { ContractName, Violation } from "./contracts/validate.ts";
export { parseRecipe } from "./contracts/recipe.ts";
export { SCHEMAS_DIR } from "./contracts/schemas.ts";

export { STREAM, STREAM_SUBJECTS, subjects, subjectFor, durableName, KV_BUCKETS, ledgerKey, latestKey, msgId, HEADERS } from "./subjects.ts";
export { BatonError, isBatonError, toBatonError } from "./errors.ts";
export type { BatonErrorCode, Disposition } from "./errors.ts";

export type { Bus, BusSettings, Delivery, DurableConsumer, Observed, PublishAck, PublishOptions, Unwatch } from "./bus/bus.ts";
export { DEFAULT_BUS_SETTINGS } from "./bus/bus.ts";
export { MemoryBus } from "./bus/memory.ts";
export { NatsBus, connectNats, natsAuthFromEnv } from "./bus/nats.ts";
export type { NatsAuth, NatsBusOptions } from "./bus/nats.ts";
export type { Store, PutResult, Expected } from "./store/store.ts";
export { FsStore } from "./store/fs.ts";
export { S3Store } from "./store/s3.ts";
export type { S3StoreOptions } from "./store/s3.ts";
export { sha256Hex } from "./store/digest.ts";
export { keys, assertKey, snapshotStepOf, MANIFEST_FILE, DATASET_MANIFEST_FILE } from "./keys.ts";
export { pushDataset, readDatasetManifest } from "./dataset/push.ts";
export type { PushOptions, PushResult } from "./dataset/push.ts";
export type { Ledger, LedgerRecord, CommitResult, LatestCheckpoint } from "./ledger/ledger.ts";
export { latestCheckpoint } from "./ledger/latest.ts";
export { KvState } from "./ledger/kv-state.ts";
export type { Versioned } from "./ledger/kv-state.ts";
export { MemoryLedger } from "./ledger/memory.ts";
export { NatsLedger } from "./ledger/nats.ts";
export { commitCheckpoint, openCheckpoint, readManifest, lineage } from "./checkpoint/checkpoint.ts";
export type { ManifestDraft, CommittedCheckpoint, OpenedCheckpoint, LineageHop } from "./checkpoint/checkpoint.ts";

export type { RetryPolicy } from "./runner/retry.ts";
export { DEFAULT_RETRY, backoffFor } from "./runner/retry.ts";
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
} from "./runner/types.ts";
export { runStage, serveStage, startRun, awaitRun, ensureStepConsumers } from "./runner/run.ts";
export type { ServeStageOptions, StageService, StartRunOptions } from "./runner/run.ts";
export { emitNext, defaultWorker } from "./runner/relay.ts";
export { findGarbage, collectGarbage } from "./runner/gc.ts";
export type { Garbage, GcOptions } from "./runner/gc.ts";
export { sweepWorkRoot } from "./runner/attempts.ts";
export { firstEvent, tail, checkpointAt } from "./runner/first-event.ts";
export type { RunStart } from "./runner/first-event.ts";
export { composeObservers } from "./runner/observe.ts";
export { RunStatus } from "./runner/run-status.ts";
export type { RunSummary, StepStatus } from "./runner/run-status.ts";
export { jsonLogger, withFields, silentLogger } from "./runner/log.ts";
export { isLastAttempt } from "./runner/retry.ts";
export { stageEnv } from "./env.ts";
export { createRedactor, isSecretName, redactor, redactStandardStreams, redactText, REDACTED } from "./redact.ts";
export type { Redactor } from "./redact.ts";
export { allowLocations, anyLocation, canonicalLocation, dataAccessFor, storeLocation } from "./access.ts";
export type { DataAccess } from "./access.ts";
export type { StageEnv } from "./env.ts";
// A deterministic stage for relay tests (tests/ runs it as separate processes).
export { countingStage, expectedWeights, readWeights, trainStep as countingTrainStep } from "./runner/counting-stage.ts";
export type { CountingStageOptions } from "./runner/counting-stage.ts";
export { publishEvent, subjectOf } from "./publish.ts";

// The HTTP face and telemetry every service carries (see src/http and src/telemetry).
export * from "./http/index.ts";
export * from "./telemetry/index.ts";
