// Public surface of @baton/service: the HTTP face (health, readiness, Prometheus metrics, progress events) and OpenTelemetry traces.

export type { Tracer } from "@opentelemetry/api";
export type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-node";
export { InMemorySpanExporter } from "@opentelemetry/sdk-trace-node";
export { monitorObserver } from "./http/monitor-observer.ts";
export type { ServedApp, ServeOptions } from "./http/serve.ts";
export { DEFAULT_HTTP_HOST, DEFAULT_MAX_CONNECTIONS, serveStageApp } from "./http/serve.ts";
export type { ServiceFace, ServiceFaceOptions } from "./http/service-face.ts";
export { DEFAULT_HTTP_PORT, startServiceFace } from "./http/service-face.ts";
export type { ReadinessProbe, StageAppOptions } from "./http/stage-app.ts";
export { createStageApp, DEFAULT_MAX_EVENT_STREAMS } from "./http/stage-app.ts";
export type { FailureDisposition, ProgressEvent, ProgressListener, StageStatus } from "./http/stage-monitor.ts";
export { StageMonitor } from "./http/stage-monitor.ts";
export type { ReceivedEvent, StagePhase } from "./telemetry/stage-trace.ts";
export { StageTrace, startPublishSpan } from "./telemetry/stage-trace.ts";
export { traceObserver } from "./telemetry/trace-observer.ts";
export type { Telemetry, TelemetryOptions } from "./telemetry/tracing.ts";
export { createTelemetry } from "./telemetry/tracing.ts";
