// `baton trigger serve`: new data and new rankings start the right part of the pipeline, with no
// central scheduler. Three durable pull consumers (dataset.updated, feedback.ready, and the bucket's
// own notifications when configured) feed the pending windows in NATS KV; a sweep closes the due
// windows by publishing each run's first checkpoint.ready (firstEvent in @baton/runner, as `baton run`).
// Beyond those windows and their dedupe marks the trigger keeps no run state.
import { hostname } from "node:os";
import { type Bus, type Delivery, type DurableConsumer, KvState } from "@baton/bus";
import {
  type CheckpointRef,
  faultBackoffMs,
  HEADERS,
  isBatonError,
  KV_BUCKETS,
  subjects,
  toBatonError,
} from "@baton/contracts";
import { type Ledger, type Logger, latestCheckpoint, startRun } from "@baton/runner";
import { matches, type Rules, recipeFor } from "./rules.ts";
import { fromBucketNotification, fromEvent, type Parsed } from "./updates.ts";
import { runIdOf, type Seen, type Window, Windows } from "./windows.ts";

export const DEAD_LETTER_SUBJECT = subjects.deadLetter("trigger");

export interface TriggerOptions {
  bus: Bus;
  ledger: Ledger;
  rules: Rules;
  logger: Logger;
  /** How often due windows are looked for (default: a quarter of the shortest window, 250 ms to 5 s). */
  tickMs?: number;
  /** Attempts at a delivery whose handling fails for a retryable reason (NATS KV away) before it is dead-lettered. */
  maxAttempts?: number;
  /** Called after each run this trigger started (tests, metrics). */
  onRunStarted?(run: { rule: string; runId: string; uris: string[] }): void;
}

export interface TriggerService {
  done: Promise<void>;
  stop(): Promise<void>;
}

interface Source {
  consumer: DurableConsumer;
  parse(bytes: Uint8Array, where: string): Parsed;
}

