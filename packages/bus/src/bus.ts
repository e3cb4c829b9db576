import type { BatonEvent } from "@baton/contracts";

/**
 * The event bus: one interface, two adapters (NATS JetStream for services, in-memory for the embedded
 * default and unit tests) that pass the same contract suite (bus/contract.ts).
 *
 * Work is pulled one message at a time per step name (a durable consumer, max_ack_pending 1). The
 * worker keeps the message alive with working() while it trains, then ack()s, nak(delay)s a retryable
 * fault, or term()s bad input. Unacked messages come back after ackWait; a message is delivered at
 * most maxDeliver times.
 */
export interface Bus {
  readonly kind: "nats" | "memory";
  /**
   * Validates the event against schemas/ and publishes it. msgId (defaults to event.id) is the
   * dedupe key: a second publish with the same id inside the dedupe window is dropped (`duplicate: true`).
   * headers carry extras such as W3C trace context.
   */
  publish(subject: string, event: BatonEvent, options?: PublishOptions): Promise<PublishAck>;
  /** Publishes raw bytes without validation: dead letters and fault-injection tests only. */
  publishRaw(subject: string, payload: Uint8Array, options?: PublishOptions): Promise<PublishAck>;
  /** Ensures the durable consumer for a step (or a named one) exists (idempotent). pull() calls it too. */
  ensureConsumer(step: string | DurableConsumer): Promise<void>;
  /** Pulls ONE message for `step`; null when none arrived within expiresMs. */
  pull(step: string, options?: { expiresMs?: number; signal?: AbortSignal }): Promise<Delivery | null>;
  /**
   * Pulls ONE message from a named durable consumer on any subject filter (the retraining trigger's
   * dataset.updated / feedback.ready / bucket-notification consumers), with the same settings and
   * delivery semantics as a step's consumer.
   */
  pullDurable(
    consumer: DurableConsumer,
    options?: { expiresMs?: number; signal?: AbortSignal },
  ): Promise<Delivery | null>;
  /**
   * Watches a subject filter (wildcards allowed) without taking work from anyone. from "all" replays
   * what the stream holds first (so a test cannot miss an event published before it watched).
   */
  watch(filter: string, handler: (m: Observed) => void, options?: { from?: "all" | "new" }): Promise<Unwatch>;
  /** Throws BUS_UNAVAILABLE when the bus cannot be reached (for /readyz). */
  ping(): Promise<void>;
  close(): Promise<void>;
  readonly settings: BusSettings;
}

export interface BusSettings {
  /** Redelivery after this long without ack/working() (ms). Heartbeat every ackWaitMs/3. */
  ackWaitMs: number;
  /** Deliveries of one message before the bus gives up on it (the runner dead-letters on the last). */
  maxDeliver: number;
  /** How long publish() dedupes a repeated msgId (ms). */
  duplicateWindowMs: number;
}

export const DEFAULT_BUS_SETTINGS: BusSettings = { ackWaitMs: 60_000, maxDeliver: 6, duplicateWindowMs: 120_000 };

export interface DurableConsumer {
  /** Durable name (letters, digits, '-', '_'). */
  durable: string;
  /** One subject filter inside the stream (wildcards allowed). */
  filter: string;
  /**
   * Where a consumer created now starts: "all" (default) takes what the stream already holds, "new"
   * only what is published from its creation on (then it is durable like any other).
   */
  from?: "all" | "new";
}

export interface PublishOptions {
  msgId?: string;
  headers?: Record<string, string>;
}

export interface PublishAck {
  seq: number;
  duplicate: boolean;
}

export interface Observed {
  subject: string;
  seq: number;
  data: Uint8Array;
  headers: Record<string, string>;
}

export type Unwatch = () => Promise<void>;

/** One delivery of a work message. Exactly one of ack/nak/term should be called. */
export interface Delivery {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: Record<string, string>;
  /** 1 on the first delivery. */
  readonly deliveryCount: number;
  readonly streamSeq: number;
  /** Resets the ack deadline (call every ~ackWait/3 while working). */
  working(): void;
  ack(): Promise<void>;
  /** Redeliver after delayMs (0: now). */
  nak(delayMs?: number): void;
  /** Never redeliver. The reason is recorded by the server (NATS) / kept for tests (memory). */
  term(reason?: string): void;
}
