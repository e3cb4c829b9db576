import type { CheckpointRef } from "../contracts/types.gen.ts";

/**
 * Exactly-once step commits. commit() is atomic: the first writer of <runId>.<cursor> wins (NATS KV
 * create(), which fails when the key exists); every later writer gets the winner's record back and
 * must re-emit the next event from it instead of its own checkpoint.
 */
export interface Ledger {
  readonly kind: "nats" | "memory";
  commit(runId: string, cursor: number, record: LedgerRecord): Promise<CommitResult>;
  get(runId: string, cursor: number): Promise<LedgerRecord | null>;
  /**
   * Records that the committed step's next event was published (after a successful publish). A
   * duplicate of the step's event that finds commit + marker acks without publishing again, however
   * long after JetStream's duplicate window it arrives; commit without marker re-emits, then marks.
   */
  markEmitted(runId: string, cursor: number): Promise<void>;
  emitted(runId: string, cursor: number): Promise<boolean>;
  /** Newest committed checkpoint of a step name (where retraining starts). */
  setLatest(step: string, ref: CheckpointRef): Promise<void>;
  latest(step: string): Promise<CheckpointRef | null>;
  close(): Promise<void>;
}

export interface LedgerRecord {
  checkpoint: CheckpointRef;
  step: string;
  worker: string;
  committedAt: string;
}

export type CommitResult = { won: true; record: LedgerRecord } | { won: false; record: LedgerRecord };