export async function serveTrigger(o: TriggerOptions): Promise<TriggerService> {
  const windows = new Windows(await KvState.open<Window | Seen>(o.bus, KV_BUCKETS.trigger));
  const log = o.logger;
  const controller = new AbortController();
  const signal = controller.signal;
  // Durable from the first start on: a trigger deployed onto an old stream does not replay its history
  // as new runs; what arrives while it is down (or killed) waits for it.
  const sources: Source[] = [
    { consumer: { durable: "trigger-datasets", filter: subjects.allDatasetUpdated(), from: "new" }, parse: fromEvent },
    { consumer: { durable: "trigger-feedback", filter: subjects.feedbackReady(), from: "new" }, parse: fromEvent },
  ];
  if (o.rules.bucketSubject)
    sources.push({
      consumer: { durable: "trigger-bucket", filter: o.rules.bucketSubject, from: "new" },
      parse: fromBucketNotification,
    });
  for (const s of sources) await o.bus.ensureConsumer(s.consumer);
  const byName = new Map(o.rules.rules.map((r) => [r.name, r]));
  const tickMs =
    o.tickMs ?? Math.min(5_000, Math.max(250, Math.floor(Math.min(...o.rules.rules.map((r) => r.windowMs)) / 4)));
  const maxAttempts = o.maxAttempts ?? Math.max(1, o.bus.settings.maxDeliver - 1);
  const source = `baton://trigger/${encodeURIComponent(`${hostname()}:${process.pid}`)}`;

  async function handle(s: Source, d: Delivery): Promise<void> {
    const where = `${d.subject}#${d.streamSeq}`;
    let parsed: Parsed;
    try {
      parsed = s.parse(d.data, where);
    } catch (err) {
      await deadLetter(d, toBatonError(err, "EVENT_INVALID"));
      return;
    }
    for (const why of parsed.skipped) log.info("notification skipped", { where, why });
    try {
      for (const u of parsed.updates) {
        const rules = o.rules.rules.filter((r) => matches(r, u.kind, u.uri));
        if (rules.length === 0) {
          log.info(`no rule takes ${u.kind} ${u.uri}; ignored`, { where, from: u.from });
          continue;
        }
        for (const rule of rules) {
          if (rule.checkpoint.kind === "event" && !u.checkpoint) {
            await deadLetter(
              d,
              toBatonError(
                new Error(
                  `feedback.ready ${u.from} names no checkpoint, but rule "${rule.name}" starts from the checkpoint whose outputs were ranked; publish it with data.checkpoint`,
                ),
                "EVENT_INVALID",
              ),
            );
            return;
          }
          const result = await windows.add(rule, u);
          if (result === "busy") {
            d.nak(Math.min(1_000, tickMs)); // its window is closing right now; the next one takes it
            return;
          }
          log.info(result === "duplicate" ? "already taken; not started again" : "update pending", {
            rule: rule.name,
            uri: u.uri,
            result,
            where,
          });
        }
      }
      await d.ack();
    } catch (err) {
      const e = toBatonError(err, "INTERNAL");
      if (d.deliveryCount >= maxAttempts) await deadLetter(d, e);
      else {
        log.warn("could not record the update; retrying", { where, error: e.message });
        d.nak(1_000);
      }
    }
  }

  async function deadLetter(d: Delivery, error: ReturnType<typeof toBatonError>): Promise<void> {
    try {
      await o.bus.publishRaw(DEAD_LETTER_SUBJECT, d.data, {
        msgId: `dlq:trigger:${d.subject}:${d.streamSeq}`,
        headers: {
          [HEADERS.deadLetterReason]: error.message,
          [HEADERS.deadLetterCode]: error.code,
          [HEADERS.deadLetterSubject]: d.subject,
          [HEADERS.deadLetterDeliveries]: String(d.deliveryCount),
          [HEADERS.deadLetterEventId]: peekId(d.data),
        },
      });
      d.term();
      log.error("dead-lettered", {
        subject: d.subject,
        seq: d.streamSeq,
        code: error.code,
        reason: error.message,
        deadLetter: DEAD_LETTER_SUBJECT,
      });
    } catch (err) {
      d.nak(1_000); // without the dead letter the notification would vanish
      log.error("could not publish the dead letter; handed back", { error: (err as Error).message });
    }
  }

  const blocked = new Map<string, string>();
  async function close(key: string): Promise<void> {
    const current = await windows.get(key);
    if (!current) return;
    const rule = byName.get(current.value.rule);
    if (!rule) {
      if (!blocked.has(key))
        log.warn(
          `window ${key} belongs to rule "${current.value.rule}", which the rules file no longer has; left as it is`,
        );
      blocked.set(key, "no rule");
      return;
    }
    if (!windows.due(rule, current.value)) return;
    let frozen = current;
    if (current.value.state === "open") {
      let start: CheckpointRef | null;
      try {
        start =
          rule.checkpoint.kind === "event"
            ? current.value.checkpoint
            : await latestCheckpoint(o.ledger, rule.checkpoint.pipeline, rule.checkpoint.step);
      } catch (err) {
        const message = (err as Error).message;
        if (blocked.get(key) !== message)
          log.error(`rule "${rule.name}" cannot start its run yet; its updates stay pending`, {
            window: key,
            error: message,
          });
        blocked.set(key, message);
        return;
      }
      const next = await windows.freeze(key, current, runIdOf(current.value), start);
      if (!next) return; // an update arrived meanwhile: the window stays open a while longer
      frozen = next;
    }
    blocked.delete(key);
    const w = frozen.value;
    await windows.markSeen(w);
    const uris = w.items.map((i) => i.uri);
    await startRun(o.bus, {
      runId: w.runId!,
      recipe: recipeFor(rule, uris),
      from: rule.from,
      checkpoint: w.start ?? null,
      source,
    });
    await windows.remove(key, frozen.revision);
    log.info("run started", {
      rule: rule.name,
      runId: w.runId,
      from: rule.from,
      checkpoint: w.start?.uri ?? null,
      updates: uris,
    });
    o.onRunStarted?.({ rule: rule.name, runId: w.runId!, uris });
  }

  const pullLoop = async (s: Source): Promise<void> => {
    let faults = 0;
    while (!signal.aborted) {
      try {
        const d = await o.bus.pullDurable(s.consumer, { expiresMs: 2_000, signal });
        faults = 0;
        if (d) await handle(s, d);
      } catch (err) {
        faults++;
        log.warn("bus fault; waiting before the next pull", {
          consumer: s.consumer.durable,
          error: (err as Error).message,
        });
        await sleep(faultBackoffMs(faults), signal);
      }
    }
  };

  const sweepLoop = async (): Promise<void> => {
    while (!signal.aborted) {
      try {
        for (const key of await windows.keys()) await close(key);
      } catch (err) {
        log.warn(isBatonError(err) ? err.message : "sweep failed; trying again", { error: (err as Error).message });
      }
      await sleep(tickMs, signal);
    }
  };

  log.info("trigger serving", {
    rules: o.rules.rules.map(
      (r) => `${r.name}: ${r.on.kind}${r.on.prefix ? ` ${r.on.prefix}` : ""} -> ${r.recipe.name} from ${r.from}`,
    ),
    consumers: sources.map((s) => s.consumer.filter),
    tickMs,
  });
  const done = Promise.all([...sources.map(pullLoop), sweepLoop()]).then(() => undefined);
  return {
    done,
    stop: async () => {
      controller.abort();
      await done;
    },
  };
}

function peekId(bytes: Uint8Array): string {
  try {
    const id = (JSON.parse(new TextDecoder().decode(bytes)) as { id?: unknown }).id;
    return typeof id === "string" && id.length > 0 ? id : "unreadable";
  } catch {
    return "unreadable";
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
