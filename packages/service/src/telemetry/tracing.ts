import type { Context, Tracer } from "@opentelemetry/api";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BatchSpanProcessor,
  NodeTracerProvider,
  type ReadableSpan,
  SimpleSpanProcessor,
  type Span,
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
  if (url)
    processors.push(
      new DeferredSpanProcessor(async () => {
        const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-http");
        return new BatchSpanProcessor(new OTLPTraceExporter({ url }));
      }),
    );

  const attributes: Record<string, string> = { "service.name": options.serviceName };
  if (options.serviceVersion) attributes["service.version"] = options.serviceVersion;
  const provider = new NodeTracerProvider({ resource: resourceFromAttributes(attributes), spanProcessors: processors });
  return {
    tracer: provider.getTracer("@baton/service"),
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

/**
 * A span processor built asynchronously: the OTLP exporter (and its protobuf code) takes about half a
 * second to import, which every stage process would pay at start even with OTLP off. Spans that end
 * before it is ready are handed over once it is.
 */
class DeferredSpanProcessor implements SpanProcessor {
  private inner: SpanProcessor | undefined;
  private pending: ReadableSpan[] = [];
  private readonly ready: Promise<void>;

  constructor(load: () => Promise<SpanProcessor>) {
    this.ready = load().then((processor) => {
      this.inner = processor;
      for (const span of this.pending) processor.onEnd(span);
      this.pending = [];
    });
  }
  onStart(span: Span, parentContext: Context): void {
    this.inner?.onStart(span, parentContext);
  }
  onEnd(span: ReadableSpan): void {
    if (this.inner) this.inner.onEnd(span);
    else this.pending.push(span);
  }
  async forceFlush(): Promise<void> {
    await this.ready;
    await this.inner?.forceFlush();
  }
  async shutdown(): Promise<void> {
    await this.ready;
    await this.inner?.shutdown();
  }
}
