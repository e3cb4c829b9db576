// What earlier attempts of a step left in the store, and the one rule for cleaning it up: once a step
// is committed, every other attempt folder of that step (a racing loser's copy, one killed mid-upload,
// one whose commit failed) and its resume snapshots are garbage. Before that, an attempt folder with
// a manifest that verifies is a finished checkpoint a retry can commit instead of training again.
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { CheckpointManifest, CheckpointReadyData, CheckpointRef, RecipeStep } from "@baton/contracts";
import { assertValid, isBatonError, keys } from "@baton/contracts";
import type { Store } from "@baton/store";
import { sha256Hex } from "@baton/store";
import { openCheckpoint } from "./checkpoint/checkpoint.ts";
import { deletePrefix } from "./snapshot.ts";
import type { Logger } from "./types.ts";

/** Attempt folder prefix -> its keys, for one step of a run. */
export async function attemptFolders(
  store: Store,
  runId: string,
  cursor: number,
  step: string,
): Promise<Map<string, string[]>> {
  const base = keys.stepCheckpoints(runId, cursor, step);
  const folders = new Map<string, string[]>();
  for (const key of await store.list(base)) {
    const attempt = key.slice(base.length).split("/")[0];
    if (!attempt) continue;
    const prefix = `${base}${attempt}/`;
    folders.set(prefix, [...(folders.get(prefix) ?? []), key]);
  }
  return folders;
}

/**
 * A finished checkpoint of an earlier attempt of this very step (same run, cursor, step, parent and
 * config), every file verified against its manifest, or null. A folder whose manifest does not verify
 * is deleted: its upload finished, so no live attempt still writes it.
 */
export async function earlierAttempt(
  store: Store,
  data: CheckpointReadyData,
  step: RecipeStep,
  scratchDir: string,
  log: Logger,
): Promise<{ ref: CheckpointRef; prefix: string; manifest: CheckpointManifest; bytes: number } | null> {
  for (const [prefix, found] of await attemptFolders(store, data.runId, data.cursor, step.name)) {
    if (!found.includes(keys.manifest(prefix))) continue; // still uploading, or killed mid-upload
    try {
      const bytes = await store.getBytes(keys.manifest(prefix));
      const manifest = assertValid<CheckpointManifest>(
        "manifest",
        JSON.parse(new TextDecoder().decode(bytes)),
        store.uri(keys.manifest(prefix)),
        "MANIFEST_INVALID",
      );
      const same =
        manifest.runId === data.runId &&
        manifest.cursor === data.cursor &&
        manifest.step === step.name &&
        (manifest.parent?.uri ?? null) === (data.checkpoint?.uri ?? null) &&
        JSON.stringify(manifest.config) === JSON.stringify(step.config);
      if (!same) continue;
      const ref: CheckpointRef = { uri: store.uri(prefix), manifestSha256: sha256Hex(bytes), files: manifest.files };
      const opened = await openCheckpoint(store, ref, scratchDir); // every file against its sha256
      log.info("found a verified checkpoint of an earlier attempt; committing it instead of training again", {
        checkpoint: ref.uri,
      });
      return { ref, prefix, manifest, bytes: opened.bytes };
    } catch (err) {
      if (!isBatonError(err) || err.retryable) throw err; // the store is away: the retry looks again
      log.warn("an earlier attempt's checkpoint does not verify; deleting it", {
        checkpoint: store.uri(prefix),
        error: err.message,
      });
      await deletePrefix(store, prefix);
    } finally {
      await rm(scratchDir, { recursive: true, force: true });
    }
  }
  return null;
}

/** Deletes everything of a committed step but its committed checkpoint folder; returns how many objects went. */
export async function sweepCommittedStep(
  store: Store,
  runId: string,
  cursor: number,
  step: string,
  committed: CheckpointRef,
): Promise<number> {
  const keep = store.keyOf(committed.uri.endsWith("/") ? committed.uri : `${committed.uri}/`);
  let deleted = 0;
  for (const [prefix, found] of await attemptFolders(store, runId, cursor, step)) {
    if (prefix === keep) continue;
    for (const key of found) await store.delete(key);
    deleted += found.length;
  }
  const snapshots = await store.list(keys.resume(runId, cursor));
  for (const key of snapshots) await store.delete(key);
  return deleted + snapshots.length;
}

/**
 * Removes the work folders (baton-<runId>-<cursor>-<attempt>-p<pid>) under `root` whose owning process
 * is gone: a worker killed mid-attempt never ran its cleanup. Folders of live processes (other
 * workers sharing the folder) stay. Returns the names removed.
 */
export async function sweepWorkRoot(root: string): Promise<string[]> {
  const removed: string[] = [];
  const names = await readdir(root).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return [] as string[]; // no work root yet: nothing to sweep
    throw err;
  });
  for (const name of names) {
    const pid = /^baton-.+-p(\d+)$/.exec(name)?.[1];
    if (!pid || Number(pid) === process.pid || alive(Number(pid))) continue;
    await rm(join(root, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM"; // someone else's live process
  }
}
