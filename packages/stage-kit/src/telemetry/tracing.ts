import type { Tracer } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BatchSpanProcessor,
  NodeTracerProvider,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from "@opentelemetry/sdk-trace-node";

export interface TelemetryOptions {
  /** `service.name` on every span, e.g. "baton-finetune". */
  serviceName: string;
  serviceVersion?: string;
  /** An exporter of your own, called as each span ends (tests pass an InMemorySpanExporter). */
  exporter?: SpanExporter;
  /** Read for OTEL_EXPORTER_OTLP_ENDPOINT; default process.env. */
  env?: NodeJS.ProcessEnv;
}

export interface Telemetry {
  tracer: Tracer;
  provider: NodeTracerProvider;
  /** Whether spans also go out over OTLP/HTTP (OTEL_EXPORTER_OTLP_ENDPOINT is set). */
  otlp: boolean;
  /** Exports every ended span now. */
  flush(): Promise<void>;
  /** Flushes and stops; call before the process exits. */
  shutdown(): Promise<void>;
}

/**
 * A tracer provider for one service. Spans go to `exporter` when given, and over OTLP/HTTP when
 * OTEL_EXPORTER_OTLP_ENDPOINT is set (the exporter appends /v1/traces and reads the other OTEL_* vars).
 * Not registered globally: a process may hold several (one per stage in the embedded default, or in tests),
 * and the runner passes its tracer explicitly.
 */
export function createTelemetry(options: TelemetryOptions): Telemetry {
  const env = options.env ?? process.env;
  const processors: SpanProcessor[] = [];
  if (options.exporter) processors.push(new SimpleSpanProcessor(options.exporter));
  const url = otlpTracesUrl(env);
  const otlp = url !== undefined;
  if (url) processors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url })));

  const attributes: Record<string, string> = { "service.name": options.serviceName };
  if (options.serviceVersion) attributes["service.version"] = options.serviceVersion;
  const provider = new NodeTracerProvider({ resource: resourceFromAttributes(attributes), spanProcessors: processors });
  return {
    tracer: provider.getTracer("@baton/stage-kit"),
    provider,
    otlp,
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}

/** The OTLP/HTTP traces URL from the standard variables: the signal-specific one as is, else base + /v1/traces. */
export function otlpTracesUrl(env: NodeJS.ProcessEnv): string | undefined {
  const traces = env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"];
  if (traces) return traces;
  const base = env["OTEL_EXPORTER_OTLP_ENDPOINT"];
  return base ? `${base.replace(/\/+$/, "")}/v1/traces` : undefined;
}
