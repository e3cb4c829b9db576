import {
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  type TextMapGetter,
  type TextMapSetter,
  trace,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";

/**
 * Message headers as the buses carry them: NATS `MsgHdrs` (get returns "" when missing) or a plain
 * record for the in-memory bus. Only `traceparent` and `tracestate` are read or written.
 */
export type HeaderCarrier =
  | { get(key: string): string | undefined | null; set(key: string, value: string): void }
  | Record<string, string>;

const propagator = new W3CTraceContextPropagator();

function isMap(
  c: HeaderCarrier,
): c is { get(key: string): string | undefined | null; set(key: string, value: string): void } {
  return typeof (c as { get?: unknown }).get === "function" && typeof (c as { set?: unknown }).set === "function";
}

const setter: TextMapSetter<HeaderCarrier> = {
  set(carrier, key, value) {
    if (isMap(carrier)) carrier.set(key, value);
    else carrier[key] = value;
  },
};

const getter: TextMapGetter<HeaderCarrier> = {
  get(carrier, key) {
    const value = isMap(carrier) ? carrier.get(key) : carrier[key];
    return value ? value : undefined; // NATS answers "" for a missing header
  },
  keys(carrier) {
    return isMap(carrier) ? ["traceparent", "tracestate"] : Object.keys(carrier);
  },
};

/** Writes the W3C `traceparent` (and `tracestate`) of `span` into message headers, before publish. */
export function injectTraceContext(span: Span | SpanContext, headers: HeaderCarrier): void {
  const spanContext = "spanContext" in span ? span.spanContext() : span;
  propagator.inject(trace.setSpanContext(ROOT_CONTEXT, spanContext), headers, setter);
}

/** The producer's span context from received message headers, or undefined when there is none (or it is malformed). */
export function extractTraceContext(headers: HeaderCarrier | undefined): SpanContext | undefined {
  if (!headers) return undefined;
  const context = propagator.extract(ROOT_CONTEXT, headers, getter);
  const spanContext = trace.getSpanContext(context);
  return spanContext && trace.isSpanContextValid(spanContext) ? spanContext : undefined;
}

/**
 * The event with the CloudEvents distributed-tracing attributes of `headers` (W3C traceparent and
 * tracestate), unless it already carries its own traceparent.
 */
export function withTraceAttributes<E extends { traceparent?: string; tracestate?: string }>(
  event: E,
  headers: Record<string, string> | undefined,
): E {
  const traceparent = headers?.["traceparent"];
  if (!traceparent || event.traceparent !== undefined || !extractTraceContext({ traceparent })) return event;
  const tracestate = headers?.["tracestate"];
  return { ...event, traceparent, ...(tracestate ? { tracestate } : {}) };
}

/**
 * Where a received message's trace context is: its headers, else the event's own distributed-tracing
 * attributes (a producer that set only those, or a bridge that dropped the headers).
 */
export function traceCarrierOf(headers: Record<string, string>, body: Uint8Array): Record<string, string> {
  if (headers["traceparent"]) return headers;
  try {
    const e = JSON.parse(Buffer.from(body).toString("utf8")) as { traceparent?: unknown; tracestate?: unknown };
    if (typeof e.traceparent !== "string") return headers;
    return {
      ...headers,
      traceparent: e.traceparent,
      ...(typeof e.tracestate === "string" ? { tracestate: e.tracestate } : {}),
    };
  } catch {
    return headers; // not JSON: the relay dead-letters it, with no producer to link to
  }
}
