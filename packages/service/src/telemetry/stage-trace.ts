import { extractTraceContext, type HeaderCarrier, injectTraceContext } from "@baton/bus";
import {
  type Attributes,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from "@opentelemetry/api";

/**
 * The phases of one stage's work, each a child span of the stage's trace, in this order
 * (`resume` only on a redelivery that finds a snapshot).
 */
export type StagePhase = "receive" | "download" | "resume" | "train" | "upload" | "commit" | "emit";

/** The event a stage took from the bus, as the trace needs it. */
export interface ReceivedEvent {
  /** Service (stage implementation) name, e.g. "finetune". */
  stage: string;
  /** The recipe step being run and its index in the routing slip. */
  step: string;
  /** Known once the event is decoded; `identify()` adds them later when not known at start. */
  cursor?: number;
  runId?: string;
  eventId?: string;
  /** NATS subject the event came on. */
  subject: string;
  /** When the message was taken from the bus (ms since epoch); default now. */
  receivedAt?: number;
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
  /** The span of the phase running now, if any (its context goes on messages published inside it). */
  private current: Span | undefined;
  private receive: Span | undefined;

  private constructor(
    private readonly tracer: Tracer,
    readonly root: Span,
    private readonly base: Attributes,
  ) {}

  static start(tracer: Tracer, event: ReceivedEvent): StageTrace {
    const base: Attributes = {
      [MESSAGING.system]: "nats",
      [MESSAGING.destination]: event.subject,
      "baton.stage": event.stage,
      "baton.step": event.step,
    };
    if (event.consumer) base[MESSAGING.consumerGroup] = event.consumer;
    const producer = extractTraceContext(event.headers);
    const attributes: Attributes = {
      ...base,
      [MESSAGING.operationType]: "process",
      [MESSAGING.operationName]: "process",
    };
    if (event.deliveryCount !== undefined) attributes["messaging.nats.delivery_count"] = event.deliveryCount;
    if (event.bodySize !== undefined) attributes[MESSAGING.bodySize] = event.bodySize;
    const startTime = event.receivedAt ?? Date.now();
    const root = tracer.startSpan(
      `${event.step} process`,
      {
        kind: SpanKind.CONSUMER,
        root: true,
        startTime,
        attributes,
        links: producer ? [{ context: producer, attributes: { "baton.link": "producer" } }] : [],
      },
      ROOT_CONTEXT,
    );
    const work = new StageTrace(tracer, root, base);
    // receive: from taking the message to a decoded, validated event (ends in identify()).
    work.receive = tracer.startSpan(
      "receive",
      {
        kind: SpanKind.CONSUMER,
        startTime,
        attributes: { ...base, [MESSAGING.operationType]: "receive", [MESSAGING.operationName]: "next" },
      },
      trace.setSpan(ROOT_CONTEXT, root),
    );
    if (event.runId !== undefined && event.cursor !== undefined && event.eventId !== undefined) {
      work.identify({ runId: event.runId, cursor: event.cursor, eventId: event.eventId });
    }
    return work;
  }

  /** Records which run, step and event this is, once decoded; ends the receive span. */
  identify(e: { runId: string; cursor: number; eventId: string }): void {
    const ids: Attributes = { "baton.run_id": e.runId, "baton.cursor": e.cursor, [MESSAGING.messageId]: e.eventId };
    Object.assign(this.base, ids);
    this.root.setAttributes(ids);
    this.receive?.setAttributes(ids);
    this.receive?.end();
    this.receive = undefined;
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
      name === "emit"
        ? { [MESSAGING.operationType]: "send", [MESSAGING.operationName]: "publish" }
        : name === "receive"
          ? { [MESSAGING.operationType]: "receive", [MESSAGING.operationName]: "next" }
          : {};
    const span = this.tracer.startSpan(
      name,
      { kind, attributes: { ...this.base, ...messaging, ...attributes } },
      trace.setSpan(ROOT_CONTEXT, this.root),
    );
    const outer = this.current;
    this.current = span;
    try {
      return await fn(span);
    } catch (err) {
      recordFailure(span, err);
      throw err;
    } finally {
      this.current = outer;
      span.end();
    }
  }

  /**
   * Headers carrying a span's trace context, to publish with: `span` when given, else the phase
   * running now (so the next stage links to this stage's emit span), else the stage's root span.
   */
  headersFor(span: Span | undefined = this.current, headers: HeaderCarrier = {}): HeaderCarrier {
    injectTraceContext(span ?? this.root, headers);
    return headers;
  }

  /** Ends the stage's trace; with an error, marks it (and an unfinished receive) failed with the reason. */
  end(error?: unknown): void {
    if (this.receive) {
      if (error !== undefined) recordFailure(this.receive, error);
      this.receive.end();
      this.receive = undefined;
    }
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
      attributes: {
        [MESSAGING.system]: "nats",
        [MESSAGING.destination]: subject,
        [MESSAGING.messageId]: eventId,
        [MESSAGING.operationType]: "send",
        [MESSAGING.operationName]: "publish",
        ...attributes,
      },
    },
    ROOT_CONTEXT,
  );
}

function recordFailure(span: Span, err: unknown): void {
  const error = err instanceof Error ? err : new Error(String(err));
  span.recordException(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
}
