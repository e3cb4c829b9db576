// Telemetry for Baton services: OpenTelemetry traces across the relay, and JSON-lines logs.
export { createTelemetry } from "./tracing.ts";
export type { Telemetry, TelemetryOptions } from "./tracing.ts";
export { injectTraceContext, extractTraceContext } from "./propagation.ts";
export type { HeaderCarrier } from "./propagation.ts";
export { StageTrace, startPublishSpan } from "./stage-trace.ts";
export type { StagePhase, ReceivedEvent } from "./stage-trace.ts";
export { createLogger, redact, secretsFromEnv } from "./logger.ts";
export type { JsonLogger, JsonLoggerOptions, LogContext, LogLevel } from "./logger.ts";
export { InMemorySpanExporter } from "@opentelemetry/sdk-trace-node";
export type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-node";
export { traceObserver } from "./trace-observer.ts";
export type { Tracer } from "@opentelemetry/api";
