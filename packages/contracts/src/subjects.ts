/**
 * The ONE module that names things on NATS: subjects, the stream, durable consumers, KV buckets and
 * message ids. Nothing else in Baton spells a subject.
 *
 *   baton.checkpoint.ready.<step>   work for the step named <step> (one durable consumer per name)
 *   baton.stage.started.<step>      a worker took it
 *   baton.stage.progress.<step>     training progress (throttled)
 *   baton.stage.failed.<step>       an attempt failed (retry or fatal)
 *   baton.run.completed             the last step committed
 *   baton.dataset.updated.<name>    new data for a named dataset
 *   baton.feedback.ready            enough new human rankings
 *   baton.bucket.notifications      the object store's own S3 event records (MinIO -> NATS), by default
 *   baton.dlq.<step>                dead letters: the original event plus the reason (headers)
 */
import type { EventType } from "./events.ts";

export const STREAM = "BATON";
/** Everything Baton publishes lives under this root, captured by the one stream. */
const ROOT = "baton.>";
export const STREAM_SUBJECTS = [ROOT];

export const subjects = {
  checkpointReady: (step: string) => `baton.checkpoint.ready.${token(step, "step")}`,
  stageStarted: (step: string) => `baton.stage.started.${token(step, "step")}`,
  stageProgress: (step: string) => `baton.stage.progress.${token(step, "step")}`,
  stageFailed: (step: string) => `baton.stage.failed.${token(step, "step")}`,
  runCompleted: () => "baton.run.completed",
  datasetUpdated: (dataset: string) => `baton.dataset.updated.${token(dataset, "dataset")}`,
  feedbackReady: () => "baton.feedback.ready",
  deadLetter: (step: string) => `baton.dlq.${token(step, "step")}`,
  /** The default subject MinIO publishes its bucket notifications to (MINIO_NOTIFY_NATS_SUBJECT). */
  bucketNotifications: () => "baton.bucket.notifications",
  /** Wildcards for watchers and the trigger's consumers. */
  allDatasetUpdated: () => "baton.dataset.updated.*",
  allStage: () => "baton.stage.>",
  allStageProgress: () => "baton.stage.progress.*",
  allStageFailed: () => "baton.stage.failed.*",
  allDeadLetters: () => "baton.dlq.>",
  /** Every subject of the stream: what a console or `baton status --follow` watches. */
  all: () => ROOT,
} as const;

/** Whether a subject is a dead letter (baton.dlq.<step>). */
export const isDeadLetter = (subject: string): boolean => subject.startsWith("baton.dlq.");

/** Subject for an event of `type` concerning `step` (or dataset name for dataset.updated). */
export function subjectFor(type: EventType, step: string): string {
  switch (type) {
    case "dev.baton.checkpoint.ready":
      return subjects.checkpointReady(step);
    case "dev.baton.stage.started":
      return subjects.stageStarted(step);
    case "dev.baton.stage.progress":
      return subjects.stageProgress(step);
    case "dev.baton.stage.failed":
      return subjects.stageFailed(step);
    case "dev.baton.run.completed":
      return subjects.runCompleted();
    case "dev.baton.dataset.updated":
      return subjects.datasetUpdated(step);
    case "dev.baton.feedback.ready":
      return subjects.feedbackReady();
  }
}

/** Durable pull consumer that serves one step name. */
export function durableName(step: string): string {
  return `step-${token(step, "step")}`;
}

/**
 * NATS KV buckets. ledger: <runId>.<cursor> -> committed step; emitted: <runId>.<cursor> -> the
 * committed step's next event was published; latest: <pipeline>.<step> -> newest checkpoint of that
 * step in runs of that recipe; trigger: the retraining trigger's dedupe marks and pending windows
 * (packages/trigger).
 */
export const KV_BUCKETS = {
  ledger: "baton-ledger",
  emitted: "baton-emitted",
  latest: "baton-latest",
  trigger: "baton-trigger",
} as const;

export function ledgerKey(runId: string, cursor: number): string {
  return `${token(runId, "runId")}.${cursor}`;
}

/**
 * Key of the pointer "newest checkpoint of step S of pipeline P". A recipe name is free text, so a
 * name that is not one KV token is written as '=' + base64url of it ('=' never starts a plain name).
 */
export function latestKey(pipeline: string, step: string): string {
  if (pipeline.length === 0)
    throw new Error("pipeline (recipe name) is empty; a latest-checkpoint pointer needs the recipe's name");
  const p = /^[A-Za-z0-9_-]+$/.test(pipeline) ? pipeline : `=${Buffer.from(pipeline, "utf8").toString("base64url")}`;
  return `${p}.${token(step, "step")}`;
}

/**
 * Deterministic message id `<runId>:<cursor>:<short type>` (plus a suffix for events that repeat
 * within a step, like progress). Used as the CloudEvent id and the Nats-Msg-Id, so a re-emitted
 * event is the same event.
 */
export function msgId(runId: string, cursor: number, type: EventType, suffix?: string | number): string {
  const short = type.replace(/^dev\.baton\./, "");
  return suffix === undefined ? `${runId}:${cursor}:${short}` : `${runId}:${cursor}:${short}:${suffix}`;
}

/** Headers Baton sets on messages (besides Nats-Msg-Id and trace context). */
export const HEADERS = {
  msgId: "Nats-Msg-Id",
  deadLetterReason: "Baton-Dead-Letter-Reason",
  deadLetterCode: "Baton-Dead-Letter-Code",
  deadLetterEventId: "Baton-Event-Id",
  deadLetterDeliveries: "Baton-Deliveries",
  deadLetterSubject: "Baton-Original-Subject",
} as const;

function token(value: string, what: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(value)) {
    throw new Error(
      `${what} ${JSON.stringify(value)} cannot be a NATS subject token: use letters, digits, '-' and '_' only (no dots, spaces or wildcards)`,
    );
  }
  return value;
}
