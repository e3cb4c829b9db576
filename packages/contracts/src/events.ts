import { randomUUID } from "node:crypto";
import { BatonError } from "./errors.ts";
import type { CloudEventEnvelope, EventDataByType } from "./types.gen.ts";
import { assertValid, violations } from "./validate.ts";

export type EventType = keyof EventDataByType;

export const EVENT_TYPES: readonly EventType[] = [
  "dev.baton.checkpoint.ready",
  "dev.baton.stage.started",
  "dev.baton.stage.progress",
  "dev.baton.stage.failed",
  "dev.baton.run.completed",
  "dev.baton.dataset.updated",
  "dev.baton.feedback.ready",
];

type EnvelopeAttributes = Pick<
  CloudEventEnvelope,
  "specversion" | "id" | "source" | "subject" | "time" | "datacontenttype" | "traceparent" | "tracestate"
>;

/** A CloudEvent whose data is typed by its `type`. */
export type BatonEvent<T extends EventType = EventType> = {
  [K in T]: EnvelopeAttributes & { type: K; data: EventDataByType[K] };
}[T];

export interface NewEvent<T extends EventType> {
  type: T;
  data: EventDataByType[T];
  /** Producer, e.g. baton://stage/pretrain/host-123. */
  source: string;
  /** Deterministic id; use subjects.msgId(...) so the CloudEvent id and the Nats-Msg-Id agree. Random if absent. */
  id?: string;
  subject?: string;
  traceparent?: string;
}

/** Builds a CloudEvent and validates it (envelope and data); throws EVENT_INVALID naming the JSON path. */
export function createEvent<T extends EventType>(e: NewEvent<T>): BatonEvent<T> {
  const event = {
    specversion: "1.0",
    id: e.id ?? randomUUID(),
    source: e.source,
    type: e.type,
    time: new Date().toISOString(),
    datacontenttype: "application/json",
    ...(e.subject !== undefined ? { subject: e.subject } : {}),
    ...(e.traceparent !== undefined ? { traceparent: e.traceparent } : {}),
    data: e.data,
  };
  return validateEvent(event, `new ${e.type} event`) as BatonEvent<T>;
}

/** Validates an envelope and then its data against the schema of its type. */
export function validateEvent(value: unknown, what: string): BatonEvent {
  const envelope = assertValid<CloudEventEnvelope>("envelope", value, what);
  assertValid(envelope.type, envelope.data, `${what} (id ${envelope.id})`, "EVENT_INVALID", "/data");
  return envelope as unknown as BatonEvent;
}

/** True when the event is well-formed; for callers that want to filter instead of throw. */
export function isValidEvent(value: unknown): value is BatonEvent {
  if (violations("envelope", value).length > 0) return false;
  const e = value as CloudEventEnvelope;
  return violations(e.type, e.data).length === 0;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export function encodeEvent(event: BatonEvent): Uint8Array {
  return encoder.encode(JSON.stringify(event));
}

/**
 * Parses and validates bytes received from the bus. `where` names the subject and sequence so a
 * dead-lettered event can be found. Malformed bytes -> EVENT_MALFORMED; schema failure -> EVENT_INVALID.
 * Both are fatal: redelivering the same bytes cannot fix them.
 */
export function decodeEvent(bytes: Uint8Array, where: string): BatonEvent {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch (err) {
    const preview = Buffer.from(bytes.subarray(0, 80))
      .toString("utf8")
      .replace(/[^\x20-\x7e]/g, "?");
    throw BatonError.fatal(
      "EVENT_MALFORMED",
      `event at ${where} is not UTF-8 JSON (${(err as Error).message}); first bytes: ${JSON.stringify(preview)}. Publish CloudEvents 1.0 structured JSON (see schemas/cloudevent.schema.json).`,
    );
  }
  return validateEvent(value, `event at ${where}`);
}

/** Narrows an event to one type or throws (e.g. a run.completed on a checkpoint.ready subject). */
export function expectType<T extends EventType>(event: BatonEvent, type: T, where: string): BatonEvent<T> {
  if (event.type !== type) {
    throw BatonError.fatal(
      "ROUTING_MISMATCH",
      `event ${event.id} at ${where} has type ${event.type}; this subject carries only ${type}. Publish it to the subject for its type (see packages/contracts/src/subjects.ts).`,
    );
  }
  return event as BatonEvent<T>;
}
