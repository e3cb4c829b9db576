import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { basename, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { DatasetError } from "../errors.ts";

/**
 * Serves URIs this package does not know (s3:// through @baton/store): return the bytes as a
 * stream, or undefined to decline the URI.
 */
export type SourceOpener = (uri: string) => Promise<AsyncIterable<Uint8Array>> | undefined;

export interface OpenedSource {
  /** Canonical URI for manifests: plain paths become file:///absolute/path. */
  uri: string;
  /** Short name for messages ("train.jsonl"). */
  name: string;
  chunks: AsyncIterable<Uint8Array>;
}

export function canonicalUri(uri: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri)) return uri;
  return pathToFileURL(resolve(uri)).href;
}

export async function openSource(uri: string, opener?: SourceOpener): Promise<OpenedSource> {
  const canonical = canonicalUri(uri);
  const name = basename(decodeURIComponent(new URL(canonical).pathname)) || canonical;
  const injected = opener?.(canonical);
  if (injected) {
    try {
      return { uri: canonical, name, chunks: await injected };
    } catch (e) {
      throw new DatasetError(`${canonical}: cannot open dataset (${(e as Error).message})`, canonical);
    }
  }
  if (canonical.startsWith("file://")) {
    const path = fileURLToPath(canonical);
    try {
      const s = await stat(path);
      if (!s.isFile()) throw new Error("not a regular file");
    } catch (e) {
      throw new DatasetError(
        `${uri}: dataset not found (${(e as Error).message}); check the path or URI in the recipe`,
        canonical,
      );
    }
    return { uri: canonical, name, chunks: createReadStream(path, { highWaterMark: 1 << 16 }) };
  }
  if (/^https?:\/\//.test(canonical)) {
    let res: Response;
    try {
      // A redirect could lead anywhere (an internal host): name the final URL instead.
      res = await fetch(canonical, { redirect: "error" });
    } catch (e) {
      const why = ((e as Error).cause as Error | undefined)?.message ?? (e as Error).message;
      const hint = /redirect/i.test(why)
        ? "; the URL redirects, and redirects are not followed: name the final URL"
        : "";
      throw new DatasetError(`${canonical}: cannot fetch dataset (${why})${hint}`, canonical);
    }
    if (!res.ok || !res.body)
      throw new DatasetError(
        `${canonical}: HTTP ${res.status} ${res.statusText}; the dataset URL must answer 200`,
        canonical,
      );
    return { uri: canonical, name, chunks: res.body as unknown as AsyncIterable<Uint8Array> };
  }
  const scheme = canonical.split(":")[0];
  throw new DatasetError(
    `${canonical}: no opener for "${scheme}://" URIs; plain paths, file:// and http(s):// are built in, others (s3://) need the store's opener`,
    canonical,
  );
}
