import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { startMinioContainer, startNatsContainer } from "./containers.ts";
import { dockerAnswers } from "./docker.ts";
import { type LocalNats, startNats } from "./nats-server.ts";
import { type LocalS3, type S3Endpoint, startS3 } from "./s3-server.ts";

/** Where a test service came from, in the order they are tried. */
export type ServiceSource = "env" | "containers" | "local";

export interface TestServices {
  nats: { url: string; source: ServiceSource };
  s3: S3Endpoint & { source: ServiceSource };
  /** Present for services this helper started as local processes: tests can stop, kill or restart them. */
  localNats?: LocalNats;
  localS3?: LocalS3;
  /** Environment for a stage process so it reaches these services (NATS_URL, S3_ENDPOINT, AWS_*). */
  env: Record<string, string>;
  /** Stops whatever this helper started; services from the environment are left alone. */
  close(): Promise<void>;
}

export interface TestServicesOptions {
  /** Bucket to create (default `$S3_BUCKET` or `baton`). */
  bucket?: string;
  env?: NodeJS.ProcessEnv;
  /** Whether a Docker engine answers; default pings it with a short timeout. */
  docker?: () => Promise<boolean>;
}

/**
 * NATS and S3 for a test, each found in this order: a URL in the environment (NATS_URL, S3_ENDPOINT);
 * containers (NATS, MinIO) when a Docker engine answers; else local processes on free ports
 * (the nats-server binary with JetStream in a temp dir, s3rver from npm).
 */
export async function startTestServices(options: TestServicesOptions = {}): Promise<TestServices> {
  const env = options.env ?? process.env;
  const bucket = options.bucket ?? env["S3_BUCKET"] ?? "baton";
  const needsDocker = !env["NATS_URL"] || !env["S3_ENDPOINT"];
  const docker = needsDocker && (await (options.docker ?? (() => dockerAnswers(env)))());
  const stops: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const stop of stops.reverse())
      await stop().catch((err: unknown) =>
        console.warn(`test services: a server did not stop cleanly: ${(err as Error).message}`),
      );
  };

  try {
    let nats: TestServices["nats"];
    let localNats: LocalNats | undefined;
    const natsUrl = env["NATS_URL"];
    if (natsUrl) {
      nats = { url: natsUrl, source: "env" };
    } else if (docker) {
      const started = await startNatsContainer();
      stops.push(started.stop);
      nats = { ...started.value, source: "containers" };
    } else {
      localNats = await startNats();
      stops.push(localNats.dispose);
      nats = { url: localNats.url, source: "local" };
    }

    let s3: TestServices["s3"];
    let localS3: LocalS3 | undefined;
    const s3Endpoint = env["S3_ENDPOINT"];
    if (s3Endpoint) {
      s3 = {
        endpoint: s3Endpoint,
        bucket,
        region: env["AWS_REGION"] ?? "us-east-1",
        accessKeyId: env["AWS_ACCESS_KEY_ID"] ?? "",
        secretAccessKey: env["AWS_SECRET_ACCESS_KEY"] ?? "",
        forcePathStyle: true,
        source: "env",
      };
      await ensureBucket(s3);
    } else if (docker) {
      const started = await startMinioContainer(bucket);
      stops.push(started.stop);
      s3 = { ...started.value, source: "containers" };
      await ensureBucket(s3);
    } else {
      localS3 = await startS3({ bucket });
      stops.push(localS3.dispose);
      s3 = { ...endpointOf(localS3), source: "local" };
    }

    const services: TestServices = { nats, s3, env: serviceEnv(nats.url, s3), close };
    if (localNats) services.localNats = localNats;
    if (localS3) services.localS3 = localS3;
    return services;
  } catch (err) {
    await close();
    throw err;
  }
}

/** The plain endpoint fields of a local S3 server (without its process controls). */
export function endpointOf(s3: S3Endpoint): S3Endpoint {
  const { endpoint, bucket, region, accessKeyId, secretAccessKey, forcePathStyle } = s3;
  return { endpoint, bucket, region, accessKeyId, secretAccessKey, forcePathStyle };
}

/** The variables a Baton service reads to find NATS and S3 (see README, "Real services"). */
export function serviceEnv(natsUrl: string, s3: S3Endpoint): Record<string, string> {
  return {
    NATS_URL: natsUrl,
    S3_ENDPOINT: s3.endpoint,
    S3_BUCKET: s3.bucket,
    AWS_REGION: s3.region,
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
  };
}

/** Creates the bucket; one that already exists and is ours is fine. */
export async function ensureBucket(s3: S3Endpoint): Promise<void> {
  const client = new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: s3.forcePathStyle,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
  try {
    await client.send(new CreateBucketCommand({ Bucket: s3.bucket }));
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name !== "BucketAlreadyOwnedByYou" && name !== "BucketAlreadyExists") {
      throw new Error(`could not create bucket "${s3.bucket}" at ${s3.endpoint}: ${(err as Error).message}`);
    }
  } finally {
    client.destroy();
  }
}
