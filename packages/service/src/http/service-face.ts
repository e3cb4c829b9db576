import type { StageObserver } from "@baton/runner";
import { composeObservers } from "@baton/runner";
import type { SpanExporter } from "@opentelemetry/sdk-trace-node";
import { traceObserver } from "../telemetry/trace-observer.ts";
import { createTelemetry, type Telemetry } from "../telemetry/tracing.ts";
import { monitorObserver } from "./monitor-observer.ts";
import { DEFAULT_HTTP_HOST, DEFAULT_MAX_CONNECTIONS, type ServedApp, serveStageApp } from "./serve.ts";
import { createStageApp, DEFAULT_MAX_EVENT_STREAMS, type ReadinessProbe } from "./stage-app.ts";
import { StageMonitor } from "./stage-monitor.ts";

/** The port a service's HTTP face listens on: $BATON_HTTP_PORT, else 8080 (the k8s manifests' `http` port). */
export const DEFAULT_HTTP_PORT = 8080;

export interface ServiceFaceOptions {
  /** Stage name: the `stage` label on metrics and /status. */
  stage: string;
  /** OpenTelemetry `service.name`; default `baton-<stage>`. */
  serviceName?: string;
  serviceVersion?: string;
  /** Readiness checks for /readyz, e.g. `{ bus: () => env.bus.ping(), store: () => env.store.ping() }`. */
  probes: Record<string, ReadinessProbe>;
  /** Default $BATON_HTTP_PORT or 8080; 0 picks a free port. */
  port?: number;
  /** Default $BATON_HTTP_HOST or 127.0.0.1; the k8s manifests set 0.0.0.0. */
  hostname?: string;
  /** Default $BATON_HTTP_MAX_CONNECTIONS or 256. */
  maxConnections?: number;
  /** Default $BATON_HTTP_MAX_EVENT_STREAMS or 64. */
  maxEventStreams?: number;
  /** Extra span exporter (tests pass an InMemorySpanExporter); OTLP follows OTEL_EXPORTER_OTLP_ENDPOINT. */
  exporter?: SpanExporter;
  env?: NodeJS.ProcessEnv;
}

/** Everything outside the training a service shows: the HTTP face, metrics, status, traces. */
export interface ServiceFace {
  monitor: StageMonitor;
  telemetry: Telemetry;
  http: ServedApp;
  /** Pass to serveStage / runStage as `observer`: traces each delivery and feeds the monitor. */
  observer: StageObserver;
  /** Stops the HTTP server and flushes the traces. */
  close(): Promise<void>;
}

/**
 * Starts a service's HTTP face and telemetry in one call.
 * @example
 *   const env = await stageEnv();
 *   const face = await startServiceFace({ stage: "finetune", probes: { bus: () => env.bus.ping(), store: () => env.store.ping() } });
 *   const service = serveStage({ ...finetune, step, bus: env.bus, store: env.store, ledger: env.ledger, observer: face.observer, handleSignals: true });
 *   await service.done;
 *   await face.close();
 */
export async function startServiceFace(options: ServiceFaceOptions): Promise<ServiceFace> {
  const env = options.env ?? process.env;
  const monitor = new StageMonitor(options.stage);
  const telemetry = createTelemetry({
    serviceName: options.serviceName ?? `baton-${options.stage}`,
    ...(options.serviceVersion ? { serviceVersion: options.serviceVersion } : {}),
    ...(options.exporter ? { exporter: options.exporter } : {}),
    env,
  });
  const port = options.port ?? httpPort(env);
  const hostname = options.hostname ?? (env["BATON_HTTP_HOST"]?.trim() || DEFAULT_HTTP_HOST);
  const maxConnections = options.maxConnections ?? countVar(env, "BATON_HTTP_MAX_CONNECTIONS", DEFAULT_MAX_CONNECTIONS);
  const maxEventStreams =
    options.maxEventStreams ?? countVar(env, "BATON_HTTP_MAX_EVENT_STREAMS", DEFAULT_MAX_EVENT_STREAMS);
  const http = await serveStageApp(createStageApp({ monitor, probes: options.probes, maxEventStreams }), {
    port,
    hostname,
    maxConnections,
  });
  return {
    monitor,
    telemetry,
    http,
    observer: composeObservers(traceObserver(telemetry.tracer), monitorObserver(monitor)),
    async close() {
      await http.close();
      await telemetry.shutdown();
    },
  };
}

function countVar(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`${name}=${JSON.stringify(raw)} is not a positive integer; unset it for ${fallback}`);
  return n;
}

function httpPort(env: NodeJS.ProcessEnv): number {
  const raw = env["BATON_HTTP_PORT"];
  if (raw === undefined || raw === "") return DEFAULT_HTTP_PORT;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(
      `BATON_HTTP_PORT=${JSON.stringify(raw)} is not a TCP port; use 0-65535 (0 picks a free port), or unset it for ${DEFAULT_HTTP_PORT}`,
    );
  }
  return port;
}
