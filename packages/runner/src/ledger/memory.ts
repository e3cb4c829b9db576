import { latestKey, ledgerKey } from "@baton/contracts";
import { sortPointers } from "./latest.ts";
import type { CommitResult, LatestCheckpoint, Ledger, LedgerRecord } from "./ledger.ts";

/** The ledger for one process (embedded default, unit tests): a map where the first writer wins. */
export class MemoryLedger implements Ledger {
  readonly kind = "memory" as const;
  private readonly commits = new Map<string, LedgerRecord>();
  private readonly handedOn = new Set<string>();
  private readonly latestByKey = new Map<string, LatestCheckpoint>();

  async commit(runId: string, cursor: number, record: LedgerRecord): Promise<CommitResult> {
    const key = ledgerKey(runId, cursor);
    const existing = this.commits.get(key);
    if (existing) return { won: false, record: existing };
    this.commits.set(key, record);
    return { won: true, record };
  }

  async get(runId: string, cursor: number): Promise<LedgerRecord | null> {
    return this.commits.get(ledgerKey(runId, cursor)) ?? null;
  }

  async markEmitted(runId: string, cursor: number): Promise<void> {
    this.handedOn.add(ledgerKey(runId, cursor));
  }

  async emitted(runId: string, cursor: number): Promise<boolean> {
    return this.handedOn.has(ledgerKey(runId, cursor));
  }

  async setLatest(pointer: LatestCheckpoint): Promise<void> {
    this.latestByKey.set(latestKey(pointer.pipeline, pointer.step), pointer);
  }

  async latest(pipeline: string, step: string): Promise<LatestCheckpoint | null> {
    return this.latestByKey.get(latestKey(pipeline, step)) ?? null;
  }

  async latestAll(): Promise<LatestCheckpoint[]> {
    return sortPointers([...this.latestByKey.values()]);
  }

  async close(): Promise<void> {}
}
