/**
 * The ONE module for the store's key layout. Keys are '/'-separated, relative, and free of '..'.
 *
 *   checkpoints/<runId>/<cursor>-<step>/<attemptId>/    a committed checkpoint folder (manifest.json last)
 *   runs/<runId>/<cursor>/_resume/<trainStep>/           resume snapshots of one step (newest wins)
 *   reports/<runId>/<name>                               eval reports and samples
 *   datasets/<name>/<file>                               datasets pushed with `baton data push`
 *   datasets/sha256/<hex>/<file>                         a recipe's local datasets, uploaded by `baton run` (content-addressed)
 *   <dataset folder>/_dataset.json                       a pushed dataset's manifest (written after its files)
 *   campaigns/<id>/campaign.json                         a ranking campaign of the web app (checkpoint, K, count wanted)
 *   campaigns/<id>/items.json                            its prompts with the K sampled responses each (written once)
 *   campaigns/<id>/judgements/<submissionId>.json        one rater's ranking, skip or flag of one prompt (one object each)
 *   campaigns/<id>/exported.json                         written after the campaign's export was announced
 *   datasets/feedback/<id>/rankings.jsonl                a complete campaign's rankings, the dataset feedback.ready names
 *
 * A checkpoint folder carries an attempt id because two workers may race on one step: each uploads
 * its own folder, the ledger picks one, the loser deletes its copy. Nothing ever overwrites a
 * checkpoint another event points at.
 */
export const MANIFEST_FILE = "manifest.json";
/** A dataset folder's manifest, written by `baton data push` after the files it lists. */
export const DATASET_MANIFEST_FILE = "_dataset.json";
/** Marker written last in a snapshot folder: a snapshot without it is incomplete and ignored. */
export const SNAPSHOT_COMPLETE_FILE = "_complete.json";

export const keys = {
  checkpoint: (runId: string, cursor: number, step: string, attemptId: string): string =>
    `${keys.stepCheckpoints(runId, cursor, step)}${seg(attemptId)}/`,
  /** Every attempt's checkpoint folder of one step of a run (one of them is committed, at most). */
  stepCheckpoints: (runId: string, cursor: number, step: string): string =>
    `checkpoints/${seg(runId)}/${cursor}-${seg(step)}/`,
  manifest: (checkpointPrefix: string): string => `${dir(checkpointPrefix)}${MANIFEST_FILE}`,
  file: (prefix: string, relativePath: string): string => `${dir(prefix)}${assertKey(relativePath)}`,
  resume: (runId: string, cursor: number): string => `runs/${seg(runId)}/${cursor}/_resume/`,
  /** Zero-padded so lexical order is step order. */
  snapshot: (runId: string, cursor: number, trainStep: number): string =>
    `${keys.resume(runId, cursor)}${String(trainStep).padStart(12, "0")}/`,
  report: (runId: string, name: string): string => `reports/${seg(runId)}/${assertKey(name)}`,
  dataset: (name: string, file: string): string => `datasets/${seg(name)}/${assertKey(file)}`,
  /** The file name stays: a dataset's role (held-out, replay) comes from its name. */
  datasetBlob: (sha256: string, file: string): string => `datasets/sha256/${hex(sha256)}/${seg(file)}`,
  datasetManifest: (folder: string): string => `${dir(folder)}${DATASET_MANIFEST_FILE}`,
  campaigns: (): string => "campaigns/",
  campaign: (id: string): string => `campaigns/${seg(id)}/campaign.json`,
  campaignItems: (id: string): string => `campaigns/${seg(id)}/items.json`,
  judgements: (id: string): string => `campaigns/${seg(id)}/judgements/`,
  judgement: (id: string, submissionId: string): string => `${keys.judgements(id)}${seg(submissionId)}.json`,
  campaignExported: (id: string): string => `campaigns/${seg(id)}/exported.json`,
  campaignExport: (id: string): string => `datasets/feedback/${seg(id)}/rankings.jsonl`,
} as const;

/** Train step of a snapshot key (inverse of keys.snapshot), or null if the key is not one. */
export function snapshotStepOf(resumePrefix: string, key: string): number | null {
  if (!key.startsWith(resumePrefix)) return null;
  const m = /^(\d{12})\//.exec(key.slice(resumePrefix.length));
  return m ? Number(m[1]) : null;
}

/** Throws unless `key` is a safe relative key (no leading '/', no '..' segment, no backslash, not empty). */
export function assertKey(key: string): string {
  if (
    key.length === 0 ||
    key.startsWith("/") ||
    key.includes("\\") ||
    key.split("/").some((s) => s === ".." || s === ".")
  ) {
    throw new Error(
      `store key ${JSON.stringify(key)} is not a safe relative key: use '/'-separated names without '.', '..', a leading '/' or '\\'`,
    );
  }
  return key;
}

function dir(prefix: string): string {
  assertKey(prefix);
  return prefix.endsWith("/") ? prefix : `${prefix}/`;
}

function hex(sha256: string): string {
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`${JSON.stringify(sha256)} is not a sha256 in lowercase hex`);
  return sha256;
}

function seg(value: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(value) || value.includes("..")) {
    throw new Error(
      `${JSON.stringify(value)} cannot be one segment of a store key: use letters, digits, '.', '_' and '-'`,
    );
  }
  return value;
}
