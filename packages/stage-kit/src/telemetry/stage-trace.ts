import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Span, type Tracer } from "@opentelemetry/api";
import { extractTraceContext, injectTraceContext, type HeaderCarrier } from "./propagation.ts";

/** The phases of one stage's work, each a child span of the stage's trace, in this order. */
export type StagePhase = "receive" | "download" | "train" | "upload" | "commit" | "emit";

/** The event a stage took from the bus, as the trace needs it. */
export interface ReceivedEvent {
  /** Service (stage implementation) name, e.g. "finetune". */
  stage: string;
  /** The recipe step being run and its index in the routing slip. */
  step: string;
  cursor: number;
  runId: string;
  /** CloudEvents id and NATS subject of the event. */
  eventId: string;
  subject: string;
  /** The durable consumer it came from (one per step name). */
  consumer?: string;
  /** JetStream delivery count: 1 the first time, more on redelivery. */
  deliveryCount?: number;
  bodySize?: number;
  /** Received headers; their traceparent becomes the span link to the producer. */
  headers?: HeaderCarrier;
}

// Messaging semantic-convention attribute names (OpenTelemetry semconv 1.36, messaging spans).
const MESSAGING = {
  system: "messaging.system",
  operationType: "messaging.operation.type",
  operationName: "messaging.operation.name",
  destination: "messaging.destination.name",
  messageId: "messaging.message.id",
  consumerGroup: "messaging.consumer.group.name",
  bodySize: "messaging.message.body.size",
} as const;

/**
 * One stage's work on one event: a NEW trace (not a child of the producer, whose trace ended when it
 * published), linked to the producer's span taken from the event's headers. Phases are child spans.
 * @example
 *   const work = StageTrace.start(tracer, { stage, step, cursor, runId, eventId, subject, headers: msg.headers });
 *   const input = await work.phase("download", () => store.get(...));
 *   await work.phase("emit", (span) => bus.publish(next, { headers: work.headersFor(span) }));
 *   work.end();
 */
export class StageTrace {
  private constructor(
    private readonly tracer: Tracer,
    readonly root: Span,
    private readonly base: Attributes,
  ) {}

  static start(tracer: Tracer, event: ReceivedEvent): StageTrace {
    const base: Attributes = {
      [MESSAGING.system]: "nats",
      [MESSAGING.destination]: event.subject,
      [MESSAGING.messageId]: event.eventId,
      "baton.stage": event.stage,
      "baton.step": event.step,
      "baton.cursor": event.cursor,
      "baton.run_id": event.runId,
    };
    if (event.consumer) base[MESSAGING.consumerGroup] = event.consumer;
    const producer = extractTraceContext(event.headers);
    const attributes: Attributes = { ...base, [MESSAGING.operationType]: "process", [MESSAGING.operationName]: "process" };
    if (event.deliveryCount !== undefined) attributes["messaging.nats.delivery_count"] = event.deliveryCount;
    if (event.bodySize !== undefined) attributes[MESSAGING.bodySize] = event.bodySize;
    const root = tracer.startSpan(
      `${event.step} process`,
      { kind: SpanKind.CONSUMER, root: true, attributes, links: producer ? [{ context: producer, attributes: { "baton.link": "producer" } }] : [] },
      ROOT_CONTEXT,
    );
    return new StageTrace(tracer, root, base);
  }

  get traceId(): string {
    return this.root.spanContext().traceId;
  }

  /**
   * Runs `fn` inside a child span named after the phase. A throw marks the span (and is rethrown).
   * `emit` is a PRODUCER span: inject its context into the published event with `headersFor(span)`.
   */
  async phase<T>(name: StagePhase, fn: (span: Span) => Promise<T> | T, attributes: Attributes = {}): Promise<T> {
    const kind = name === "emit" ? SpanKind.PRODUCER : SpanKind.INTERNAL;
    const messaging: Attributes =
      name === "emit" ? { [MESSAGING.operationType]: "send", [MESSAGING.operationName]: "publish" } : name === "receive" ? { [MESSAGING.operationType]: "receive", [MESSAGING.operationName]: "next" } : {};
    const span = this.tracer.startSpan(name, { kind, attributes: { ...this.base, ...messaging, ...attributes } }, trace.setSpan(ROOT_CONTEXT, this.root));
    try {
      return await fn(span);
    } catch (err) {
      recordFailure(span, err);
      throw err;
    } finally {
      span.end();
    }
  }

  /** Headers carrying `span`'s trace context (default: the stage's root span), to publish with. */
  headersFor(span: Span = this.root, headers: HeaderCarrier = {}): HeaderCarrier {
    injectTraceContext(span, headers);
    return headers;
  }

  /** Ends the stage's trace; with an error, marks it failed with the reason. */
  end(error?: unknown): void {
    if (error !== undefined) recordFailure(this.root, error);
    this.root.end();
  }
}

/**
 * A span for publishing an event from outside a stage (e.g. `baton run` starting a pipeline), so the
 * first stage has a producer to link to: inject it with `injectTraceContext(span, headers)`, then end it.
 */
export function startPublishSpan(tracer: Tracer, subject: string, eventId: string, attributes: Attributes = {}): Span {
  return tracer.startSpan(
    `${subject} publish`,
    {
      kind: SpanKind.PRODUCER,
      root: true,
      attributes: { [MESSAGING.system]: "nats", [MESSAGING.destination]: subject, [MESSAGING.messageId]: eventId, [MESSAGING.operationType]: "send", [MESSAGING.operationName]: "publish", ...attributes },
    },
    ROOT_CONTEXT,
  );
}

function recordFailure(span: Span, err: unknown): void {
  const error = err instanceof Error ? err : new Error(String(err));
  span.recordException(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
}
