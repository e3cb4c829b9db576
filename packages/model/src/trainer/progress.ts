// What the trainer tells the world while it runs: structured events for a callback (a stage turns
// them into ctx.progress, a bench into JSON), and a one-line progress bar when a person watches.

export type TrainEvent =
  | { type: "start"; step: number; totalSteps: number; params: number; tokensPerStep: number; resumed: boolean }
  | {
      type: "step";
      step: number;
      totalSteps: number;
      loss: number;
      lr: number;
      gradNorm: number;
      msPerIter: number;
      tokensPerSec: number;
      etaSec: number;
    }
  | {
      type: "eval";
      step: number;
      totalSteps: number;
      valLoss: number;
      trainLoss: number;
      metrics?: Record<string, number>;
    }
  | { type: "snapshot"; step: number }
  | { type: "done"; step: number; wallMs: number };

/** Carriage-return progress bar on a terminal stream; evaluations print a line of their own. */
export class ProgressBar {
  private lastDraw = 0;
  constructor(
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly width = 24,
  ) {}

  onEvent(e: TrainEvent): void {
    if (e.type === "step") {
      const now = Date.now();
      if (now - this.lastDraw < 100 && e.step !== e.totalSteps) return; // redraw at most 10 times a second
      this.lastDraw = now;
      const filled = Math.round((e.step / e.totalSteps) * this.width);
      const bar = "#".repeat(filled) + ".".repeat(this.width - filled);
      const line = `step ${e.step}/${e.totalSteps} [${bar}] loss ${e.loss.toFixed(4)} | ${formatRate(e.tokensPerSec)} tok/s | ${e.msPerIter.toFixed(1)} ms/iter | ETA ${formatDuration(e.etaSec)}`;
      this.out.write(`\r${line}\x1b[K`);
    } else if (e.type === "eval") {
      const losses = Number.isFinite(e.valLoss)
        ? [`val loss ${e.valLoss.toFixed(4)}`, `train loss ${e.trainLoss.toFixed(4)}`]
        : [];
      const own = Object.entries(e.metrics ?? {}).map(([k, v]) => `${k} ${v.toFixed(4)}`);
      this.out.write(`\r\x1b[Kstep ${e.step}: ${[...losses, ...own].join(", ")}\n`);
    } else if (e.type === "done") {
      this.out.write(`\r\x1b[Kdone: ${e.step} steps in ${formatDuration(e.wallMs / 1000)}\n`);
    }
  }
}

export function formatRate(n: number): string {
  return n >= 10_000 ? `${(n / 1000).toFixed(1)}k` : n.toFixed(0);
}

export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec)) return "?";
  const s = Math.max(0, Math.round(sec));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0
    ? `${h}h${String(m).padStart(2, "0")}m`
    : m > 0
      ? `${m}m${String(s % 60).padStart(2, "0")}s`
      : `${s % 60}s`;
}

/**
 * Trainer events as a stage's progress reports (the runner's `ctx.progress`, typed structurally):
 * `onEvent: stageProgress(ctx.progress)`. Metric names follow the relay's snake_case: steps carry
 * loss, lr, grad_norm and tokens_per_s; an evaluation repeats its step's numbers and adds val_loss /
 * train_loss (when measured) and the caller's own metrics, so every report reads on its own.
 */
export function stageProgress(
  report: (p: { trainStep: number; totalSteps?: number; metrics?: Record<string, number> }) => void,
): (e: TrainEvent) => void {
  let last: { step: number; metrics: Record<string, number> } | null = null;
  return (e) => {
    if (e.type === "step") {
      last = { step: e.step, metrics: { loss: e.loss, lr: e.lr, grad_norm: e.gradNorm, tokens_per_s: e.tokensPerSec } };
      report({ trainStep: e.step, totalSteps: e.totalSteps, metrics: last.metrics });
    } else if (e.type === "eval") {
      const metrics: Record<string, number> = { ...(last?.step === e.step ? last.metrics : {}), ...e.metrics };
      if (Number.isFinite(e.valLoss)) metrics.val_loss = e.valLoss;
      if (Number.isFinite(e.trainLoss)) metrics.train_loss = e.trainLoss;
      report({ trainStep: e.step, totalSteps: e.totalSteps, metrics });
    }
  };
}
