// An event cannot make a stage service read files or fetch URLs: over a real nats-server and a real
// S3 server (so the service runs with its distributed policy: its store only), an event naming a
// local file, a /etc/passwd-style path or a URL of a local HTTP server is dead-lettered with the
// reason, the HTTP server sees no request and the file's contents appear nowhere in the store.
// The operator's BATON_ALLOW_DATA opens a folder on purpose.

import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HEADERS, keys, type Recipe, subjects } from "@baton/contracts";
import { runStage, type StageEnv, silentLogger, stageEnv } from "@baton/runner";
import { implementation, runPipeline } from "@baton/stage-registry";
import { startTestServices, type TestServices } from "@baton/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, sha256File } from "./cluster.ts";

const TINY = {
  model: { nLayer: 1, nHead: 2, nEmbd: 32, blockSize: 32 },
  train: { steps: 2, batchSize: 4, warmupSteps: 1, evalEvery: 2, snapshotEvery: 2 },
  evalBatches: 1,
  samples: { count: 1, promptChars: 8, maxTokens: 4 },
};
// Short and first on every line, so the samples' prompt openings (promptChars 8) would copy it.
const CANARY = "zq7xk";
const line = (i: number) => JSON.stringify({ text: `${CANARY} the cat sat on the mat number ${i}; the dog ran home.` });

