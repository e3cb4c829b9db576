// What the console knows about runs: every event the stream holds and every new one, folded per run
// (RunStatus: the same fold as `baton status`), each step's progress points for its charts, and the
// dead letters with their reasons. On the memory bus this sees the runs of this process; on NATS,
// every run the stream still holds.

import type { Bus, Unwatch } from "@baton/bus";
import { type BatonEvent, decodeEvent, HEADERS, isDeadLetter, subjects } from "@baton/contracts";
import { RunStatus, type RunSummary } from "@baton/runner";

export interface ProgressPoint {
  trainStep: number;
  totalSteps?: number;
  metrics: Record<string, number>;
}

export interface DeadLetter {
  seq: number;
  subject: string;
  originalSubject: string;
  eventId: string;
  reason: string;
  code: string;
  deliveries: string;
  /** the original event's bytes, republished as they are by a replay */
  data: Uint8Array;
  runId: string | null;
  replayedAt?: string;
}

export interface RunView extends RunSummary {
  runId: string;
  /** cursor -> progress points in arrival order (at most MAX_POINTS, thinned evenly) */
  progress: Map<number, ProgressPoint[]>;
}

export type RunListener = (e: BatonEvent) => void;

const MAX_POINTS = 2000;

export class RunIndex {
  private readonly runs = new Map<string, { status: RunStatus; progress: Map<number, ProgressPoint[]> }>();
  private readonly letters: DeadLetter[] = [];
  private readonly listeners = new Map<string, Set<RunListener>>();
  private unwatch: Unwatch | null = null;

  async start(bus: Bus): Promise<void> {
    this.unwatch = await bus.watch(
      subjects.all(),
      (m) => {
        if (isDeadLetter(m.subject)) return this.seeDeadLetter(m.seq, m.subject, m.data, m.headers);
        let e: BatonEvent;
        try {
          e = decodeEvent(m.data, m.subject);
        } catch {
          return; // not a Baton event (a bucket notification, a malformed publish): not a run's
        }
        this.see(e);
      },
      { from: "all" },
    );
  }

  async close(): Promise<void> {
    await this.unwatch?.();
    this.unwatch = null;
  }

  see(e: BatonEvent): void {
    const runId = (e.data as { runId?: unknown }).runId;
    if (typeof runId !== "string") return;
    let run = this.runs.get(runId);
    if (!run) this.runs.set(runId, (run = { status: new RunStatus(runId), progress: new Map() }));
    run.status.see(e);
    if (e.type === "dev.baton.stage.progress") {
      const points = run.progress.get(e.data.cursor) ?? [];
      points.push({
        trainStep: e.data.trainStep,
        ...(e.data.totalSteps !== undefined && { totalSteps: e.data.totalSteps }),
        metrics: e.data.metrics,
      });
      // a long run keeps every other point once it has many: the chart's shape, in bounded memory
      run.progress.set(
        e.data.cursor,
        points.length > MAX_POINTS ? points.filter((_, i) => i % 2 === 0 || i === points.length - 1) : points,
      );
    }
    for (const listener of this.listeners.get(runId) ?? []) listener(e);
  }

  list(): RunView[] {
    return [...this.runs.keys()]
      .map((id) => this.run(id)!)
      .sort((a, b) => (b.startedAt ?? "").localeCompare(a.startedAt ?? ""));
  }

  run(runId: string): RunView | null {
    const r = this.runs.get(runId);
    return r ? { runId, ...r.status.summary(), progress: r.progress } : null;
  }

  deadLetters(): DeadLetter[] {
    return [...this.letters].reverse();
  }

  deadLetter(seq: number): DeadLetter | null {
    return this.letters.find((l) => l.seq === seq) ?? null;
  }

  /** Calls `listener` with every new event of a run; returns the function that stops it. */
  listen(runId: string, listener: RunListener): () => void {
    const set = this.listeners.get(runId) ?? new Set();
    set.add(listener);
    this.listeners.set(runId, set);
    return () => set.delete(listener);
  }

  private seeDeadLetter(seq: number, subject: string, data: Uint8Array, headers: Record<string, string>): void {
    let runId: string | null = null;
    try {
      const id = (JSON.parse(new TextDecoder().decode(data)) as { data?: { runId?: unknown } }).data?.runId;
      runId = typeof id === "string" ? id : null;
    } catch {
      // unreadable bytes are dead-lettered too; they belong to no run
    }
    this.letters.push({
      seq,
      subject,
      originalSubject: headers[HEADERS.deadLetterSubject] ?? "",
      eventId: headers[HEADERS.deadLetterEventId] ?? "",
      reason: headers[HEADERS.deadLetterReason] ?? "",
      code: headers[HEADERS.deadLetterCode] ?? "",
      deliveries: headers[HEADERS.deadLetterDeliveries] ?? "",
      data,
      runId,
    });
  }
}
