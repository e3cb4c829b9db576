import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { assertKey, BatonError, createRedactor } from "@baton/contracts";
import { DigestStream, mismatch, sha256Hex } from "./digest.ts";
import type { Expected, PutResult, Store } from "./store.ts";

export interface S3StoreOptions {
  bucket: string;
  /** http(s)://host:port for MinIO or s3rver; absent for AWS. */
  endpoint?: string;
  region?: string;
  /** Path-style URLs (MinIO, s3rver); default true when an endpoint is given. */
  forcePathStyle?: boolean;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Multipart part size (bytes, >= 5 MiB) and parts in flight. */
  partSizeBytes?: number;
  queueSize?: number;
}

const MiB = 1024 * 1024;
/** Objects up to this size are downloaded into memory, verified, and written once. */
const SMALL_OBJECT_BYTES = MiB;

/**
 * The store over S3 (MinIO, s3rver, AWS). Uploads stream through lib-storage's Upload (multipart,
 * parallel parts) with the sha256 computed on the way; downloads are hashed on the way to disk.
 * This is the only file in Baton that talks to the S3 SDK for objects.
 */
export class S3Store implements Store {
  readonly kind = "s3" as const;
  readonly bucket: string;
  readonly client: S3Client;
  private readonly partSize: number;
  private readonly queueSize: number;
  private readonly where: string;

  constructor(options: S3StoreOptions) {
    this.bucket = options.bucket;
    this.partSize = Math.max(5 * MiB, options.partSizeBytes ?? 16 * MiB);
    this.queueSize = options.queueSize ?? 4;
    // in every error message: the endpoint without any user:password it may carry
    this.where = `s3://${this.bucket} at ${options.endpoint ? createRedactor([]).text(options.endpoint) : "AWS"}`;
    this.client = new S3Client({
      region: options.region ?? "us-east-1",
      ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
      forcePathStyle: options.forcePathStyle ?? options.endpoint !== undefined,
      ...(options.credentials ? { credentials: options.credentials } : {}),
      // The relay retries whole steps with backoff; keep the SDK's own retries short.
      maxAttempts: 2,
    });
  }

  uri(key: string): string {
    return `s3://${this.bucket}/${assertKey(key)}`;
  }

  keyOf(uri: string): string {
    const base = `s3://${this.bucket}/`;
    if (!uri.startsWith(base)) {
      throw BatonError.fatal(
        "CONFIG_INVALID",
        `${uri} is not in this store (bucket ${this.bucket}); set S3_BUCKET to the bucket that holds it`,
      );
    }
    return assertKey(uri.slice(base.length));
  }

  async putFile(key: string, path: string): Promise<PutResult> {
    return this.putStream(key, createReadStream(path, { highWaterMark: MiB }));
  }

