import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dockerAnswers, dockerCandidates } from "./docker.ts";
import { type LocalNats, startNats } from "./nats-server.ts";
import { type LocalS3, type S3Endpoint, startS3 } from "./s3-server.ts";
import { endpointOf, startTestServices } from "./services.ts";
import { tsxNodeArgs } from "./tsx.ts";

function s3Client(s3: S3Endpoint): S3Client {
  return new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: s3.forcePathStyle,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    maxAttempts: 1,
  });
}

describe("startNats", () => {
  let nats: LocalNats;
  beforeAll(async () => {
    nats = await startNats();
  });
  afterAll(async () => {
    await nats.dispose();
  });

  it("serves JetStream, and a restart keeps the port and the stream's messages", async () => {
    let nc = await connect({ servers: nats.url });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "T", subjects: ["t.>"] });
    await jetstream(nc).publish("t.a", "kept across restarts");
    await nc.close();

    await nats.restart();
    nc = await connect({ servers: nats.url });
    const msg = await (await jetstreamManager(nc)).streams.getMessage("T", { seq: 1 });
    expect(msg?.string()).toBe("kept across restarts");
    await nc.close();
  });

  it("kill() makes the server unreachable until restart()", async () => {
    await nats.kill();
    await expect(connect({ servers: nats.url, reconnect: false, timeout: 500 })).rejects.toThrow();
    await nats.restart();
    const nc = await connect({ servers: nats.url });
    expect(nc.info?.jetstream).toBe(true);
    await nc.close();
  });
});

describe("startS3", () => {
  let s3: LocalS3;
  beforeAll(async () => {
    s3 = await startS3({ bucket: "relay-test" });
  });
  afterAll(async () => {
    await s3.dispose();
  });

  it("creates the bucket; objects survive stop() + restart(); stopped means unreachable", async () => {
    const client = s3Client(s3);
    await client.send(new PutObjectCommand({ Bucket: "relay-test", Key: "a/b.txt", Body: "hello" }));

    await s3.stop();
    await expect(client.send(new GetObjectCommand({ Bucket: "relay-test", Key: "a/b.txt" }))).rejects.toThrow(
      /ECONNREFUSED/,
    );

    await s3.restart();
    const got = await client.send(new GetObjectCommand({ Bucket: "relay-test", Key: "a/b.txt" }));
    expect(await got.Body?.transformToString()).toBe("hello");
    client.destroy();
  });
});

describe("Docker detection", () => {
  it("reads DOCKER_HOST as a unix socket or tcp address", () => {
    expect(dockerCandidates({ DOCKER_HOST: "unix:///run/user/1/docker.sock" })).toEqual([
      { socketPath: "/run/user/1/docker.sock" },
    ]);
    expect(dockerCandidates({ DOCKER_HOST: "tcp://10.0.0.5:2375" })).toEqual([{ host: "10.0.0.5", port: 2375 }]);
  });

  it("answers false for a socket that does not exist, and true for an engine that answers /_ping", async () => {
    const dir = await mkdtemp(join(tmpdir(), "baton-docker-"));
    const socketPath = join(dir, "docker.sock");
    expect(await dockerAnswers({ DOCKER_HOST: `unix://${socketPath}` }, 300)).toBe(false);

    const engine: Server = createServer((req, res) => {
      res.writeHead(req.url === "/_ping" ? 200 : 404).end("OK");
    });
    await new Promise<void>((resolve) => engine.listen(socketPath, resolve));
    try {
      expect(await dockerAnswers({ DOCKER_HOST: `unix://${socketPath}` }, 300)).toBe(true);
    } finally {
      await new Promise((resolve) => engine.close(resolve));
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("startTestServices", () => {
  it("starts local processes when no URL is set and no Docker engine answers", async () => {
    const services = await startTestServices({ env: {}, docker: async () => false, bucket: "sel" });
    try {
      expect(services.nats.source).toBe("local");
      expect(services.s3.source).toBe("local");
      expect(services.env).toMatchObject({
        NATS_URL: services.nats.url,
        S3_ENDPOINT: services.s3.endpoint,
        S3_BUCKET: "sel",
      });

      // The same servers, named by environment URLs, are used as they are and not stopped on close().
      const fromEnv = await startTestServices({
        env: services.env,
        docker: async () => {
          throw new Error("Docker must not be probed when both URLs are set");
        },
      });
      expect(fromEnv.nats).toEqual({ url: services.nats.url, source: "env" });
      expect(endpointOf(fromEnv.s3)).toEqual(endpointOf(services.s3));
      await fromEnv.close();
      const nc = await connect({ servers: services.nats.url });
      await nc.close();
    } finally {
      await services.close();
    }
    await expect(connect({ servers: services.nats.url, reconnect: false, timeout: 500 })).rejects.toThrow();
  });
});

describe("no server outlives its test", () => {
  it("stops the S3 server process when the process that started it is killed with SIGKILL", async () => {
    const helpers = fileURLToPath(new URL("./s3-server.ts", import.meta.url));
    const script = `const { startS3 } = await import(${JSON.stringify(helpers)}); const s3 = await startS3(); console.log("port=" + s3.port);`;
    const parent = spawn(process.execPath, [...tsxNodeArgs(), "--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const port = await new Promise<number>((resolve, reject) => {
      parent.stdout!.on("data", (c: Buffer) => {
        const m = /port=(\d+)/.exec(c.toString());
        if (m) resolve(Number(m[1]));
      });
      parent.once("exit", (code) => reject(new Error(`parent exited (${code}) before the S3 server was up`)));
    });
    const open = () =>
      new Promise<boolean>((resolve) => {
        const socket = tcpConnect({ host: "127.0.0.1", port });
        socket.once("connect", () => {
          socket.destroy();
          resolve(true);
        });
        socket.once("error", () => resolve(false));
      });
    expect(await open()).toBe(true);
    parent.kill("SIGKILL");
    const deadline = Date.now() + 20_000;
    while ((await open()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await open()).toBe(false);
  });
});
