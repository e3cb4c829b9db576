import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import type { CheckpointManifest, CheckpointRef, ManifestFile } from "@baton/contracts";
import { assertValid, BatonError, keys, MANIFEST_FILE } from "@baton/contracts";
import type { Store } from "@baton/store";
import { sha256Hex } from "@baton/store";

/** Everything in a manifest except what commitCheckpoint measures itself (files, createdAt). */
export type ManifestDraft = Omit<CheckpointManifest, "formatVersion" | "files" | "createdAt">;

export interface CommittedCheckpoint {
  ref: CheckpointRef;
  manifest: CheckpointManifest;
  /** Bytes uploaded, manifest included. */
  bytes: number;
}

export interface OpenedCheckpoint {
  ref: CheckpointRef;
  manifest: CheckpointManifest;
  /** Local folder: every file of the manifest, verified, plus manifest.json. */
  dir: string;
  /** Bytes downloaded, manifest included. */
  bytes: number;
}

/** Files uploaded or downloaded at once (lib-storage parallelises parts within each). */
const PARALLEL_FILES = 4;

/**
 * Uploads every file under `dir` to `prefix`, then manifest.json LAST with the sha256 and size of
 * each: until the manifest exists the checkpoint does not, so a crash mid-upload leaves nothing a
 * reader would trust. Returns the ref (folder URI + manifest digest) that events carry.
 */
export async function commitCheckpoint(
  store: Store,
  options: { prefix: string; dir: string; manifest: ManifestDraft },
): Promise<CommittedCheckpoint> {
  const paths = await filesUnder(options.dir);
  if (paths.includes(MANIFEST_FILE)) {
    throw BatonError.fatal(
      "TRAIN_FAILED",
      `${join(options.dir, MANIFEST_FILE)} exists: manifest.json is written by commitCheckpoint, not by train(); remove it from the output folder`,
    );
  }
  if (paths.length === 0) {
    throw BatonError.fatal(
      "TRAIN_FAILED",
      `output folder ${options.dir} is empty: train() must write the checkpoint's files (model.safetensors, config.json, ...) into ctx.outputDir`,
    );
  }
  const files: ManifestFile[] = await mapLimit(paths, PARALLEL_FILES, async (path) => {
    const put = await store.putFile(keys.file(options.prefix, path), join(options.dir, path));
    return { path, sha256: put.sha256, size: put.size };
  });
  const manifest: CheckpointManifest = {
    formatVersion: 1,
    ...options.manifest,
    files,
    createdAt: new Date().toISOString(),
  };
  assertValid("manifest", manifest, `manifest for ${store.uri(options.prefix)}`, "MANIFEST_INVALID");
  const bytes = new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`);
  const put = await store.putBytes(keys.manifest(options.prefix), bytes);
  return {
    ref: {
      uri: store.uri(keys.manifest(options.prefix).slice(0, -MANIFEST_FILE.length)),
      manifestSha256: put.sha256,
      files,
    },
    manifest,
    bytes: files.reduce((n, f) => n + f.size, 0) + put.size,
  };
}

/**
 * Reads and validates a checkpoint's manifest. Given a ref, the manifest's own digest is checked;
 * given a bare URI (e.g. `baton lineage <uri>`), it is trusted as found.
 */
export async function readManifest(store: Store, at: CheckpointRef | string): Promise<CheckpointManifest> {
  const uri = typeof at === "string" ? at : at.uri;
  const key = keys.manifest(store.keyOf(uri.endsWith("/") ? uri : `${uri}/`));
  let bytes: Uint8Array;
  try {
    bytes = await store.getBytes(
      key,
      typeof at === "string" ? undefined : { sha256: at.manifestSha256, what: `manifest.json of checkpoint ${uri}` },
    );
  } catch (err) {
    if (err instanceof BatonError && err.code === "STORE_NOT_FOUND") {
      throw BatonError.fatal(
        "CHECKPOINT_MISSING",
        `checkpoint ${uri} has no manifest.json: it was never committed, or was deleted. Check the URI in the event, or re-run the step that produces it.`,
        err,
      );
    }
    throw err;
  }
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw BatonError.fatal(
      "MANIFEST_INVALID",
      `${uri}${MANIFEST_FILE} is not JSON (${(err as Error).message}); the checkpoint cannot be trusted. Re-run the step that produced it.`,
    );
  }
  return assertValid<CheckpointManifest>("manifest", value, `${uri}${MANIFEST_FILE}`, "MANIFEST_INVALID");
}

/**
 * Downloads a checkpoint into destDir and verifies every file against the manifest. On any
 * mismatch or missing file the folder is removed and the error names the file and both digests:
 * bytes that do not match are never handed to training.
 */
export async function openCheckpoint(store: Store, ref: CheckpointRef, destDir: string): Promise<OpenedCheckpoint> {
  const prefix = store.keyOf(ref.uri);
  await mkdir(destDir, { recursive: true });
  const fetchFiles = (files: ManifestFile[]): Promise<unknown> =>
    mapLimit(files, PARALLEL_FILES, (f) => fetchFile(store, prefix, ref.uri, f, destDir));
  try {
    let manifest: CheckpointManifest;
    if (ref.files) {
      // The ref lists the files: fetch them beside the manifest (one round trip, not two), each
      // checked against the ref's digest, then require the manifest to list exactly the same files.
      const [m, files] = await Promise.allSettled([readManifest(store, ref), fetchFiles(ref.files)]);
      if (m.status === "rejected") throw m.reason;
      if (files.status === "rejected") throw files.reason;
      manifest = m.value;
      if (fileListKey(manifest.files) !== fileListKey(ref.files)) {
        throw BatonError.fatal(
          "CHECKPOINT_CORRUPT",
          `checkpoint ${ref.uri}: the file list in the event's ref differs from its manifest.json (ref: ${fileListKey(ref.files)}; manifest: ${fileListKey(manifest.files)}). The producer of the event is wrong or the checkpoint changed; re-run the step that produced it.`,
        );
      }
    } else {
      manifest = await readManifest(store, ref);
      await fetchFiles(manifest.files);
    }
    await writeFile(join(destDir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    const bytes = manifest.files.reduce((n, f) => n + f.size, 0);
    return { ref, manifest, dir: destDir, bytes };
  } catch (err) {
    // Every transfer has settled (mapLimit waits for them), so nothing writes here any more; a failed
    // cleanup must not replace the reason (a CHECKPOINT_CORRUPT stays one, and stays fatal).
    await rm(destDir, { recursive: true, force: true }).catch((cleanup: unknown) => {
      if (err instanceof Error)
        err.message += ` (and the partial download in ${destDir} could not be removed: ${(cleanup as Error).message})`;
    });
    throw err;
  }
}

