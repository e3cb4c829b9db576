import { redactText } from "@baton/contracts";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** What a service is doing now, as served by GET /status. */
export interface StageStatus {
  /** The stage (service) name, e.g. "pretrain". */
  stage: string;
  state: "idle" | "working" | "failed";
  runId?: string;
  /** The recipe step being run (its name) and its index in the routing slip. */
  step?: string;
  cursor?: number;
  /** Training progress of the current step: `done` of `total` optimizer steps, `fraction` in [0, 1]. */
  progress?: { done: number; total: number; fraction: number };
  /** The most recent training loss reported for the current step. */
  loss?: number;
  /** ISO-8601 times. */
  startedAt?: string;
  updatedAt: string;
  /** Why the last event failed, as told to people (also in the dead-letter reason). */
  lastError?: string;
  /** Steps this process has finished since it started. */
  stepsCompleted: number;
}

/** One server-sent event on GET /events. */
export type ProgressEvent =
  | { type: "started"; runId: string; step: string; cursor: number; eventId: string; at: string }
  | { type: "progress"; runId: string; step: string; done: number; total: number; loss?: number; at: string }
  | { type: "finished"; runId: string; step: string; durationMs: number; at: string }
  | { type: "failed"; runId?: string; step?: string; disposition: FailureDisposition; reason: string; at: string };

/**
 * What happened to an event whose work did not finish: retried later (nak), stopped by SIGTERM with a
 * snapshot for another worker (interrupted), dropped for good (terminated), or dead-lettered.
 */
export type FailureDisposition = "retry" | "interrupted" | "terminated" | "dead-lettered";

export type ProgressListener = (event: ProgressEvent) => void;

// Step durations run from milliseconds (test stages) to hours (pretraining): seconds, roughly x3-x5 apart.
const STEP_SECONDS_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 14_400, 43_200];

/**
 * The one place a service's runner reports what it does; feeds /status, /metrics and /events.
 * Per delivery: `eventReceived` when a message is taken, `workStarted` once it decoded, `progress`
 * while training, `bytesMoved` for checkpoint transfers, then `stepFinished` or `eventFailed`.
 */
export class StageMonitor {
  /** What GET /metrics renders: these series plus the process and Node.js metrics of prom-client. */
  readonly registry: Registry;
  private readonly consumed: Counter<"stage">;
  private readonly failed: Counter<"stage" | "disposition">;
  private readonly durations: Histogram<"stage">;
  private readonly bytes: Counter<"stage" | "direction">;
  private readonly loss: Gauge<"stage">;
  private readonly progressRatio: Gauge<"stage">;
  private readonly listeners = new Set<ProgressListener>();
  private current: StageStatus;
  private readonly labels: { stage: string };

  constructor(
    readonly stage: string,
    registry = new Registry(),
  ) {
    this.registry = registry;
    this.labels = { stage };
    const registers = [registry];
    this.consumed = new Counter({
      name: "baton_events_consumed_total",
      help: "Events this service took from the bus.",
      labelNames: ["stage"],
      registers,
    });
    this.failed = new Counter({
      name: "baton_events_failed_total",
      help: "Events that failed, by what happened to them.",
      labelNames: ["stage", "disposition"],
      registers,
    });
    this.durations = new Histogram({
      name: "baton_step_duration_seconds",
      help: "Wall time of a recipe step, event taken to next event emitted.",
      labelNames: ["stage"],
      buckets: STEP_SECONDS_BUCKETS,
      registers,
    });
    this.bytes = new Counter({
      name: "baton_bytes_moved_total",
      help: "Checkpoint bytes moved to or from the store.",
      labelNames: ["stage", "direction"],
      registers,
    });
    this.loss = new Gauge({
      name: "baton_loss",
      help: "Most recent training loss of the current step.",
      labelNames: ["stage"],
      registers,
    });
    this.progressRatio = new Gauge({
      name: "baton_step_progress_ratio",
      help: "Fraction of the current step's optimizer steps done.",
      labelNames: ["stage"],
      registers,
    });
    collectDefaultMetrics({ register: registry });
    this.current = { stage, state: "idle", updatedAt: now(), stepsCompleted: 0 };
  }

  status(): StageStatus {
    return structuredClone(this.current);
  }

  /** Listens to progress events; returns the function that stops listening. */
  subscribe(listener: ProgressListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A message was taken from the bus (counted even when it turns out malformed). */
  eventReceived(): void {
    this.consumed.inc(this.labels);
  }

  /** The event decoded and validated: work on run `runId`, step `step` begins. */
  workStarted(e: { runId: string; step: string; cursor: number; eventId: string }): void {
    const at = now();
    this.current = {
      stage: this.stage,
      state: "working",
      runId: e.runId,
      step: e.step,
      cursor: e.cursor,
      startedAt: at,
      updatedAt: at,
      stepsCompleted: this.current.stepsCompleted,
    };
    this.progressRatio.set(this.labels, 0);
    this.emit({ type: "started", ...e, at });
  }

  progress(p: { done: number; total: number; loss?: number }): void {
    const fraction = p.total > 0 ? Math.min(1, p.done / p.total) : 0;
    this.current.progress = { done: p.done, total: p.total, fraction };
    if (p.loss !== undefined) {
      this.current.loss = p.loss;
      this.loss.set(this.labels, p.loss);
    }
    this.current.updatedAt = now();
    this.progressRatio.set(this.labels, fraction);
    const event: ProgressEvent = {
      type: "progress",
      runId: this.current.runId ?? "",
      step: this.current.step ?? "",
      done: p.done,
      total: p.total,
      at: this.current.updatedAt,
    };
    if (p.loss !== undefined) event.loss = p.loss;
    this.emit(event);
  }

  // Labels are given in name order: prom-client prints them as given, and people grep for one order.
  bytesMoved(direction: "download" | "upload", bytes: number): void {
    this.bytes.inc({ direction, ...this.labels }, bytes);
  }

  stepFinished(durationMs: number): void {
    this.durations.observe(this.labels, durationMs / 1000);
    const { runId = "", step = "" } = this.current;
    this.current = {
      stage: this.stage,
      state: "idle",
      updatedAt: now(),
      stepsCompleted: this.current.stepsCompleted + 1,
    };
    this.emit({ type: "finished", runId, step, durationMs, at: this.current.updatedAt });
  }

  eventFailed(failure: { disposition: FailureDisposition; reason: string }): void {
    // /status and /events are read from outside: the reason goes through the one redactor
    const f = { ...failure, reason: redactText(failure.reason) };
    this.failed.inc({ disposition: f.disposition, ...this.labels });
    const { runId, step } = this.current;
    const state = f.disposition === "retry" || f.disposition === "interrupted" ? "idle" : "failed";
    this.current = { ...this.current, state, lastError: f.reason, updatedAt: now() };
    const event: ProgressEvent = {
      type: "failed",
      disposition: f.disposition,
      reason: f.reason,
      at: this.current.updatedAt,
    };
    if (runId !== undefined) event.runId = runId;
    if (step !== undefined) event.step = step;
    this.emit(event);
  }

  private emit(event: ProgressEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A broken listener (a closed SSE stream) must not stop the runner.
      }
    }
  }
}

function now(): string {
  return new Date().toISOString();
}
