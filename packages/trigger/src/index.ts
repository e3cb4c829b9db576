// @baton/trigger: dataset.updated / feedback.ready / bucket notifications -> the first event of a
// recipe's tail (no run state beyond deduplication). See trigger.ts.
export { serveTrigger, DEAD_LETTER_SUBJECT } from "./trigger.ts";
export type { TriggerOptions, TriggerService } from "./trigger.ts";
export { loadRules, recipeFor, matches, DEFAULT_WINDOW_MS } from "./rules.ts";
export type { Rule, Rules, StartCheckpoint } from "./rules.ts";
export { fromBucketNotification, fromEvent } from "./updates.ts";
export type { Update, Parsed } from "./updates.ts";
export { runIdOf, updateId } from "./windows.ts";
export { durationMs } from "./duration.ts";
export { minioNotification } from "./minio-record.ts";
