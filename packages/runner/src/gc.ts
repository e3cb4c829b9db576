// Housekeeping for the store (`baton gc`): checkpoint folders, resume snapshots and partial attempts
// that no ledger entry references. The rule is the relay's own: once a step is committed, everything
// of it but the committed checkpoint is garbage. A step not committed (yet) may have a live attempt
// writing it, so its folders only count as garbage once nothing in them changed for `minAgeMs`.
import { keys } from "@baton/contracts";
import type { Store } from "@baton/store";
import type { Ledger, LedgerRecord } from "./ledger/ledger.ts";

/** A run id the relay could have written (anything else under these folders is not Baton's). */
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

export interface Garbage {
  kind: "checkpoint" | "snapshots";
  /** Store prefix of the folder. */
  prefix: string;
  runId: string;
  cursor: number;
  objects: string[];
  bytes: number;
  /** Why nothing needs it, for the listing. */
  why: string;
}

export interface GcOptions {
  /** An uncommitted step's folders are garbage only after this long without a write (default 1 h). */
  minAgeMs?: number;
  now?: number;
}

/** Every unreferenced folder under checkpoints/ and runs/, with its objects and size. Reads only. */
export async function findGarbage(store: Store, ledger: Ledger, o: GcOptions = {}): Promise<Garbage[]> {
  const minAgeMs = o.minAgeMs ?? 3_600_000;
  const now = o.now ?? Date.now();
  const records = new Map<string, LedgerRecord | null>();
  const committed = async (runId: string, cursor: number): Promise<LedgerRecord | null> => {
    const k = `${runId}.${cursor}`;
    if (!records.has(k)) records.set(k, await ledger.get(runId, cursor));
    return records.get(k)!;
  };
  const folders = new Map<string, { kind: Garbage["kind"]; runId: string; cursor: number; objects: string[] }>();
  for (const key of await store.list("checkpoints/")) {
    // checkpoints/<runId>/<cursor>-<step>/<attempt>/<file>
    const [, runId, stepDir, attempt] = key.split("/");
    const cursor = Number(stepDir?.split("-")[0]);
    if (!runId || !RUN_ID.test(runId) || !stepDir || !attempt || !Number.isInteger(cursor)) continue;
    const prefix = `checkpoints/${runId}/${stepDir}/${attempt}/`;
    folders.set(prefix, { kind: "checkpoint", runId, cursor, objects: [...(folders.get(prefix)?.objects ?? []), key] });
  }
  for (const key of await store.list("runs/")) {
    // runs/<runId>/<cursor>/_resume/<trainStep>/<file>
    const [, runId, c, resume] = key.split("/");
    const cursor = Number(c);
    if (!runId || !RUN_ID.test(runId) || resume !== "_resume" || !Number.isInteger(cursor)) continue;
    const prefix = keys.resume(runId, cursor);
    folders.set(prefix, { kind: "snapshots", runId, cursor, objects: [...(folders.get(prefix)?.objects ?? []), key] });
  }

  const garbage: Garbage[] = [];
  for (const [prefix, f] of folders) {
    const record = await committed(f.runId, f.cursor);
    const referenced =
      record !== null &&
      store.keyOf(record.checkpoint.uri.endsWith("/") ? record.checkpoint.uri : `${record.checkpoint.uri}/`) === prefix;
    if (referenced) continue;
    const heads = await Promise.all(f.objects.map((k) => store.head(k)));
    const bytes = heads.reduce((n, h) => n + (h?.size ?? 0), 0);
    let why: string;
    if (record) {
      why =
        f.kind === "checkpoint"
          ? `step ${f.cursor} of run ${f.runId} committed ${record.checkpoint.uri} instead`
          : `step ${f.cursor} of run ${f.runId} is committed; its resume snapshots are no longer needed`;
    } else {
      const newest = Math.max(...heads.map((h) => h?.modified?.getTime() ?? now));
      if (now - newest < minAgeMs) continue; // an attempt may still be writing it
      why = `step ${f.cursor} of run ${f.runId} was never committed and nothing here changed for ${Math.round((now - newest) / 60_000)} min`;
    }
    garbage.push({ kind: f.kind, prefix, runId: f.runId, cursor: f.cursor, objects: f.objects, bytes, why });
  }
  return garbage.sort((a, b) => a.prefix.localeCompare(b.prefix));
}

/** Deletes what findGarbage found; returns the number of objects deleted. */
export async function collectGarbage(store: Store, garbage: readonly Garbage[]): Promise<number> {
  let n = 0;
  for (const g of garbage) {
    for (const key of g.objects) await store.delete(key);
    n += g.objects.length;
  }
  return n;
}
