import type { BatonEvent } from "@baton/contracts";
import { BatonError, durableName, subjects } from "@baton/contracts";
import {
  type Bus,
  type BusSettings,
  DEFAULT_BUS_SETTINGS,
  type Delivery,
  type DurableConsumer,
  type Observed,
  type PublishAck,
  type PublishOptions,
  type Unwatch,
} from "./bus.ts";
import { encodeForPublish, headerValue, subjectMatches } from "./shared.ts";

interface Stored extends Observed {
  at: number;
}

/** Per-consumer state of one message. */
interface Tracked {
  deliveries: number;
  /** Delivered and not yet acked/naked: due back at `deadline` unless working() moves it. */
  inflight: boolean;
  deadline: number;
  /** Earliest time it may be delivered (again). */
  availableAt: number;
  done: boolean;
}

interface ConsumerState {
  filter: string;
  /** Next log index not yet looked at. */
  cursor: number;
  tracked: Map<number, Tracked>;
  /** Terminated messages and their reasons, for tests and the memory twin's diagnostics. */
  terminated: Map<number, string | undefined>;
}

/**
 * JetStream semantics in one process: a log of messages, msg-id dedupe inside a window, and one
 * consumer per step with max_ack_pending 1, redelivery after ackWait, nak delay, term and
 * maxDeliver. The embedded `baton run` uses it; so do unit tests.
 */
export class MemoryBus implements Bus {
  readonly kind = "memory" as const;
  readonly settings: BusSettings;
  private readonly log: Stored[] = [];
  private readonly dedupe = new Map<string, { seq: number; at: number }>();
  private readonly consumers = new Map<string, ConsumerState>();
  private readonly watchers = new Set<{ filter: string; handler: (m: Observed) => void }>();
  private wakers: (() => void)[] = [];
  private closed = false;

  constructor(settings: Partial<BusSettings> = {}) {
    this.settings = { ...DEFAULT_BUS_SETTINGS, ...settings };
  }

  async publish(subject: string, event: BatonEvent, options: PublishOptions = {}): Promise<PublishAck> {
    return this.publishRaw(subject, encodeForPublish(subject, event, options.headers), {
      msgId: options.msgId ?? event.id,
      headers: options.headers ?? {},
    });
  }

