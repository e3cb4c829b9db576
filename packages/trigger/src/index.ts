// @baton/trigger: dataset.updated / feedback.ready / bucket notifications -> the first event of a
// recipe's tail (no run state beyond deduplication). See trigger.ts.

export { durationMs } from "./duration.ts";
export { minioNotification } from "./minio-record.ts";
export type { Rule, Rules, StartCheckpoint } from "./rules.ts";
export { DEFAULT_WINDOW_MS, loadRules, matches, recipeFor } from "./rules.ts";
export type { TriggerOptions, TriggerService } from "./trigger.ts";
export { DEAD_LETTER_SUBJECT, serveTrigger } from "./trigger.ts";
export type { Parsed, Update } from "./updates.ts";
export { fromBucketNotification, fromEvent } from "./updates.ts";
export { runIdOf, updateId } from "./windows.ts";
