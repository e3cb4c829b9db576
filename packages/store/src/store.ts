import type { Readable } from "node:stream";

/**
 * Object storage: one interface, two adapters (S3 via the AWS SDK, a local folder) that pass the
 * same contract suite (store/contract.ts). Keys are '/'-separated and come from keys.ts only.
 * Every write returns the sha256 computed while streaming; every read can be checked against an
 * expected digest and fails with CHECKPOINT_CORRUPT-style errors before the bytes are used.
 */
export interface Store {
  readonly kind: "s3" | "fs";
  /** URI of a key: s3://bucket/key or file:///root/key. */
  uri(key: string): string;
  /** Key of a URI this store owns; throws when the URI belongs to another store. */
  keyOf(uri: string): string;

  putFile(key: string, path: string): Promise<PutResult>;
  putStream(key: string, body: Readable): Promise<PutResult>;
  putBytes(key: string, bytes: Uint8Array): Promise<PutResult>;

  /**
   * Downloads to `path`: written to a temporary file beside it and renamed only after the digest
   * matches `expect` (when given), so a corrupted object never appears at `path`.
   */
  getFile(key: string, path: string, expect?: Expected): Promise<PutResult>;
  /** Reads a whole (small) object, verified against `expect` when given. */
  getBytes(key: string, expect?: Expected): Promise<Uint8Array>;
  /** Streams an object; with `expect`, the stream errors at its end if the digest or size differ. */
  getStream(key: string, expect?: Expected): Promise<Readable>;

  /** Size (and, where the store knows it, last-modified time) of an object, or null when absent. */
  head(key: string): Promise<{ size: number; modified?: Date } | null>;
  /** Keys under a prefix, sorted. */
  list(prefix: string): Promise<string[]>;
  delete(key: string): Promise<void>;
  /** Throws STORE_UNAVAILABLE when the store cannot be reached (for /readyz). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface PutResult {
  sha256: string;
  size: number;
}

export interface Expected {
  sha256?: string;
  size?: number;
  /** Names the object in the error (e.g. "model.safetensors of checkpoint s3://..."). */
  what?: string;
}
