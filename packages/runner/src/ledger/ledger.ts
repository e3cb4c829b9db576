import type { CheckpointRef } from "@baton/contracts";

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
  /** Moves the pointer "newest checkpoint of step S of pipeline P" (the relay, after each winning commit). */
  setLatest(pointer: LatestCheckpoint): Promise<void>;
  /** Newest committed checkpoint of `step` in runs of the recipe named `pipeline` (where retraining starts). */
  latest(pipeline: string, step: string): Promise<LatestCheckpoint | null>;
  /** Every pointer, sorted by pipeline then step (for `baton status`). */
  latestAll(): Promise<LatestCheckpoint[]>;
  close(): Promise<void>;
}

export interface LedgerRecord {
  checkpoint: CheckpointRef;
  step: string;
  worker: string;
  committedAt: string;
}

export type CommitResult = { won: true; record: LedgerRecord } | { won: false; record: LedgerRecord };

/** The newest committed checkpoint of one step of one pipeline (a recipe, by name). */
export interface LatestCheckpoint {
  pipeline: string;
  step: string;
  checkpoint: CheckpointRef;
  runId: string;
  committedAt: string;
}
