// Public surface of @baton/service: the HTTP face (health, readiness, Prometheus metrics, progress events) and OpenTelemetry traces.
export { createStageApp, DEFAULT_MAX_EVENT_STREAMS } from "./http/stage-app.ts";
export type { ReadinessProbe, StageAppOptions } from "./http/stage-app.ts";
export { serveStageApp, DEFAULT_HTTP_HOST, DEFAULT_MAX_CONNECTIONS } from "./http/serve.ts";
export type { ServedApp, ServeOptions } from "./http/serve.ts";
export { StageMonitor } from "./http/stage-monitor.ts";
export type { StageStatus, ProgressEvent, ProgressListener, FailureDisposition } from "./http/stage-monitor.ts";
export { monitorObserver } from "./http/monitor-observer.ts";
export { startServiceFace, DEFAULT_HTTP_PORT } from "./http/service-face.ts";
export type { ServiceFace, ServiceFaceOptions } from "./http/service-face.ts";
export { createTelemetry } from "./telemetry/tracing.ts";
export type { Telemetry, TelemetryOptions } from "./telemetry/tracing.ts";
export { StageTrace, startPublishSpan } from "./telemetry/stage-trace.ts";
export type { StagePhase, ReceivedEvent } from "./telemetry/stage-trace.ts";
export { InMemorySpanExporter } from "@opentelemetry/sdk-trace-node";
export type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-node";
export { traceObserver } from "./telemetry/trace-observer.ts";
export type { Tracer } from "@opentelemetry/api";
