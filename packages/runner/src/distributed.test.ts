import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Recipe } from "@baton/contracts";
import { type LocalNats, type LocalS3, startNats, startS3 } from "@baton/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lineage, openCheckpoint } from "./checkpoint/checkpoint.ts";
import { countingStage, expectedWeights, readWeights } from "./counting-stage.ts";
import { type StageEnv, stageEnv } from "./env.ts";
import { silentLogger } from "./log.ts";
import { awaitRun, type StageService, serveStage, startRun } from "./run.ts";

// The distributed path: every service builds its own bus/store/ledger from the environment, as
// `baton stage serve` does, against a real nats-server and a real S3 server.
let nats: LocalNats;
let s3: LocalS3;
let work: string;
const envs: StageEnv[] = [];

beforeAll(async () => {
  [nats, s3] = await Promise.all([startNats(), startS3({ bucket: "relay" })]);
  work = await mkdtemp(join(tmpdir(), "baton-distributed-"));
});
afterAll(async () => {
  await Promise.all(envs.map((e) => e.close().catch(() => undefined)));
  await Promise.all([nats?.dispose(), s3?.dispose()]);
  await rm(work, { recursive: true, force: true });
});

async function env(): Promise<StageEnv> {
  const e = await stageEnv({
    NATS_URL: nats.url,
    S3_ENDPOINT: s3.endpoint,
    S3_BUCKET: s3.bucket,
    S3_REGION: s3.region,
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    BATON_ACK_WAIT_MS: "3000",
    BATON_MAX_ATTEMPTS: "3",
  });
  envs.push(e);
  return e;
}

const stages = [
  { name: "pre", stage: "pretrain", add: 1, steps: 5 },
  { name: "mid", stage: "finetune", add: 2, steps: 4 },
  { name: "post", stage: "instruct", add: 3, steps: 3 },
];
const recipe: Recipe = {
  name: "three",
  steps: stages.map((s) => ({ name: s.name, stage: s.stage, config: {}, data: [] })),
};

describe("relay over NATS JetStream + S3, built from the environment", () => {
  it("builds nats + s3 from NATS_URL / S3_*, and memory + folder without them", async () => {
    const e = await env();
    expect([e.bus.kind, e.store.kind, e.ledger.kind]).toEqual(["nats", "s3", "nats"]);
    expect(e.describe).toContain(nats.url);
    const local = await stageEnv({ BATON_HOME: join(work, "home") });
    expect([local.bus.kind, local.store.kind, local.ledger.kind]).toEqual(["memory", "fs", "memory"]);
    expect(local.describe).toContain(join(work, "home"));
    await local.close();
    await expect(stageEnv({ S3_ENDPOINT: "http://x" })).rejects.toThrow(/S3_BUCKET is not/);
    await expect(stageEnv({ BATON_MAX_ATTEMPTS: "many" })).rejects.toThrow(
      /BATON_MAX_ATTEMPTS="many" is not a positive integer/,
    );
  });

  it("runs three services to run.completed through a nats-server restart; lineage and weights check out", async () => {
    const services: StageService[] = [];
    for (const s of stages) {
      const e = await env();
      services.push(
        serveStage({
          ...countingStage({ ...s, stepDelayMs: 30 }),
          step: s.name,
          bus: e.bus,
          store: e.store,
          ledger: e.ledger,
          retry: e.retry,
          workRoot: work,
          logger: silentLogger,
          pullExpiresMs: 1_000,
        }),
      );
    }
    const client = await env();
    const finished = awaitRun(client.bus, "dist-1", { timeoutMs: 45_000 });
    await startRun(client.bus, { runId: "dist-1", recipe });
    // Restart nats-server once the first step committed: services and the watcher reconnect.
    await waitFor(async () => (await client.ledger.get("dist-1", 0)) !== null);
    await nats.restart();
    const done = await finished;
    await Promise.all(services.map((s) => s.stop()));

    expect(done.checkpoint.uri).toMatch(/^s3:\/\/relay\/checkpoints\/dist-1\/2-post\//);
    const hops = await lineage(client.store, done.checkpoint);
    expect(hops.map((h) => `${h.manifest.cursor}:${h.manifest.step}`)).toEqual(["2:post", "1:mid", "0:pre"]);
    const opened = await openCheckpoint(client.store, done.checkpoint, join(work, "final"));
    expect(await readWeights(join(opened.dir, "weights.bin"))).toEqual(expectedWeights(stages));
    expect((await client.ledger.get("dist-1", 2))?.checkpoint).toEqual(done.checkpoint);
  });
});

async function waitFor(cond: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await cond().catch(() => false))) {
    if (Date.now() > until) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}
