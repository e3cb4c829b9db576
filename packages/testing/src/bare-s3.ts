import { createReadStream, createWriteStream } from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import type { S3Endpoint } from "./s3-server.ts";

/**
 * The plain AWS SDK path, with the SDK's defaults, as the baseline the store is measured against:
 * lib-storage `Upload` of a file stream, and `GetObject` piped to a file. No hashing, no checks.
 */
export class BareS3 {
  private readonly client: S3Client;
  constructor(private readonly s3: S3Endpoint) {
    this.client = new S3Client({
      endpoint: s3.endpoint,
      region: s3.region,
      forcePathStyle: s3.forcePathStyle,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    });
  }

  async upload(key: string, path: string): Promise<void> {
    await new Upload({
      client: this.client,
      params: { Bucket: this.s3.bucket, Key: key, Body: createReadStream(path) },
    }).done();
  }

  async download(key: string, path: string): Promise<void> {
    const r = await this.client.send(new GetObjectCommand({ Bucket: this.s3.bucket, Key: key }));
    if (!(r.Body instanceof Readable)) throw new Error(`GetObject ${key}: no stream body`);
    await pipeline(r.Body, createWriteStream(path));
  }

  async putBytes(key: string, bytes: Uint8Array): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.s3.bucket, Key: key, Body: bytes }));
  }

  async getBytes(key: string): Promise<Uint8Array> {
    const r = await this.client.send(new GetObjectCommand({ Bucket: this.s3.bucket, Key: key }));
    if (!r.Body) throw new Error(`GetObject ${key}: no body`);
    return await r.Body.transformToByteArray();
  }

  close(): void {
    this.client.destroy();
  }
}
