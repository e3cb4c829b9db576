import type { CheckpointRef } from "../contracts/types.gen.ts";
import { ledgerKey } from "../subjects.ts";
import type { CommitResult, Ledger, LedgerRecord } from "./ledger.ts";

/** The ledger for one process (embedded default, unit tests): a map where the first writer wins. */
export class MemoryLedger implements Ledger {
  readonly kind = "memory" as const;
  private readonly commits = new Map<string, LedgerRecord>();
  private readonly latestByStep = new Map<string, CheckpointRef>();
  private readonly handedOn = new Set<string>();

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

  async setLatest(step: string, ref: CheckpointRef): Promise<void> {
    this.latestByStep.set(step, ref);
  }

  async latest(step: string): Promise<CheckpointRef | null> {
    return this.latestByStep.get(step) ?? null;
  }

  async close(): Promise<void> {}
}
