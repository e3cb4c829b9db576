import { BatonError, KV_BUCKETS, latestKey, ledgerKey } from "@baton/contracts";
import { StorageType } from "@nats-io/jetstream";
import { type KV, Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { sortPointers } from "./latest.ts";
import type { CommitResult, LatestCheckpoint, Ledger, LedgerRecord } from "./ledger.ts";

const encoder = new TextEncoder();

/**
 * The ledger in NATS KV. commit() is KV create(): the server refuses it when the key exists, so
 * exactly one of any number of racing workers wins, whatever the acks and redeliveries did.
 */
export class NatsLedger implements Ledger {
  readonly kind = "nats" as const;

  private constructor(
    private readonly commits: KV,
    private readonly handedOn: KV,
    private readonly latestPointers: KV,
  ) {}

  static async connect(nc: NatsConnection): Promise<NatsLedger> {
    try {
      const kvm = new Kvm(nc);
      const commits = await kvm.create(KV_BUCKETS.ledger, { history: 1, storage: StorageType.File });
      const emitted = await kvm.create(KV_BUCKETS.emitted, { history: 1, storage: StorageType.File });
      const latest = await kvm.create(KV_BUCKETS.latest, { history: 5, storage: StorageType.File });
      return new NatsLedger(commits, emitted, latest);
    } catch (err) {
      throw BatonError.retry(
        "LEDGER_UNAVAILABLE",
        `cannot open NATS KV buckets ${KV_BUCKETS.ledger}/${KV_BUCKETS.emitted}/${KV_BUCKETS.latest}: ${(err as Error).message}. Is JetStream enabled (nats-server -js)?`,
        err,
      );
    }
  }

  async commit(runId: string, cursor: number, record: LedgerRecord): Promise<CommitResult> {
    const key = ledgerKey(runId, cursor);
    try {
      await this.commits.create(key, encoder.encode(JSON.stringify(record)));
      return { won: true, record };
    } catch (err) {
      // create() fails both when the key exists and when the server is unreachable: ask which. The
      // error is the commit's either way; the read is only how we tell.
      const existing = await this.get(runId, cursor).catch((readErr: unknown) => {
        throw BatonError.retry(
          "LEDGER_UNAVAILABLE",
          `ledger commit of ${key} in KV ${KV_BUCKETS.ledger} failed: ${(err as Error).message} (and reading whether another worker committed it failed too: ${(readErr as Error).message}); the attempt is retried`,
          err,
        );
      });
      if (existing) return { won: false, record: existing };
      throw BatonError.retry(
        "LEDGER_UNAVAILABLE",
        `ledger commit of ${key} in KV ${KV_BUCKETS.ledger} failed: ${(err as Error).message}; the attempt is retried`,
        err,
      );
    }
  }

  async markEmitted(runId: string, cursor: number): Promise<void> {
    const key = ledgerKey(runId, cursor);
    try {
      await this.handedOn.create(key, encoder.encode(new Date().toISOString()));
    } catch (err) {
      // Already marked (another worker re-emitted too) is fine; anything else is the caller's to log.
      if (await this.emitted(runId, cursor)) return;
      throw BatonError.retry(
        "LEDGER_UNAVAILABLE",
        `marking ${key} as handed on in KV ${KV_BUCKETS.emitted} failed: ${(err as Error).message}`,
        err,
      );
    }
  }

  async emitted(runId: string, cursor: number): Promise<boolean> {
    const key = ledgerKey(runId, cursor);
    try {
      const e = await this.handedOn.get(key);
      return e !== null && e.operation === "PUT";
    } catch (err) {
      throw BatonError.retry(
        "LEDGER_UNAVAILABLE",
        `ledger read of ${key} in KV ${KV_BUCKETS.emitted} failed: ${(err as Error).message}`,
        err,
      );
    }
  }

  async get(runId: string, cursor: number): Promise<LedgerRecord | null> {
    const key = ledgerKey(runId, cursor);
    try {
      const e = await this.commits.get(key);
      return e && e.operation === "PUT" ? (e.json() as LedgerRecord) : null;
    } catch (err) {
      throw BatonError.retry(
        "LEDGER_UNAVAILABLE",
        `ledger read of ${key} in KV ${KV_BUCKETS.ledger} failed: ${(err as Error).message}`,
        err,
      );
    }
  }

  async setLatest(pointer: LatestCheckpoint): Promise<void> {
    const key = latestKey(pointer.pipeline, pointer.step);
    try {
      await this.latestPointers.put(key, encoder.encode(JSON.stringify(pointer)));
    } catch (err) {
      throw BatonError.retry(
        "LEDGER_UNAVAILABLE",
        `latest-checkpoint pointer ${key} in KV ${KV_BUCKETS.latest} failed: ${(err as Error).message}`,
        err,
      );
    }
  }

  async latest(pipeline: string, step: string): Promise<LatestCheckpoint | null> {
    const key = latestKey(pipeline, step);
    try {
      const e = await this.latestPointers.get(key);
      return e && e.operation === "PUT" ? (e.json() as LatestCheckpoint) : null;
    } catch (err) {
      throw BatonError.retry(
        "LEDGER_UNAVAILABLE",
        `latest-checkpoint pointer ${key} in KV ${KV_BUCKETS.latest} cannot be read: ${(err as Error).message}`,
        err,
      );
    }
  }

  async latestAll(): Promise<LatestCheckpoint[]> {
    try {
      const out: LatestCheckpoint[] = [];
      for await (const key of await this.latestPointers.keys()) {
        const e = await this.latestPointers.get(key);
        if (e && e.operation === "PUT") out.push(e.json() as LatestCheckpoint);
      }
      return sortPointers(out);
    } catch (err) {
      throw BatonError.retry(
        "LEDGER_UNAVAILABLE",
        `latest-checkpoint pointers in KV ${KV_BUCKETS.latest} cannot be listed: ${(err as Error).message}`,
        err,
      );
    }
  }

  async close(): Promise<void> {}
}