async function fetchFile(store: Store, prefix: string, uri: string, f: ManifestFile, destDir: string): Promise<void> {
  try {
    await store.getFile(keys.file(prefix, f.path), join(destDir, f.path), {
      sha256: f.sha256,
      size: f.size,
      what: `${f.path} of checkpoint ${uri}`,
    });
  } catch (err) {
    if (err instanceof BatonError && err.code === "STORE_NOT_FOUND") {
      throw BatonError.fatal(
        "CHECKPOINT_MISSING",
        `${f.path} of checkpoint ${uri} is listed in its manifest but missing from the store; the checkpoint is damaged. Re-run the step that produced it.`,
        err,
      );
    }
    throw err;
  }
}

/** One comparable string per file list (order-free). */
function fileListKey(files: ManifestFile[]): string {
  return files
    .map((f) => `${f.path}:${f.sha256}:${f.size}`)
    .sort()
    .join(", ");
}

export interface LineageHop {
  uri: string;
  manifest: CheckpointManifest;
}

/** Walks `parent` links from a checkpoint back to random init; newest first. Each hop is verified by its child's ref. */
export async function lineage(store: Store, at: CheckpointRef | string): Promise<LineageHop[]> {
  const hops: LineageHop[] = [];
  const seen = new Set<string>();
  let current: CheckpointRef | string | null = at;
  while (current !== null) {
    const uri: string = typeof current === "string" ? current : current.uri;
    if (seen.has(uri))
      throw BatonError.fatal(
        "MANIFEST_INVALID",
        `lineage loops: ${uri} is its own ancestor (hops: ${hops.map((h) => h.uri).join(" <- ")})`,
      );
    seen.add(uri);
    const manifest = await readManifest(store, current);
    hops.push({ uri, manifest });
    current = manifest.parent;
  }
  return hops;
}

/** Digest of a manifest as committed (for tests and tools that hold the bytes). */
export function manifestDigest(bytes: Uint8Array): string {
  return sha256Hex(bytes);
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join("/"))
    .sort();
}

/**
 * fn over items, at most `limit` at once. The first failure starts no new work, and the call settles
 * only once every fn already started has (so a caller's cleanup never races a writer still going),
 * then rejects with that first error.
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | null = null;
  const worker = async (): Promise<void> => {
    while (failure === null && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i]!);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== null) throw (failure as { error: unknown }).error;
  return out;
}