  async putBytes(key: string, bytes: Uint8Array): Promise<PutResult> {
    return this.putStream(key, Readable.from([Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)]));
  }

  async putStream(key: string, body: Readable): Promise<PutResult> {
    const digest = new DigestStream();
    const out = new PassThrough({ highWaterMark: MiB });
    const piping = pipeline(body, digest, out);
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: assertKey(key), Body: out },
      partSize: this.partSize,
      queueSize: this.queueSize,
      leavePartsOnError: false,
    });
    try {
      await Promise.all([upload.done(), piping]);
    } catch (err) {
      out.destroy();
      throw this.failure(`upload of ${key}`, err);
    }
    return digest.result();
  }

  async getFile(key: string, path: string, expect?: Expected): Promise<PutResult> {
    const { body, length } = await this.openSized(key);
    await mkdir(dirname(path), { recursive: true });
    if (length !== undefined && length <= SMALL_OBJECT_BYTES) {
      // Small objects (configs, manifests, tiny test weights): verify in memory, write once. Saves the
      // temp file and rename, which matter in a handoff's latency.
      let bytes: Buffer;
      try {
        const chunks: Buffer[] = [];
        for await (const chunk of body) chunks.push(chunk as Buffer);
        bytes = Buffer.concat(chunks);
      } catch (err) {
        throw this.failure(`download of ${key}`, err);
      }
      const got = { sha256: sha256Hex(bytes), size: bytes.length };
      const bad = expect ? mismatch(key, expect, got) : null;
      if (bad) throw bad;
      await writeFile(path, bytes);
      return got;
    }
    const digest = new DigestStream();
    const tmp = `${path}.tmp-${randomBytes(4).toString("hex")}`;
    try {
      await pipeline(body, digest, createWriteStream(tmp, { highWaterMark: MiB }));
      const bad = expect ? mismatch(key, expect, digest.result()) : null;
      if (bad) throw bad;
      await rename(tmp, path);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err instanceof BatonError ? err : this.failure(`download of ${key}`, err);
    }
    return digest.result();
  }

  async getBytes(key: string, expect?: Expected): Promise<Uint8Array> {
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of await this.getStream(key, expect)) chunks.push(chunk as Buffer);
    } catch (err) {
      throw err instanceof BatonError ? err : this.failure(`download of ${key}`, err);
    }
    return Buffer.concat(chunks);
  }

  async getStream(key: string, expect?: Expected): Promise<Readable> {
    const body = await this.open(key);
    const digest = new DigestStream(expect ? { ...expect, key } : undefined);
    body.on("error", (err) => digest.destroy(err));
    return body.pipe(digest);
  }

  async head(key: string): Promise<{ size: number; modified?: Date } | null> {
    try {
      const r = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: assertKey(key) }));
      return { size: r.ContentLength ?? 0, ...(r.LastModified ? { modified: r.LastModified } : {}) };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw this.failure(`head of ${key}`, err);
    }
  }

  async list(prefix: string): Promise<string[]> {
    const out: string[] = [];
    let token: string | undefined;
    try {
      do {
        const r = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
        );
        for (const o of r.Contents ?? []) if (o.Key) out.push(o.Key);
        token = r.IsTruncated ? r.NextContinuationToken : undefined;
      } while (token);
    } catch (err) {
      throw this.failure(`list of ${prefix}`, err);
    }
    return out.sort();
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: assertKey(key) }));
    } catch (err) {
      if (!isNotFound(err)) throw this.failure(`delete of ${key}`, err);
    }
  }

  async ping(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (err) {
      throw this.failure("bucket check", err);
    }
  }

  /** Creates the bucket when it is missing (local MinIO / s3rver setups). */
  async ensureBucket(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (err) {
      if (!isNotFound(err)) throw this.failure("bucket check", err);
      await this.client.send(new CreateBucketCommand({ Bucket: this.bucket })).catch((e: unknown) => {
        throw this.failure("bucket creation", e);
      });
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  private async open(key: string): Promise<Readable> {
    return (await this.openSized(key)).body;
  }

  private async openSized(key: string): Promise<{ body: Readable; length: number | undefined }> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: assertKey(key) }));
      if (!(r.Body instanceof Readable)) throw new Error("GetObject returned no stream body");
      return { body: r.Body, length: r.ContentLength };
    } catch (err) {
      throw this.failure(`download of ${key}`, err);
    }
  }

  private failure(what: string, err: unknown): BatonError {
    if (err instanceof BatonError) return err;
    const message = (err as Error)?.message ?? String(err);
    if (isNotFound(err)) {
      return BatonError.fatal(
        "STORE_NOT_FOUND",
        `${what} in ${this.where}: not found. Check the URI, or whether the step that writes it committed.`,
        err,
      );
    }
    return BatonError.retry(
      "STORE_UNAVAILABLE",
      `${what} in ${this.where} failed: ${message}. Check S3_ENDPOINT, the credentials and that the server is up; the step is retried with backoff.`,
      err,
    );
  }
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number }; Code?: string };
  return (
    e?.name === "NoSuchKey" ||
    e?.name === "NotFound" ||
    e?.name === "NoSuchBucket" ||
    e?.Code === "NoSuchKey" ||
    e?.$metadata?.httpStatusCode === 404
  );
}
