import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import type { DatasetReport } from "../read/reader.ts";
import type { SourceOpener } from "../read/source.ts";
import { canonicalUri, openSource } from "../read/source.ts";
import type { TokenDtype } from "./token-file.ts";

/** What sits beside each token file: enough to reuse it only when nothing it was made from changed. */
export interface TokenFileMeta {
  dtype: TokenDtype;
  length: number;
  documents: number;
  vocabSize: number;
  /** The caller's name for the tokenizer (e.g. sha256 of its tokenizer.json); absent: never reused. */
  cacheKey?: string;
  reports: DatasetReport[];
}

async function sourceSha256(uri: string, opener?: SourceOpener): Promise<string> {
  const source = await openSource(uri, opener);
  const hash = createHash("sha256");
  for await (const chunk of source.chunks) hash.update(chunk);
  return hash.digest("hex");
}

/**
 * The meta of a token file that can be reused: same tokenizer key, same dtype and sources, every
 * source's bytes unchanged (re-hashed: hashing is far cheaper than tokenising), file of the right size.
 */
export async function reusableTokenFile(p: {
  path: string;
  metaPath: string;
  uris: string[];
  cacheKey: string;
  dtype: TokenDtype;
  opener?: SourceOpener;
}): Promise<TokenFileMeta | undefined> {
  let meta: TokenFileMeta;
  try {
    meta = JSON.parse(await readFile(p.metaPath, "utf8")) as TokenFileMeta;
  } catch {
    return undefined;
  }
  if (meta.cacheKey !== p.cacheKey || meta.dtype !== p.dtype || meta.reports.length !== p.uris.length) return undefined;
  if (meta.reports.some((r, i) => r.uri !== canonicalUri(p.uris[i]!) || !r.complete)) return undefined;
  try {
    if ((await stat(p.path)).size !== meta.length * (p.dtype === "uint16" ? 2 : 4)) return undefined;
  } catch {
    return undefined;
  }
  for (const r of meta.reports) if ((await sourceSha256(r.uri, p.opener)) !== r.sha256) return undefined;
  return meta;
}
