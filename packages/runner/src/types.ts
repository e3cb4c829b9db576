import type { Bus } from "@baton/bus";
import type {
  BatonError,
  BatonEvent,
  CheckpointManifest,
  CheckpointReadyData,
  CheckpointRef,
  DatasetRef,
  InputRef,
  Metrics,
  RecipeStep,
  RetryPolicy,
} from "@baton/contracts";
import type { DataAccess, Store } from "@baton/store";
import type { Ledger } from "./ledger/ledger.ts";

/** What a stage package provides: its identity and its training function. */
export interface StageDefinition {
  /** Stage kind this service runs (must equal pipeline[cursor].stage). */
  stage: string;
  /** Implementation name and version, recorded in every manifest (swap one by deploying another). */
  implementation: string;
  version: string;
  /**
   * Trains one step. Writes the output checkpoint's files into ctx.outputDir (model.safetensors,
   * config.json, tokenizer.json, ...; not manifest.json) and returns metrics. On ctx.signal abort it
   * stops at the next step boundary, saves a snapshot, and throws (any error; the runner naks).
   */
  train(ctx: StageContext): Promise<TrainResult>;
  /**
   * Every problem of a step that needs no training to find (its config through the stage's strict
   * loader, cross-key rules, data roles), so a whole recipe is refused before anything is published.
   * Each problem starts with its JSON path under the step ("/config/train/stpes: unknown key") or
   * names it; [] when the step is good. train() must run the same checks first (fatal errors).
   */
  validate?(step: RecipeStep): string[];
}

export interface TrainResult {
  metrics?: Metrics;
  /** Datasets read, with the sha256 of the bytes read (recorded in the manifest for lineage). */
  datasets?: DatasetRef[];
  /** Checkpoints read besides the input (ctx.openCheckpoint), with their roles: the manifest's `inputs`. */
  inputs?: InputRef[];
}

export interface StageContext {
  runId: string;
  cursor: number;
  /** pipeline[cursor]: the routing-slip step being run (name, stage, config, data). */
  step: RecipeStep;
  pipeline: RecipeStep[];
  recipe: string;
  /** Seed of the run (from the event; 0 when absent). */
  seed: number;
  /** Input checkpoint, downloaded and verified; null = start from random init. */
  input: InputCheckpoint | null;
  /** The committed checkpoint of an earlier step of this run, by step name (null: not committed). */
  stepCheckpoint(step: string): Promise<CheckpointRef | null>;
  /** Downloads and verifies another checkpoint into this attempt's folder (a second parent). */
  openCheckpoint(ref: CheckpointRef): Promise<InputCheckpoint>;
  /** Empty folder for the output checkpoint's files. */
  outputDir: string;
  /** Scratch folder for this attempt (removed afterwards). */
  workdir: string;
  /** 1 on the first delivery. */
  attempt: number;
  /** Reports progress: published as stage.progress at most every progressIntervalMs; observers see every call. */
  progress(p: Progress): void;
  snapshot: SnapshotApi;
  /** Aborted on SIGTERM (or stop()): stop at the next step boundary, snapshot, throw. */
  signal: AbortSignal;
  log: Logger;
}

export interface InputCheckpoint {
  ref: CheckpointRef;
  manifest: CheckpointManifest;
  /** Local folder holding every file of the manifest, each verified against its sha256. */
  dir: string;
}

export interface Progress {
  trainStep: number;
  totalSteps?: number;
  metrics?: Metrics;
}

/** Resume snapshots under runs/<runId>/<cursor>/_resume/<trainStep>/. */
export interface SnapshotApi {
  /** Uploads files (name -> local path or bytes) as the snapshot at trainStep; the newest wins on resume. */
  save(trainStep: number, files: Record<string, string | Uint8Array>): Promise<void>;
  /** The newest complete snapshot, downloaded and verified into a local folder, or null. */
  latest(): Promise<Snapshot | null>;
}

export interface Snapshot {
  trainStep: number;
  dir: string;
  files: string[];
}

export interface Logger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export type Phase = "download" | "resume" | "train" | "upload" | "commit" | "emit";

/**
 * Hooks for metrics, tracing and the HTTP face; the runner never imports them. onWork is called once
 * per delivery, before the event is decoded; the returned WorkObserver follows that delivery.
 */
export interface StageObserver {
  onWork?(work: WorkInfo): WorkObserver | undefined;
}

export interface WorkInfo {
  step: string;
  stage: string;
  subject: string;
  /** Message headers as received (trace context to extract). */
  headers: Record<string, string>;
  deliveryCount: number;
  receivedAt: number;
}

export interface WorkObserver {
  /** The decoded, validated event. */
  onEvent?(event: BatonEvent<"dev.baton.checkpoint.ready">): void;
  /** Wraps each phase (e.g. in a span made active for its duration). Must call and return fn(). */
  phase?<T>(phase: Phase, fn: () => Promise<T>): Promise<T>;
  /** Timing of each phase, measured by the runner. bytes: moved through the store in that phase. */
  onPhase?(r: { phase: Phase; durationMs: number; ok: boolean; bytes?: number }): void;
  onProgress?(p: Progress): void;
  /** Extra headers for every message published during this work (W3C traceparent/tracestate). */
  headers?(): Record<string, string>;
  /** Trace id to record in the manifest. */
  traceId?(): string | null;
  onEnd?(outcome: StageOutcome): void;
}

/** What happened to one delivery. */
export type StageOutcome =
  | {
      kind: "committed";
      runId: string;
      cursor: number;
      checkpoint: CheckpointRef;
      next: "checkpoint.ready" | "run.completed";
      durationMs: number;
    }
  | { kind: "already-committed"; runId: string; cursor: number; checkpoint: CheckpointRef; durationMs: number }
  | {
      kind: "retry";
      runId: string | null;
      cursor: number | null;
      error: BatonError;
      delayMs: number;
      durationMs: number;
    }
  | { kind: "dead-lettered"; runId: string | null; cursor: number | null; error: BatonError; durationMs: number }
  | { kind: "interrupted"; runId: string; cursor: number; durationMs: number };

export interface RunStageOptions extends StageDefinition {
  /** Step name whose consumer this worker pulls from. */
  step: string;
  bus: Bus;
  store: Store;
  ledger: Ledger;
  /** Local folder for downloads and outputs (default: os tmpdir). */
  workRoot?: string;
  /** Worker id for events and the ledger (default: hostname:pid). */
  worker?: string;
  retry?: RetryPolicy;
  /** Min interval between stage.progress publishes (default 1000 ms). */
  progressIntervalMs?: number;
  /** How long one pull waits for a message (default 5000 ms). */
  pullExpiresMs?: number;
  observer?: StageObserver;
  logger?: Logger;
  /** Where the event's datasets and checkpoint may be (default: the store's own location only). */
  dataAccess?: DataAccess;
  /** Aborts the current train() (SIGTERM is wired by serveStage({ handleSignals: true })). */
  signal?: AbortSignal;
}

export type { CheckpointReadyData };
