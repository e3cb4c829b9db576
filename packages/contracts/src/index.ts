// Public surface of @baton/contracts: the schemas, the types generated from them, events, subjects, the store's key layout and the error vocabulary. No I/O.

export type { BatonErrorCode, Disposition } from "./errors.ts";
export { BatonError, isBatonError, toBatonError } from "./errors.ts";
export type { BatonEvent, EventType, NewEvent } from "./events.ts";
export {
  createEvent,
  decodeEvent,
  EVENT_TYPES,
  encodeEvent,
  expectType,
  isValidEvent,
  validateEvent,
} from "./events.ts";
export {
  assertKey,
  DATASET_MANIFEST_FILE,
  keys,
  MANIFEST_FILE,
  SNAPSHOT_COMPLETE_FILE,
  snapshotStepOf,
} from "./keys.ts";
export { parseRecipe } from "./recipe.ts";
export type { Redactor } from "./redact.ts";
export {
  createRedactor,
  isSecretName,
  REDACTED,
  redactor,
  redactStandardStreams,
  redactText,
  secretsFromEnv,
} from "./redact.ts";
export type { RetryPolicy } from "./retry.ts";
export { backoffFor, DEFAULT_RETRY, faultBackoffMs, isLastAttempt } from "./retry.ts";
export { SCHEMAS_DIR } from "./schemas.ts";
export {
  durableName,
  HEADERS,
  isDeadLetter,
  KV_BUCKETS,
  latestKey,
  ledgerKey,
  msgId,
  STREAM,
  STREAM_SUBJECTS,
  subjectFor,
  subjects,
} from "./subjects.ts";
export type * from "./types.gen.ts";
export type { ContractName, Violation } from "./validate.ts";
export { assertValid, SCHEMA_FILES, violations } from "./validate.ts";
