import { readdir, stat } from "node:fs/promises";
import { basename, join, relative, sep } from "node:path";
import type { Bus } from "@baton/bus";
import { publishEvent } from "@baton/bus";
import type { BatonEvent, DatasetManifest, DatasetRef } from "@baton/contracts";
import { assertKey, assertValid, BatonError, DATASET_MANIFEST_FILE, keys } from "@baton/contracts";
import type { Store } from "@baton/store";
import { sha256Hex } from "@baton/store";

export interface PushOptions {
  store: Store;
  bus: Bus;
  /** A local file or folder (every file under it, recursively). */
  path: string;
  /**
   * Where it goes: a folder URI ending in '/' (a file keeps its name, a folder its layout), or, for
   * one file, the object's own URI.
   */
  uri: string;
  /** Dataset name (one subject token); default: the dataset folder's last segment. */
  name?: string;
  source?: string;
}

export interface PushResult {
  event: BatonEvent<"dev.baton.dataset.updated">;
  manifest: DatasetManifest;
  files: (DatasetRef & { size: number })[];
}

/**
 * `baton data push`: uploads through the store (sha256 computed while streaming), then writes the
 * dataset folder's manifest (_dataset.json, merged with what the folder already lists), then
 * publishes dataset.updated naming every file pushed with its digest. The event goes last, so
 * whoever it wakes finds every byte in place.
 */
export async function pushDataset(o: PushOptions): Promise<PushResult> {
  const info = await stat(o.path).catch(() => {
    throw BatonError.fatal("DATASET_INVALID", `baton data push: ${o.path} does not exist; give a local file or folder`);
  });
  const isFolder = info.isDirectory();
  // into a folder (a folder pushed, or a URI ending in '/'), or one file to its own key
  const intoFolder = isFolder || o.uri.endsWith("/");
  const target = o.store.keyOf(intoFolder && !o.uri.endsWith("/") ? `${o.uri}/` : o.uri);
  const folder = intoFolder ? target : target.slice(0, target.lastIndexOf("/") + 1);
  if (folder === "")
    throw BatonError.fatal(
      "DATASET_INVALID",
      `baton data push: ${o.uri} is at the bucket's root; push into a folder (e.g. s3://bucket/datasets/<name>/)`,
    );
  const locals = isFolder ? await filesUnder(o.path) : [basename(o.path)];
  if (locals.length === 0)
    throw BatonError.fatal("DATASET_INVALID", `baton data push: folder ${o.path} holds no files`);
  const name = o.name ?? datasetName(folder);
  if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(name)) {
    throw BatonError.fatal(
      "DATASET_INVALID",
      `baton data push: dataset name ${JSON.stringify(name)} must be lowercase letters, digits and '-' (it names the subject baton.dataset.updated.<name>); pass --name`,
    );
  }

  const files: PushResult["files"] = [];
  for (const rel of locals) {
    if (basename(rel) === DATASET_MANIFEST_FILE)
      throw BatonError.fatal(
        "DATASET_INVALID",
        `baton data push: ${join(o.path, rel)} is named like the dataset manifest (${DATASET_MANIFEST_FILE}); rename it`,
      );
    const key = intoFolder ? `${folder}${assertKey(rel)}` : target;
    const put = await o.store.putFile(key, isFolder ? join(o.path, rel) : o.path);
    files.push({ uri: o.store.uri(key), sha256: put.sha256, size: put.size });
  }

  const manifestKey = keys.datasetManifest(folder);
  const previous = await readDatasetManifest(o.store, manifestKey);
  const pushed = new Map(files.map((f) => [o.store.keyOf(f.uri).slice(folder.length), f]));
  const manifest: DatasetManifest = {
    formatVersion: 1,
    dataset: name,
    uri: o.store.uri(folder),
    files: [
      ...(previous?.files ?? []).filter((f) => !pushed.has(f.path)),
      ...[...pushed].map(([path, f]) => ({ path, sha256: f.sha256, size: f.size })),
    ].sort((a, b) => a.path.localeCompare(b.path)),
    updatedAt: new Date().toISOString(),
  };
  const manifestBytes = new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`);
  await o.store.putBytes(manifestKey, manifestBytes);

  const one = isFolder ? null : files[0]!;
  const { event } = await publishEvent(o.bus, {
    type: "dev.baton.dataset.updated",
    // the same bytes pushed again are the same event (deduped by Nats-Msg-Id within its window)
    id: `dataset:${name}:${sha256Hex(new TextEncoder().encode(files.map((f) => `${f.uri} ${f.sha256}`).join("\n")))}`,
    source: o.source ?? "baton://cli/data-push",
    subject: name,
    data: {
      dataset: name,
      uri: one ? one.uri : manifest.uri,
      sha256: one ? one.sha256 : sha256Hex(manifestBytes),
      size: files.reduce((n, f) => n + f.size, 0),
      files: files.map(({ uri, sha256 }) => ({ uri, sha256 })),
      manifest: o.store.uri(manifestKey),
    },
  });
  return { event, manifest, files };
}

/** The manifest of a dataset folder, or null when the folder has none yet. */
export async function readDatasetManifest(store: Store, key: string): Promise<DatasetManifest | null> {
  if (!(await store.head(key))) return null;
  const value: unknown = JSON.parse(new TextDecoder().decode(await store.getBytes(key)));
  return assertValid<DatasetManifest>("datasetManifest", value, store.uri(key), "DATASET_INVALID");
}

/** The folder's segment under datasets/ ("datasets/legal/2026-12/" -> "legal"), else its last segment. */
function datasetName(folder: string): string {
  const parts = folder.split("/").filter(Boolean);
  const i = parts.indexOf("datasets");
  return (i >= 0 && parts[i + 1] ? parts[i + 1]! : parts.at(-1)!).toLowerCase();
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && !e.name.startsWith("."))
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join("/"))
    .sort();
}