  async publishRaw(subject: string, payload: Uint8Array, options: PublishOptions = {}): Promise<PublishAck> {
    this.assertOpen();
    const now = Date.now();
    const msgId = options.msgId;
    if (this.dedupe.size > 10_000) {
      for (const [id, seen] of this.dedupe)
        if (now - seen.at >= this.settings.duplicateWindowMs) this.dedupe.delete(id);
    }
    if (msgId !== undefined) {
      const seen = this.dedupe.get(msgId);
      if (seen && now - seen.at < this.settings.duplicateWindowMs) return { seq: seen.seq, duplicate: true };
    }
    const seq = this.log.length + 1;
    // Same header rules as NATS (one line, bounded), so both adapters hand out the same values.
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(options.headers ?? {})) headers[k] = headerValue(v);
    if (msgId !== undefined) headers["Nats-Msg-Id"] = msgId;
    const stored: Stored = { subject, seq, data: payload, headers, at: now };
    this.log.push(stored);
    if (msgId !== undefined) this.dedupe.set(msgId, { seq, at: now });
    for (const w of this.watchers) if (subjectMatches(w.filter, subject)) queueMicrotask(() => w.handler(stored));
    this.wake();
    return { seq, duplicate: false };
  }

  async ensureConsumer(step: string | DurableConsumer): Promise<void> {
    this.consumer(
      typeof step === "string" ? { durable: durableName(step), filter: subjects.checkpointReady(step) } : step,
    );
  }

  pull(step: string, options: { expiresMs?: number; signal?: AbortSignal } = {}): Promise<Delivery | null> {
    return this.pullDurable({ durable: durableName(step), filter: subjects.checkpointReady(step) }, options);
  }

  async pullDurable(
    consumer: DurableConsumer,
    options: { expiresMs?: number; signal?: AbortSignal } = {},
  ): Promise<Delivery | null> {
    this.assertOpen();
    const c = this.consumer(consumer);
    const until = Date.now() + (options.expiresMs ?? 5_000);
    for (;;) {
      if (this.closed || options.signal?.aborted) return null;
      const now = Date.now();
      const taken = this.take(c, now);
      if (taken) return taken;
      if (now >= until) return null;
      await this.waitUntil(Math.min(until, this.nextTimer(c, now)), options.signal);
    }
  }

  async watch(
    filter: string,
    handler: (m: Observed) => void,
    options: { from?: "all" | "new" } = {},
  ): Promise<Unwatch> {
    const w = { filter, handler };
    if ((options.from ?? "all") === "all") for (const m of this.log) if (subjectMatches(filter, m.subject)) handler(m);
    this.watchers.add(w);
    return async () => {
      this.watchers.delete(w);
    };
  }

  async ping(): Promise<void> {
    this.assertOpen();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.watchers.clear();
    this.wake();
  }

  /** Why a message was terminated, by stream sequence (for tests and diagnostics). */
  terminationReason(step: string, seq: number): string | undefined {
    return this.consumers.get(durableName(step))?.terminated.get(seq);
  }

  private consumer(spec: DurableConsumer): ConsumerState {
    let c = this.consumers.get(spec.durable);
    if (!c) {
      c = {
        filter: spec.filter,
        cursor: spec.from === "new" ? this.log.length : 0,
        tracked: new Map(),
        terminated: new Map(),
      };
      this.consumers.set(spec.durable, c);
    }
    return c;
  }

  private take(c: ConsumerState, now: number): Delivery | null {
    // Pull in new messages that match the filter.
    for (; c.cursor < this.log.length; c.cursor++) {
      const m = this.log[c.cursor]!;
      if (subjectMatches(c.filter, m.subject))
        c.tracked.set(m.seq, { deliveries: 0, inflight: false, deadline: 0, availableAt: m.at, done: false });
    }
    // Expire in-flight deliveries whose deadline passed; they become redeliverable (or exhausted).
    let pending = 0;
    for (const t of c.tracked.values()) {
      if (t.done || !t.inflight) continue;
      if (t.deadline <= now) {
        t.inflight = false;
        t.availableAt = t.deadline;
        if (t.deliveries >= this.settings.maxDeliver) t.done = true;
      } else pending++;
    }
    // A nak'ed message waiting out its delay still counts against max_ack_pending, as on JetStream.
    for (const t of c.tracked.values())
      if (!t.done && !t.inflight && t.deliveries > 0 && t.availableAt > now) pending++;
    if (pending >= 1) return null;
    // Settled messages need no more bookkeeping.
    for (const [seq, t] of c.tracked) if (t.done) c.tracked.delete(seq);
    // Lowest sequence first: redeliveries before new work.
    for (const [seq, t] of [...c.tracked].sort((a, b) => a[0] - b[0])) {
      if (t.done || t.inflight || t.availableAt > now) continue;
      t.deliveries++;
      t.inflight = true;
      t.deadline = now + this.settings.ackWaitMs;
      return this.delivery(c, seq, t);
    }
    return null;
  }

  private delivery(c: ConsumerState, seq: number, t: Tracked): Delivery {
    const m = this.log[seq - 1]!;
    const attempt = t.deliveries;
    // Only the current delivery may settle the message: a stale worker's late ack changes nothing.
    const current = (): boolean => t.inflight && t.deliveries === attempt && !t.done;
    const settle = (): void => {
      t.inflight = false;
      this.wake();
    };
    return {
      subject: m.subject,
      data: m.data,
      headers: { ...m.headers },
      deliveryCount: attempt,
      streamSeq: seq,
      working: () => {
        if (current()) t.deadline = Date.now() + this.settings.ackWaitMs;
      },
      ack: async () => {
        if (!current()) return;
        t.done = true;
        settle();
      },
      nak: (delayMs = 0) => {
        if (!current()) return;
        t.availableAt = Date.now() + delayMs;
        if (t.deliveries >= this.settings.maxDeliver) t.done = true;
        settle();
      },
      term: (reason?: string) => {
        if (!current()) return;
        t.done = true;
        c.terminated.set(seq, reason);
        settle();
      },
    };
  }

  private nextTimer(c: ConsumerState, now: number): number {
    let next = Number.POSITIVE_INFINITY;
    for (const t of c.tracked.values()) {
      if (t.done) continue;
      if (t.inflight) next = Math.min(next, t.deadline);
      else if (t.availableAt > now) next = Math.min(next, t.availableAt);
    }
    return next;
  }

  private waitUntil(when: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakers = this.wakers.filter((w) => w !== done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, Math.min(when - Date.now(), 2_147_000_000)));
      this.wakers.push(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  private wake(): void {
    const wakers = this.wakers;
    this.wakers = [];
    for (const w of wakers) w();
  }

  private assertOpen(): void {
    if (this.closed)
      throw BatonError.retry(
        "BUS_UNAVAILABLE",
        "the in-memory bus is closed; create a new MemoryBus (or stageEnv()) for the next run",
      );
  }
}
