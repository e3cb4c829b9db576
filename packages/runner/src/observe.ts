import type { Logger, Phase, StageObserver, WorkInfo, WorkObserver } from "./types.ts";

/** Several observers as one (e.g. tracing + metrics + the HTTP monitor). Phases nest in the given order. */
export function composeObservers(...observers: (StageObserver | undefined)[]): StageObserver {
  const present = observers.filter((o): o is StageObserver => o !== undefined);
  return {
    onWork(info: WorkInfo): WorkObserver | undefined {
      const works = present.map((o) => o.onWork?.(info)).filter((w): w is WorkObserver => w !== undefined);
      if (works.length === 0) return undefined;
      return {
        onEvent: (e) => works.forEach((w) => w.onEvent?.(e)),
        phase: <T>(phase: Phase, fn: () => Promise<T>): Promise<T> =>
          works.reduceRight<() => Promise<T>>((inner, w) => (w.phase ? () => w.phase!(phase, inner) : inner), fn)(),
        onPhase: (r) => works.forEach((w) => w.onPhase?.(r)),
        onProgress: (p) => works.forEach((w) => w.onProgress?.(p)),
        headers: () => Object.assign({}, ...works.map((w) => w.headers?.() ?? {})) as Record<string, string>,
        traceId: () => works.map((w) => w.traceId?.() ?? null).find((t) => t !== null) ?? null,
        onEnd: (o) => works.forEach((w) => w.onEnd?.(o)),
      };
    },
  };
}

/**
 * The runner's side of an observer: never lets an observer's bug break the relay, and times
 * every phase itself so observers only receive numbers.
 */
export class Watched {
  constructor(
    private readonly work: WorkObserver | undefined,
    private readonly log: Logger,
  ) {}

  notify(what: string, fn: (w: WorkObserver) => void): void {
    if (!this.work) return;
    try {
      fn(this.work);
    } catch (err) {
      this.log.warn(`observer ${what} threw; ignored`, { error: (err as Error).message });
    }
  }

  headers(): Record<string, string> {
    try {
      return this.work?.headers?.() ?? {};
    } catch (err) {
      this.log.warn("observer headers threw; publishing without trace headers", { error: (err as Error).message });
      return {};
    }
  }

  traceId(): string | null {
    try {
      return this.work?.traceId?.() ?? null;
    } catch (err) {
      this.log.warn("observer traceId threw; going on without a trace id", { error: (err as Error).message });
      return null;
    }
  }

  async phase<T>(phase: Phase, fn: () => Promise<T>, bytesOf?: (r: T) => number): Promise<T> {
    const start = performance.now();
    let ok = false;
    let result: T | undefined;
    try {
      result = this.work?.phase ? await this.work.phase(phase, fn) : await fn();
      ok = true;
      return result;
    } finally {
      const durationMs = performance.now() - start;
      const bytes = ok && bytesOf ? bytesOf(result as T) : undefined;
      this.notify("onPhase", (w) => w.onPhase?.({ phase, durationMs, ok, ...(bytes !== undefined ? { bytes } : {}) }));
    }
  }
}
