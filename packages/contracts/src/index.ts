// Public surface of @baton/contracts: the schemas, the types generated from them, events, subjects, the store's key layout and the error vocabulary. No I/O.
export type * from "./types.gen.ts";
export { createEvent, decodeEvent, encodeEvent, validateEvent, isValidEvent, expectType, EVENT_TYPES } from "./events.ts";
export type { BatonEvent, EventType, NewEvent } from "./events.ts";
export { assertValid, violations, SCHEMA_FILES } from "./validate.ts";
export type { ContractName, Violation } from "./validate.ts";
export { parseRecipe } from "./recipe.ts";
export { SCHEMAS_DIR } from "./schemas.ts";
export { STREAM, STREAM_SUBJECTS, subjects, isDeadLetter, subjectFor, durableName, KV_BUCKETS, ledgerKey, latestKey, msgId, HEADERS } from "./subjects.ts";
export { BatonError, isBatonError, toBatonError } from "./errors.ts";
export { DEFAULT_RETRY, backoffFor, faultBackoffMs, isLastAttempt } from "./retry.ts";
export type { RetryPolicy } from "./retry.ts";
export type { BatonErrorCode, Disposition } from "./errors.ts";
export { keys, assertKey, snapshotStepOf, MANIFEST_FILE, DATASET_MANIFEST_FILE, SNAPSHOT_COMPLETE_FILE } from "./keys.ts";
export { createRedactor, isSecretName, redactor, redactStandardStreams, redactText, secretsFromEnv, REDACTED } from "./redact.ts";
export type { Redactor } from "./redact.ts";
