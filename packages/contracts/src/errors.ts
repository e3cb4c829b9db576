/**
 * The one error type of the relay. `disposition` decides what happens to the event:
 *   retry -> nak with backoff (redelivered, up to the retry policy's attempts, then dead-lettered)
 *   fatal -> term + dead-letter now (bad input: retrying cannot help)
 * Messages say what was wrong, where, and what to do.
 */
export type Disposition = "retry" | "fatal";

export type BatonErrorCode =
  | "EVENT_MALFORMED" // not JSON / not a CloudEvent
  | "EVENT_INVALID" // fails its JSON Schema
  | "ROUTING_MISMATCH" // event's pipeline[cursor] does not belong to this consumer/stage
  | "CHECKPOINT_MISSING"
  | "CHECKPOINT_INVALID" // a checkpoint of another kind than the stage needs (no reward head, a reward model as policy)
  | "CHECKPOINT_CORRUPT" // bytes do not match the manifest
  | "MANIFEST_INVALID"
  | "STORE_UNAVAILABLE"
  | "STORE_NOT_FOUND"
  | "BUS_UNAVAILABLE"
  | "LEDGER_UNAVAILABLE"
  | "CONFIG_INVALID"
  | "DATASET_INVALID" // a bad record under policy fail, a missing dataset, an unknown format
  | "DATA_NOT_ALLOWED" // the event names data outside the locations the service may read (access.ts)
  | "TRAIN_FAILED"
  | "INTERRUPTED" // SIGTERM: snapshot written, another worker resumes
  | "ATTEMPTS_EXHAUSTED"
  | "INTERNAL";

export class BatonError extends Error {
  override readonly name = "BatonError";
  readonly code: BatonErrorCode;
  readonly disposition: Disposition;

  constructor(code: BatonErrorCode, disposition: Disposition, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.disposition = disposition;
  }

  /** Whether another attempt can succeed (a transient fault) or fails the same way (bad input, a bug in the recipe). */
  get retryable(): boolean {
    return this.disposition === "retry";
  }

  static fatal(code: BatonErrorCode, message: string, cause?: unknown): BatonError {
    return new BatonError(code, "fatal", message, { cause });
  }

  static retry(code: BatonErrorCode, message: string, cause?: unknown): BatonError {
    return new BatonError(code, "retry", message, { cause });
  }
}

export function isBatonError(err: unknown): err is BatonError {
  return err instanceof BatonError;
}

/**
 * Normalises anything thrown into a BatonError. Unknown errors are retried: a bug fails every attempt
 * and lands in the dead-letter subject with its message; a transient fault gets another chance.
 */
export function toBatonError(err: unknown, fallback: BatonErrorCode = "INTERNAL"): BatonError {
  if (err instanceof BatonError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new BatonError(fallback, "retry", message, { cause: err });
}
