import { BatonError } from "@baton/contracts";
import { StorageType } from "@nats-io/jetstream";
import { type KV, Kvm } from "@nats-io/kv";
import type { Bus } from "./bus.ts";
import { NatsBus } from "./nats.ts";

const encoder = new TextEncoder();

export interface Versioned<T> {
  value: T;
  revision: number;
}

/**
 * Small JSON state in a NATS KV bucket with compare-and-set, for services that must survive SIGKILL
 * without a database (the retraining trigger's dedupe marks and pending windows). create() is the
 * server's create (one writer wins); update() and delete() take the revision read, and answer false
 * when another writer moved the key first.
 */
export class KvState<T> {
  private constructor(
    private readonly kv: KV,
    readonly bucket: string,
  ) {}

  static async open<T>(bus: Bus, bucket: string): Promise<KvState<T>> {
    if (!(bus instanceof NatsBus))
      throw BatonError.fatal(
        "CONFIG_INVALID",
        `KV bucket ${bucket} needs NATS: set NATS_URL (the in-memory bus keeps no state across processes)`,
      );
    try {
      return new KvState<T>(await new Kvm(bus.nc).create(bucket, { history: 1, storage: StorageType.File }), bucket);
    } catch (err) {
      throw BatonError.retry(
        "LEDGER_UNAVAILABLE",
        `cannot open NATS KV bucket ${bucket}: ${(err as Error).message}. Is JetStream enabled (nats-server -js)?`,
        err,
      );
    }
  }

  async get(key: string): Promise<Versioned<T> | null> {
    try {
      const e = await this.kv.get(key);
      return e && e.operation === "PUT" ? { value: e.json() as T, revision: e.revision } : null;
    } catch (err) {
      throw this.fault("read", key, err);
    }
  }

  /** False when the key exists. */
  async create(key: string, value: T): Promise<boolean> {
    try {
      await this.kv.create(key, encoder.encode(JSON.stringify(value)));
      return true;
    } catch (err) {
      if ((await this.get(key)) !== null) return false;
      throw this.fault("create", key, err);
    }
  }

  /** False when the key moved past `revision` (or was deleted). */
  async update(key: string, value: T, revision: number): Promise<boolean> {
    try {
      await this.kv.update(key, encoder.encode(JSON.stringify(value)), revision);
      return true;
    } catch (err) {
      if ((await this.get(key))?.revision !== revision) return false;
      throw this.fault("update", key, err);
    }
  }

  /** Deletes the key if it is still at `revision`; false when another writer moved it. */
  async delete(key: string, revision: number): Promise<boolean> {
    try {
      await this.kv.delete(key, { previousSeq: revision });
      return true;
    } catch (err) {
      if ((await this.get(key))?.revision !== revision) return false;
      throw this.fault("delete", key, err);
    }
  }

  /** Keys matching a KV filter (e.g. "window.>"). */
  async keys(filter: string): Promise<string[]> {
    try {
      const out: string[] = [];
      for await (const k of await this.kv.keys(filter)) out.push(k);
      return out.sort();
    } catch (err) {
      throw this.fault("list", filter, err);
    }
  }

  private fault(what: string, key: string, err: unknown): BatonError {
    return BatonError.retry(
      "LEDGER_UNAVAILABLE",
      `KV ${what} of ${key} in bucket ${this.bucket} failed: ${(err as Error).message}`,
      err,
    );
  }
}
