// Where a run is, folded from its events in stream order (started, progress, failed, next
// checkpoint, completed). A committed step stays committed: a retry's error before the commit, or a
// late duplicate's start or failure after it, does not make it look running or failing. `baton
// status` and the web console read runs through it.
import type { BatonEvent } from "@baton/contracts";

export interface StepStatus {
  cursor: number;
  step: string;
  stage?: string;
  implementation?: string;
  /** event time of the first stage.started of the step, and of its commit (ISO 8601) */
  startedAt?: string;
  endedAt?: string;
  state: "waiting" | "running" | "retrying" | "failed" | "committed";
  trainStep?: number;
  totalSteps?: number;
  metrics?: Record<string, number>;
  checkpoint?: string;
  /** The last failure's message while the step is retrying or failed. */
  message?: string;
}

export interface RunSummary {
  /** URI of the last checkpoint, once run.completed was seen */
  completed: string | null;
  recipe: string | null;
  startedAt: string | null;
  completedAt: string | null;
  steps: StepStatus[];
}

export class RunStatus {
  private readonly steps = new Map<number, StepStatus>();
  private pipeline: { name: string; stage: string }[] = [];
  private completed: string | null = null;
  /** the recipe the run follows (its name keys the newest-checkpoint pointers) */
  private recipe: string | null = null;
  /** time of the run's first event, and of run.completed */
  private startedAt: string | null = null;
  private completedAt: string | null = null;

  constructor(readonly runId: string) {}

  see(e: BatonEvent): void {
    const d = e.data as { runId?: string };
    if (d.runId !== this.runId) return;
    const named = (e.data as { recipe?: unknown }).recipe;
    if (typeof named === "string") this.recipe = named;
    if (this.startedAt === null || e.time < this.startedAt) this.startedAt = e.time;
    switch (e.type) {
      case "dev.baton.checkpoint.ready": {
        const r = e.data;
        this.pipeline = r.pipeline;
        if (r.cursor > 0 && r.checkpoint)
          this.commit(r.cursor - 1, r.pipeline[r.cursor - 1]?.name ?? "?", r.checkpoint.uri, e.time);
        break;
      }
      case "dev.baton.stage.started": {
        const s = this.at(e.data.cursor, e.data.step);
        s.stage = e.data.stage;
        s.implementation = e.data.implementation;
        s.startedAt ??= e.time;
        if (s.state !== "committed") s.state = "running";
        break;
      }
      case "dev.baton.stage.progress": {
        const p = e.data;
        const s = this.at(p.cursor, p.step);
        if (s.state !== "committed")
          Object.assign(s, { state: "running", trainStep: p.trainStep, totalSteps: p.totalSteps, metrics: p.metrics });
        break;
      }
      case "dev.baton.stage.failed": {
        const f = e.data;
        if (f.cursor === null) break;
        const s = this.at(f.cursor, f.step);
        if (s.state !== "committed")
          Object.assign(s, { state: f.disposition === "fatal" ? "failed" : "retrying", message: f.message });
        break;
      }
      case "dev.baton.run.completed": {
        const c = e.data;
        this.completed = c.checkpoint.uri;
        this.completedAt = e.time;
        this.pipeline = c.pipeline;
        this.commit(c.pipeline.length - 1, c.pipeline.at(-1)?.name ?? "?", c.checkpoint.uri, e.time);
        break;
      }
      default:
        break;
    }
  }

  summary(): RunSummary {
    this.pipeline.forEach((p, i) => (this.at(i, p.name).stage = p.stage));
    return {
      completed: this.completed,
      recipe: this.recipe,
      startedAt: this.startedAt,
      completedAt: this.completedAt,
      steps: [...this.steps.values()].sort((a, b) => a.cursor - b.cursor),
    };
  }

  private commit(cursor: number, step: string, checkpoint: string, at: string): void {
    const s = this.at(cursor, step);
    s.state = "committed";
    s.checkpoint = checkpoint;
    s.endedAt ??= at;
    delete s.message; // a retry's error is history once the step committed
  }

  private at(cursor: number, step: string): StepStatus {
    let s = this.steps.get(cursor);
    if (!s) this.steps.set(cursor, (s = { cursor, step, state: "waiting" }));
    return s;
  }
}
