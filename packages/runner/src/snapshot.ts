import { join } from "node:path";
import { assertKey, BatonError, keys, SNAPSHOT_COMPLETE_FILE, snapshotStepOf } from "@baton/contracts";
import type { Store } from "@baton/store";
import type { Logger, Snapshot, SnapshotApi } from "./types.ts";

interface SnapshotIndex {
  trainStep: number;
  files: { path: string; sha256: string; size: number }[];
}

/** Snapshots kept per step after a save: the newest and one before it, in case the newest is damaged. */
const KEEP = 2;

/** The train steps of a step's complete snapshots (their index written), newest first. */
export async function completeSnapshotSteps(store: Store, runId: string, cursor: number): Promise<number[]> {
  const resumePrefix = keys.resume(runId, cursor);
  const found = new Set<number>();
  for (const key of await store.list(resumePrefix)) {
    const step = snapshotStepOf(resumePrefix, key);
    if (step !== null && key.endsWith(`/${SNAPSHOT_COMPLETE_FILE}`)) found.add(step);
  }
  return [...found].sort((a, b) => b - a);
}

/**
 * Resume snapshots of one step under runs/<runId>/<cursor>/_resume/<trainStep>/. Like a checkpoint,
 * a snapshot's index (_complete.json, with every file's sha256) is written last, so a worker killed
 * mid-save leaves nothing that a resume would trust.
 */
export function snapshotApi(
  store: Store,
  runId: string,
  cursor: number,
  localDir: string,
  log: Logger,
): SnapshotApi & { touched(): boolean } {
  // Whether this attempt saved or found a snapshot (so the runner knows there is something to clean).
  let touched = false;

  const completeSteps = (): Promise<number[]> => completeSnapshotSteps(store, runId, cursor);

  return {
    touched: () => touched,
    async save(trainStep, files) {
      touched = true;
      if (!Number.isInteger(trainStep) || trainStep < 0)
        throw BatonError.fatal("TRAIN_FAILED", `snapshot.save(${trainStep}): trainStep must be a non-negative integer`);
      const prefix = keys.snapshot(runId, cursor, trainStep);
      const index: SnapshotIndex = { trainStep, files: [] };
      for (const [name, source] of Object.entries(files)) {
        assertKey(name);
        const key = keys.file(prefix, name);
        const put = typeof source === "string" ? await store.putFile(key, source) : await store.putBytes(key, source);
        index.files.push({ path: name, ...put });
      }
      await store.putBytes(keys.file(prefix, SNAPSHOT_COMPLETE_FILE), new TextEncoder().encode(JSON.stringify(index)));
      for (const old of (await completeSteps()).slice(KEEP))
        await deletePrefix(store, keys.snapshot(runId, cursor, old));
    },

    async latest(): Promise<Snapshot | null> {
      const steps = await completeSteps();
      if (steps.length > 0) touched = true;
      for (const step of steps) {
        const prefix = keys.snapshot(runId, cursor, step);
        const dir = join(localDir, `resume-${step}`);
        try {
          const index = JSON.parse(
            new TextDecoder().decode(await store.getBytes(keys.file(prefix, SNAPSHOT_COMPLETE_FILE))),
          ) as SnapshotIndex;
          for (const f of index.files) {
            await store.getFile(keys.file(prefix, f.path), join(dir, f.path), {
              sha256: f.sha256,
              size: f.size,
              what: `${f.path} of resume snapshot ${store.uri(prefix)}`,
            });
          }
          return { trainStep: index.trainStep, dir, files: index.files.map((f) => f.path) };
        } catch (err) {
          if (!(err instanceof BatonError && err.disposition === "fatal") && !(err instanceof SyntaxError)) throw err;
          log.warn("resume snapshot is damaged; trying an older one", {
            snapshot: store.uri(prefix),
            error: (err as Error).message,
          });
        }
      }
      return null;
    },
  };
}

export async function deletePrefix(store: Store, prefix: string): Promise<void> {
  for (const key of await store.list(prefix)) await store.delete(key);
}
