import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream, type Dirent } from "node:fs";
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { assertKey, BatonError } from "@baton/contracts";
import { DigestStream, mismatch } from "./digest.ts";
import type { Expected, PutResult, Store } from "./store.ts";

const TMP_MARK = ".tmp-";

/**
 * A store in a local folder (the embedded default). Writes go to a temporary file and are renamed
 * into place, so a reader never sees half an object.
 */
export class FsStore implements Store {
  readonly kind = "fs" as const;
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  uri(key: string): string {
    return `file://${this.root}/${assertKey(key)}`;
  }

  keyOf(uri: string): string {
    const base = `file://${this.root}/`;
    if (!uri.startsWith(base)) {
      throw BatonError.fatal(
        "CONFIG_INVALID",
        `${uri} is not in this store (file store at ${this.root}); point BATON_HOME (or S3_ENDPOINT/S3_BUCKET) at the store that holds it`,
      );
    }
    return assertKey(uri.slice(base.length));
  }

  async putFile(key: string, path: string): Promise<PutResult> {
    return this.putStream(key, createReadStream(path));
  }

  async putBytes(key: string, bytes: Uint8Array): Promise<PutResult> {
    return this.putStream(key, Readable.from([Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)]));
  }

  async putStream(key: string, body: Readable): Promise<PutResult> {
    const target = this.path(key);
    await mkdir(dirname(target), { recursive: true });
    const digest = new DigestStream();
    const tmp = `${target}${TMP_MARK}${randomBytes(4).toString("hex")}`;
    try {
      await pipeline(body, digest, createWriteStream(tmp));
      await rename(tmp, target);
    } catch (err) {
      await rm(tmp, { force: true });
      throw BatonError.retry(
        "STORE_UNAVAILABLE",
        `writing ${key} under ${this.root} failed: ${(err as Error).message}`,
        err,
      );
    }
    return digest.result();
  }

  async getFile(key: string, path: string, expect?: Expected): Promise<PutResult> {
    const source = await this.open(key);
    await mkdir(dirname(path), { recursive: true });
    const digest = new DigestStream();
    const tmp = `${path}${TMP_MARK}${randomBytes(4).toString("hex")}`;
    try {
      await pipeline(source, digest, createWriteStream(tmp));
      const bad = expect ? mismatch(key, expect, digest.result()) : null;
      if (bad) throw bad;
      await rename(tmp, path);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err instanceof BatonError
        ? err
        : BatonError.retry(
            "STORE_UNAVAILABLE",
            `reading ${key} from ${this.root} failed: ${(err as Error).message}`,
            err,
          );
    }
    return digest.result();
  }

  async getBytes(key: string, expect?: Expected): Promise<Uint8Array> {
    const chunks: Buffer[] = [];
    for await (const chunk of await this.getStream(key, expect)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  async getStream(key: string, expect?: Expected): Promise<Readable> {
    const source = await this.open(key);
    const digest = new DigestStream(expect ? { ...expect, key } : undefined);
    source.on("error", (err) => digest.destroy(err));
    return source.pipe(digest);
  }

  async head(key: string): Promise<{ size: number; modified?: Date } | null> {
    try {
      const s = await stat(this.path(key));
      return s.isFile() ? { size: s.size, modified: s.mtime } : null;
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  async list(prefix: string): Promise<string[]> {
    // Walk the deepest folder the prefix names, then filter: prefixes may end mid-name.
    const slash = prefix.lastIndexOf("/");
    const base = slash >= 0 ? prefix.slice(0, slash + 1) : "";
    const out: string[] = [];
    const walk = async (relDir: string): Promise<void> => {
      let entries: Dirent[];
      try {
        entries = await readdir(join(this.root, relDir), { withFileTypes: true });
      } catch (err) {
        if (isMissing(err)) return; // nothing stored under this prefix yet
        throw err;
      }
      for (const e of entries) {
        const rel = `${relDir}${e.name}`;
        if (e.isDirectory()) await walk(`${rel}/`);
        else if (e.isFile() && !e.name.includes(TMP_MARK) && rel.startsWith(prefix)) out.push(rel);
      }
    };
    await walk(base);
    return out.sort();
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }

  async ping(): Promise<void> {
    try {
      await mkdir(this.root, { recursive: true });
    } catch (err) {
      throw BatonError.retry(
        "STORE_UNAVAILABLE",
        `file store folder ${this.root} cannot be created: ${(err as Error).message}. Set BATON_HOME to a writable folder.`,
        err,
      );
    }
  }

  async close(): Promise<void> {}

  private path(key: string): string {
    return join(this.root, assertKey(key));
  }

  private async open(key: string): Promise<Readable> {
    const path = this.path(key);
    const s = await stat(path).catch((err: unknown) => {
      if (isMissing(err)) return null;
      throw err;
    });
    if (!s?.isFile())
      throw BatonError.fatal(
        "STORE_NOT_FOUND",
        `${this.uri(key)} does not exist; check the URI, or whether the step that writes it committed`,
      );
    return createReadStream(path);
  }
}

/** A path that is not there (or runs through a file): what a store reports as "no such key". */
function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ENOTDIR";
}