describe("data access over NATS + S3", () => {
  let services: TestServices;
  let env: StageEnv;
  let dir: string;
  let http: Server;
  let httpUrl: string;
  const requests: string[] = [];
  let valUri: string;

  beforeAll(async () => {
    services = await startTestServices();
    dir = await mkdtemp(join(tmpdir(), "baton-access-"));
    env = await stageEnv({ ...process.env, ...services.env, BATON_HOME: join(dir, "home"), BATON_MAX_ATTEMPTS: "2" });
    await writeFile(join(dir, "general.train.jsonl"), `${Array.from({ length: 40 }, (_, i) => line(i)).join("\n")}\n`);
    await writeFile(join(dir, "passwd"), `${CANARY}:x:0:0:root:/root:/bin/bash\n`);
    const val = `${Array.from({ length: 8 }, (_, i) => JSON.stringify({ text: `a held out line number ${i} about the mat.` })).join("\n")}\n`;
    await env.store.putBytes(keys.dataset("access", "general.val.jsonl"), new TextEncoder().encode(val));
    valUri = env.store.uri(keys.dataset("access", "general.val.jsonl"));
    http = createServer((req, res) => {
      requests.push(req.url ?? "");
      res.end(Array.from({ length: 40 }, (_, i) => line(i)).join("\n"));
    });
    await new Promise<void>((res) => http.listen(0, "127.0.0.1", res));
    httpUrl = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
  }, 60_000);

  afterAll(async () => {
    await env?.close();
    await new Promise((res) => http?.close(res));
    await services?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const recipe = (data: string[]): Recipe => ({
    name: "access",
    seed: 1,
    steps: [{ name: "pretrain", stage: "pretrain", config: TINY, data }],
  });

  async function attempt(runId: string, r: Recipe, e = env) {
    const letters: { reason: string; code: string }[] = [];
    await e.bus.ensureConsumer("pretrain");
    const unwatch = await e.bus.watch(
      subjects.deadLetter("pretrain"),
      (m) => {
        if ((m.headers[HEADERS.deadLetterEventId] ?? "").startsWith(`${runId}:`))
          letters.push({
            reason: m.headers[HEADERS.deadLetterReason] ?? "",
            code: m.headers[HEADERS.deadLetterCode] ?? "",
          });
      },
      { from: "all" },
    );
    const err = await runPipeline({ recipe: r, file: "inline", env: e, runId, timeoutMs: 60_000, threads: 1 }).then(
      () => null,
      (x: Error) => x,
    );
    await new Promise((res) => setTimeout(res, 200));
    await unwatch();
    return { err, letters, committed: await e.ledger.get(runId, 0) };
  }

  /** Every object in the bucket, read back: the canary must be in none. */
  async function storeHolds(text: string): Promise<string[]> {
    const found: string[] = [];
    for (const key of await env.store.list(""))
      if (new TextDecoder().decode(await env.store.getBytes(key)).includes(text)) found.push(key);
    return found;
  }

  /**
   * Publishes a checkpoint.ready event as any client on the bus could (raw bytes, no producer-side
   * validation) and lets the real pretrain stage take it, with the service's own policy.
   */
  async function crafted(
    runId: string,
    data: string[],
    checkpoint?: { uri: string; manifestSha256: string; files: [] },
  ) {
    const event = {
      specversion: "1.0",
      id: `${runId}:0:dev.baton.checkpoint.ready`,
      source: "baton://elsewhere",
      type: "dev.baton.checkpoint.ready",
      time: new Date().toISOString(),
      datacontenttype: "application/json",
      subject: "pretrain",
      data: {
        runId,
        recipe: "access",
        seed: 1,
        cursor: 0,
        pipeline: [{ name: "pretrain", stage: "pretrain", config: TINY, data }],
        checkpoint: checkpoint ?? null,
      },
    };
    const letters: { reason: string; code: string }[] = [];
    await env.bus.ensureConsumer("pretrain");
    const unwatch = await env.bus.watch(
      subjects.deadLetter("pretrain"),
      (m) => {
        if ((m.headers[HEADERS.deadLetterEventId] ?? "").startsWith(`${runId}:`))
          letters.push({
            reason: m.headers[HEADERS.deadLetterReason] ?? "",
            code: m.headers[HEADERS.deadLetterCode] ?? "",
          });
      },
      { from: "all" },
    );
    await env.bus.publishRaw(subjects.checkpointReady("pretrain"), new TextEncoder().encode(JSON.stringify(event)));
    const def = (await implementation("pretrain", "test").load()).createStage({
      store: env.store,
      dataAccess: env.dataAccess,
      threads: 1,
    });
    const outcome = await runStage({
      ...def,
      step: "pretrain",
      bus: env.bus,
      store: env.store,
      ledger: env.ledger,
      retry: env.retry,
      dataAccess: env.dataAccess,
      logger: silentLogger,
      pullExpiresMs: 5_000,
    });
    await new Promise((res) => setTimeout(res, 200));
    await unwatch();
    return { outcome, letters, committed: await env.ledger.get(runId, 0) };
  }

  const cases: [string, () => string][] = [
    ["a local file outside the allowed locations", () => `file://${join(dir, "general.train.jsonl")}`],
    ["a file:///etc/passwd-style path", () => `file://${join(dir, "passwd")}`],
    ["a URL of a local HTTP server", () => `${httpUrl}/general.train.jsonl`],
    ["an s3:// URI of another bucket", () => "s3://other-bucket/general.train.jsonl"],
  ];

  cases.forEach(([what, uri], i) => {
    it(`${what}: dead-lettered with the reason, nothing read, fetched or stored`, { timeout: 90_000 }, async () => {
      const runId = `access-${i}`;
      const { outcome, letters, committed } = await crafted(runId, [uri(), valUri]);
      expect(outcome?.kind).toBe("dead-lettered");
      expect(letters).toHaveLength(1);
      expect(letters[0]?.code).toBe("DATA_NOT_ALLOWED");
      expect(letters[0]?.reason).toContain(
        `step "pretrain" /data/0 ${JSON.stringify(uri())} is outside the locations this service may read (s3://baton/)`,
      );
      expect(letters[0]?.reason).toContain("BATON_ALLOW_DATA");
      expect(committed).toBeNull();
      expect(requests).toEqual([]);
      expect(await env.store.list(`checkpoints/${runId}/`)).toEqual([]);
      expect(await storeHolds(CANARY)).toEqual([]);
    });
  });

  it("a plain path is not even a valid event: dead-lettered naming the JSON path", { timeout: 60_000 }, async () => {
    const { outcome, letters } = await crafted("access-plain", [join(dir, "passwd"), valUri]);
    expect(outcome?.kind).toBe("dead-lettered");
    expect(letters[0]?.code).toBe("EVENT_INVALID");
    expect(letters[0]?.reason).toContain("/data/pipeline/0/data/0");
    expect(await storeHolds(CANARY)).toEqual([]);
  });

  it("an input checkpoint outside the store is refused before any download", { timeout: 60_000 }, async () => {
    for (const [i, uri] of [`file://${dir}/`, "s3://other-bucket/checkpoints/r/0-pretrain/a/"].entries()) {
      const { outcome, letters } = await crafted(`access-ckpt-${i}`, [valUri], {
        uri,
        manifestSha256: "0".repeat(64),
        files: [],
      });
      expect(outcome?.kind).toBe("dead-lettered");
      expect(letters[0]?.code).toBe("DATA_NOT_ALLOWED");
      expect(letters[0]?.reason).toContain(`input checkpoint ${JSON.stringify(uri)} is outside the locations`);
    }
  });

  it("the operator's BATON_ALLOW_DATA opens a folder: the same local file trains", { timeout: 90_000 }, async () => {
    const allowed = await stageEnv({
      ...process.env,
      ...services.env,
      BATON_HOME: join(dir, "home2"),
      BATON_MAX_ATTEMPTS: "2",
      BATON_ALLOW_DATA: `file://${dir}/`,
    });
    try {
      const { err, letters, committed } = await attempt(
        "access-allowed",
        recipe([`file://${join(dir, "general.train.jsonl")}`]),
        allowed,
      );
      expect(err).toBeNull();
      expect(letters).toEqual([]);
      expect(committed?.checkpoint.uri).toMatch(/^s3:\/\/baton\/checkpoints\/access-allowed\//);
      expect(requests).toEqual([]);
      // the grep finds what a read copies: the allowed run's report holds the openings
      expect((await storeHolds(CANARY)).every((k) => k.startsWith("checkpoints/access-allowed/"))).toBe(true);
      expect(await storeHolds(CANARY)).not.toEqual([]);
    } finally {
      await allowed.close();
    }
  });

  it("baton run against the cluster uploads the recipe's local datasets by sha256 (once) and publishes s3:// URIs", {
    timeout: 90_000,
  }, async () => {
    const file = join(dir, "upload.yaml");
    await writeFile(
      file,
      `name: upload\nsteps:\n  - { name: upload-step, stage: pretrain, config: {}, data: [general.train.jsonl, passwd] }\n`,
    );
    const processEnv = { ...services.env, BATON_HOME: join(dir, "cli-home") };
    const first = await cli(["run", file, "--run-id", "upload-1"], processEnv);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain("datasets: 2 uploaded, 0 already in the store");
    const again = await cli(["run", file, "--run-id", "upload-2"], processEnv);
    expect(again.stdout).toContain("datasets: 0 uploaded, 2 already in the store");

    const published: string[][] = [];
    const unwatch = await env.bus.watch(
      subjects.checkpointReady("upload-step"),
      (m) => {
        const e = JSON.parse(new TextDecoder().decode(m.data)) as { data: { pipeline: { data: string[] }[] } };
        published.push(e.data.pipeline[0]!.data);
      },
      { from: "all" },
    );
    await new Promise((res) => setTimeout(res, 300));
    await unwatch();
    expect(published).toHaveLength(2);
    expect(published[0]).toEqual(published[1]);
    for (const [i, name] of ["general.train.jsonl", "passwd"].entries()) {
      const sha = await sha256File(join(dir, name));
      expect(published[0]![i]).toBe(`s3://baton/datasets/sha256/${sha}/${name}`);
      expect(Buffer.from(await env.store.getBytes(env.store.keyOf(published[0]![i]!), { sha256: sha }))).toEqual(
        await readFile(join(dir, name)),
      );
    }
  });
});
