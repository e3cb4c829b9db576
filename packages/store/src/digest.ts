import { createHash, type Hash } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";
import { BatonError } from "@baton/contracts";
import type { Expected, PutResult } from "./store.ts";

/** Pass-through that hashes (sha256) and counts every byte on its way. */
export class DigestStream extends Transform {
  private readonly hash: Hash = createHash("sha256");
  private bytes = 0;
  private digest: string | undefined;

  constructor(private readonly expect?: Expected & { key: string }) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    done(null, chunk);
  }

  /** With an expectation, a mismatch fails the stream at its end (before a consumer sees 'end'). */
  override _flush(done: TransformCallback): void {
    this.digest = this.hash.digest("hex");
    const e = this.expect;
    done(e ? mismatch(e.key, e, this.result()) : null);
  }

  result(): PutResult {
    if (this.digest === undefined) throw new Error("DigestStream.result() before the stream ended");
    return { sha256: this.digest, size: this.bytes };
  }
}

/** The CHECKPOINT_CORRUPT error for a read that does not match, or null when it matches. */
export function mismatch(key: string, expect: Expected, got: PutResult): BatonError | null {
  const what = expect.what ?? key;
  if (expect.size !== undefined && expect.size !== got.size) {
    return BatonError.fatal(
      "CHECKPOINT_CORRUPT",
      `${what} (key ${key}) has ${got.size} bytes but the manifest says ${expect.size} (sha256 expected ${expect.sha256 ?? "?"}, got ${got.sha256}). The object was changed or truncated after commit; the bytes were not used. Re-run the step that produced it.`,
    );
  }
  if (expect.sha256 !== undefined && expect.sha256 !== got.sha256) {
    return BatonError.fatal(
      "CHECKPOINT_CORRUPT",
      `${what} (key ${key}) has sha256 ${got.sha256} but ${expect.sha256} was expected. The object was changed after commit; the bytes were not used. Re-run the step that produced it.`,
    );
  }
  return null;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}
