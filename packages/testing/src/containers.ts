import type { S3Endpoint } from "./s3-server.ts";

// Images for the container path; the same servers as infra/compose.yaml.
const NATS_IMAGE = "nats:2.10-alpine";
const MINIO_IMAGE = "minio/minio:latest";
const MINIO_USER = "baton";
const MINIO_PASSWORD = "baton-test-secret";

export interface ContainerService<T> {
  value: T;
  stop(): Promise<void>;
  restart(): Promise<void>;
}

/** NATS with JetStream in a container (testcontainers); only called once a Docker engine answered. */
export async function startNatsContainer(): Promise<ContainerService<{ url: string }>> {
  const { GenericContainer, Wait } = await import("testcontainers");
  const container = await new GenericContainer(NATS_IMAGE)
    .withCommand(["-js", "-sd", "/data"])
    .withExposedPorts(4222)
    .withWaitStrategy(Wait.forLogMessage(/Server is ready/))
    .start();
  return {
    value: { url: `nats://${container.getHost()}:${container.getMappedPort(4222)}` },
    stop: async () => void (await container.stop()),
    restart: () => container.restart(),
  };
}

/** MinIO in a container; the caller creates the bucket. */
export async function startMinioContainer(bucket: string): Promise<ContainerService<S3Endpoint>> {
  const { GenericContainer, Wait } = await import("testcontainers");
  const container = await new GenericContainer(MINIO_IMAGE)
    .withCommand(["server", "/data"])
    .withEnvironment({ MINIO_ROOT_USER: MINIO_USER, MINIO_ROOT_PASSWORD: MINIO_PASSWORD })
    .withExposedPorts(9000)
    .withWaitStrategy(Wait.forHttp("/minio/health/ready", 9000))
    .start();
  return {
    value: {
      endpoint: `http://${container.getHost()}:${container.getMappedPort(9000)}`,
      bucket,
      region: "us-east-1",
      accessKeyId: MINIO_USER,
      secretAccessKey: MINIO_PASSWORD,
      forcePathStyle: true,
    },
    stop: async () => void (await container.stop()),
    restart: () => container.restart(),
  };
}
