import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { launchRestartable, type ServiceLifecycle, spawnUntilReady } from "./child-process.ts";
import { freePort } from "./free-port.ts";
import { tsxNodeArgs } from "./tsx.ts";

/** Where and how to reach an S3-compatible server. */
export interface S3Endpoint {
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Path-style URLs (`http://host/bucket/key`): local servers have no per-bucket host names. */
  forcePathStyle: boolean;
}

/** The npm S3 server (s3rver) in its own process on a free port; objects live in `directory` and survive `restart()`. */
export interface LocalS3 extends S3Endpoint, ServiceLifecycle {
  readonly port: number;
  readonly directory: string;
}

export interface StartS3Options {
  bucket?: string;
  port?: number;
  readyTimeoutMs?: number;
}

// s3rver's built-in account: it checks request signatures against this key pair.
const S3RVER_KEY = "S3RVER";
const ENTRY = fileURLToPath(new URL("./s3-server-process.ts", import.meta.url));

/** Starts s3rver as a separate process on a free port and creates the bucket (default `baton`). */
export async function startS3(options: StartS3Options = {}): Promise<LocalS3> {
  const bucket = options.bucket ?? "baton";
  const port = options.port ?? (await freePort());
  const directory = await mkdtemp(join(tmpdir(), "baton-s3-"));
  const readyTimeoutMs = options.readyTimeoutMs ?? 20_000;
  const args = [...tsxNodeArgs(), ENTRY, String(port), directory, bucket];
  const launch = () =>
    spawnUntilReady(process.execPath, args, /s3 server ready/, readyTimeoutMs, `S3 server on port ${port}`);

  const lifecycle = await launchRestartable(launch, directory);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    region: "us-east-1",
    accessKeyId: S3RVER_KEY,
    secretAccessKey: S3RVER_KEY,
    forcePathStyle: true,
    port,
    directory,
    ...lifecycle,
  };
}
