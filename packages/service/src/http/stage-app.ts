import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import type { ProgressEvent, StageMonitor } from "./stage-monitor.ts";

/** A readiness check: resolves when the dependency answers, throws (with a reason) when it does not. */
export type ReadinessProbe = () => Promise<void>;

export interface StageAppOptions {
  monitor: StageMonitor;
  /** Checked on every GET /readyz, e.g. `{ bus: () => bus.ping(), store: () => store.head(...) }`. */
  probes: Record<string, ReadinessProbe>;
  /** A probe that takes longer than this counts as failed (default 2000 ms). */
  probeTimeoutMs?: number;
  /** /readyz answers from the last probe round for this long (default 1000 ms): probes hit NATS and S3, requests must not. */
  readyCacheMs?: number;
  /** Open /events streams at most (default 64); one more is answered 503. */
  maxEventStreams?: number;
  /** Seconds between SSE keep-alive comments on /events (default 15), so proxies keep the stream open. */
  keepAliveSeconds?: number;
}

/**
 * The HTTP face of every Baton service:
 *   GET /healthz  200 while the process runs
 *   GET /readyz   200 when every probe passes, else 503 with each failure's reason
 *   GET /metrics  Prometheus text
 *   GET /status   the StageStatus JSON
 *   GET /events   server-sent progress events (`event: status` first, then started/progress/finished/failed)
 * @example
 *   const monitor = new StageMonitor("finetune");
 *   const app = createStageApp({ monitor, probes: { bus: () => bus.ping(), store: () => store.ping() } });
 *   const server = await serveStageApp(app, { port: 8080 });
 */
export const DEFAULT_MAX_EVENT_STREAMS = 64;

export function createStageApp(options: StageAppOptions): Hono {
  const { monitor, probes } = options;
  const probeTimeoutMs = options.probeTimeoutMs ?? 2_000;
  const keepAliveMs = (options.keepAliveSeconds ?? 15) * 1000;
  const app = new Hono();

  app.get("/healthz", (c) => c.json({ ok: true, stage: monitor.stage }));

  // One probe round at a time, its answer reused for readyCacheMs: a flood of /readyz costs no more
  // than one round per interval against NATS and S3.
  const readyCacheMs = options.readyCacheMs ?? 1_000;
  let round: { at: number; answer: Promise<{ ready: boolean; checks: Record<string, string> }> } | undefined;
  const readiness = () => {
    if (!round || Date.now() - round.at >= readyCacheMs) {
      const names = Object.keys(probes);
      const answer = Promise.all(names.map((name) => runProbe(name, probes[name]!, probeTimeoutMs))).then((results) => {
        const checks: Record<string, string> = {};
        names.forEach((name, i) => (checks[name] = results[i] ?? "ok"));
        return { ready: results.every((r) => r === undefined), checks };
      });
      round = { at: Date.now(), answer };
      // the interval counts from when the round ends, so a slow probe is not rerun at once
      void answer.then(() => round && round.answer === answer && (round.at = Date.now()));
    }
    return round.answer;
  };

  app.get("/readyz", async (c) => {
    const { ready, checks } = await readiness();
    return c.json({ ready, checks }, ready ? 200 : 503);
  });

  app.get("/metrics", async (c) =>
    c.body(await monitor.registry.metrics(), 200, { "content-type": monitor.registry.contentType }),
  );

  app.get("/status", (c) => c.json(monitor.status()));

  const maxEventStreams = options.maxEventStreams ?? DEFAULT_MAX_EVENT_STREAMS;
  let eventStreams = 0;
  app.get("/events", (c) => {
    if (eventStreams >= maxEventStreams) {
      return c.json(
        { error: `${eventStreams} event streams are open, the most this service serves; retry later, or read /status` },
        503,
        { "retry-after": "5" },
      );
    }
    eventStreams++;
    return streamSSE(c, async (stream) => {
      try {
        const queue: ProgressEvent[] = [];
        let wake: (() => void) | undefined;
        const unsubscribe = monitor.subscribe((event) => {
          queue.push(event);
          wake?.();
        });
        stream.onAbort(() => {
          unsubscribe();
          wake?.();
        });
        await stream.writeSSE({ event: "status", data: JSON.stringify(monitor.status()) });
        while (!stream.aborted && !stream.closed) {
          const event = queue.shift();
          if (event) {
            await stream.writeSSE({ event: event.type, data: JSON.stringify(event) });
            continue;
          }
          const keepAlive = await new Promise<boolean>((resolve) => {
            const timer = setTimeout(() => resolve(true), keepAliveMs);
            wake = () => {
              clearTimeout(timer);
              resolve(false);
            };
          });
          wake = undefined;
          if (keepAlive && !stream.aborted) await stream.write(": keep-alive\n\n");
        }
        unsubscribe();
      } finally {
        eventStreams--;
      }
    });
  });

  app.notFound((c) =>
    c.json(
      { error: `no route ${c.req.method} ${c.req.path}; try /healthz, /readyz, /metrics, /status or /events` },
      404,
    ),
  );
  return app;
}

/**
 * Undefined when the probe passed, else a short reason: the error's code, never its text (an error
 * can quote an endpoint, a host or a credential; the service's log has the whole message).
 */
async function runProbe(name: string, probe: ReadinessProbe, timeoutMs: number): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`${name} did not answer within ${timeoutMs} ms`), timeoutMs);
  });
  try {
    return await Promise.race([probe().then(() => undefined), timeout]);
  } catch (err) {
    const e = err as { code?: unknown; name?: unknown } | undefined;
    const code =
      typeof e?.code === "string" && /^[A-Za-z0-9_.-]{1,40}$/.test(e.code)
        ? e.code
        : typeof e?.name === "string" && /^[A-Za-z]{1,40}$/.test(e.name)
          ? e.name
          : "error";
    return `${name} unreachable (${code})`;
  } finally {
    clearTimeout(timer);
  }
}
