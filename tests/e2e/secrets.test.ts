// No secret leaves a process. Fake credentials are planted in every setting (NATS URLs of several
// servers with passwords, an S3 endpoint URL with user:password, access keys, OTLP headers); one run
// succeeds and one fails (its service's S3 endpoint is down) over a real nats-server and a real S3
// server, with the stage services, `baton run` and `baton status` as their own processes. Then every
// event and header on the stream, every stored object, every log line, every HTTP answer of the
// services' faces and all CLI output are searched for each secret.
import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { keys } from "@baton/contracts";
import { type StageEnv, stageEnv } from "@baton/runner";
import { freePort, startTestServices, type TestServices, tsxNodeArgs } from "@baton/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli } from "./cluster.ts";

const CLI = fileURLToPath(new URL("../../packages/cli/src/main.ts", import.meta.url));
const TINY = {
  model: { nLayer: 1, nHead: 2, nEmbd: 32, blockSize: 32 },
  train: { steps: 4, batchSize: 4, warmupSteps: 1, evalEvery: 2, snapshotEvery: 2 },
  evalBatches: 1,
  samples: { count: 1, promptChars: 8, maxTokens: 4 },
};

// Every planted secret, and where it is planted.
const NATS_PASS = ["natspw-first-q8v1", "natspw-second-q8v2"];
const S3_URL_PASS = "s3-url-pass-q8v3";
const DEAD_S3_URL_PASS = "s3-dead-url-pass-q8v4";
const DEAD_KEY_ID = "AKIAQ8FAKEKEYID5";
const DEAD_SECRET = "fake/secret+q8v6";
const OTLP_TOKEN = "otlp-bearer-q8v7";

interface Service {
  output: string[];
  url: () => string | undefined;
  stop(): Promise<void>;
}

function serve(step: string, env: Record<string, string>): Service {
  const child = spawn(
    process.execPath,
    [...tsxNodeArgs(), CLI, "stage", "serve", "pretrain", "--step", step, "--threads", "1"],
    { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] },
  );
  const output: string[] = [];
  child.stdout!.on("data", (b: Buffer) => output.push(b.toString()));
  child.stderr!.on("data", (b: Buffer) => output.push(b.toString()));
  const exited = new Promise((res) => child.once("exit", res));
  return {
    output,
    url: () => /http (http:\/\/\S+)/.exec(output.join(""))?.[1],
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(t);
    },
  };
}

async function until<T>(what: string, f: () => T | undefined | Promise<T | undefined>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Reads an SSE stream into `into` until stopped. */
function listen(url: string, into: string[]): () => void {
  const abort = new AbortController();
  void fetch(url, { signal: abort.signal })
    .then(async (res) => {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>)
        into.push(new TextDecoder().decode(chunk));
    })
    .catch(() => undefined);
  return () => abort.abort();
}

describe("no secret leaves a process", () => {
  let services: TestServices;
  let env: StageEnv;
  let dir: string;
  let goodEnv: Record<string, string>;
  let deadEnv: Record<string, string>;
  let secrets: string[];

  beforeAll(async () => {
    services = await startTestServices();
    dir = await mkdtemp(join(tmpdir(), "baton-secrets-"));
    const natsPort = new URL(services.nats.url).port;
    const dead = await freePort();
    const s3 = new URL(services.env.S3_ENDPOINT!);
    const common = {
      BATON_MAX_ATTEMPTS: "2",
      BATON_ACK_WAIT_MS: "10000",
      BATON_HTTP_PORT: "0",
      S3_BUCKET: services.env.S3_BUCKET ?? "baton",
      NATS_URL: `nats://baton:${NATS_PASS[0]}@127.0.0.1:${natsPort},nats://baton:${NATS_PASS[1]}@127.0.0.1:${dead}`,
      OTEL_EXPORTER_OTLP_HEADERS: `authorization=Bearer ${OTLP_TOKEN}`,
    };
    goodEnv = {
      ...services.env,
      ...common,
      BATON_HOME: join(dir, "good"),
      S3_ENDPOINT: `http://minio:${S3_URL_PASS}@${s3.host}`,
    };
    deadEnv = {
      ...services.env,
      ...common,
      BATON_HOME: join(dir, "dead"),
      S3_ENDPOINT: `http://minio:${DEAD_S3_URL_PASS}@127.0.0.1:${dead}`,
      AWS_ACCESS_KEY_ID: DEAD_KEY_ID,
      AWS_SECRET_ACCESS_KEY: DEAD_SECRET,
    };
    // the real server's keys are secrets too (s3rver's are fixed, so they are searched for as given)
    secrets = [
      ...NATS_PASS,
      S3_URL_PASS,
      DEAD_S3_URL_PASS,
      DEAD_KEY_ID,
      DEAD_SECRET,
      encodeURIComponent(DEAD_SECRET),
      OTLP_TOKEN,
      services.env.AWS_SECRET_ACCESS_KEY!,
      services.env.AWS_ACCESS_KEY_ID!,
    ];
    env = await stageEnv({ ...process.env, ...services.env, BATON_HOME: join(dir, "test") });
  }, 60_000);

  afterAll(async () => {
    await env?.close();
    await services?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("a failing and a succeeding run leave no trace of them anywhere", { timeout: 240_000 }, async () => {
    const good = serve("good", goodEnv);
    const doomed = serve("doomed", deadEnv);
    const http: string[] = [];
    try {
      const goodUrl = await until("the good service's HTTP face", good.url);
      const doomedUrl = await until("the doomed service's HTTP face", doomed.url);
      const stopGood = listen(`${goodUrl}/events`, http);
      const stopDoomed = listen(`${doomedUrl}/events`, http);
      await env.bus.ensureConsumer("good");
      await env.bus.ensureConsumer("doomed");

      await writeFile(
        join(dir, "general.train.jsonl"),
        `${Array.from({ length: 40 }, (_, i) => JSON.stringify({ text: `the cat sat on the mat number ${i}; the dog ran home.` })).join("\n")}\n`,
      );
      await writeFile(
        join(dir, "good.yaml"),
        `name: good\nsteps:\n  - name: good\n    stage: pretrain\n    data: [general.train.jsonl]\n    config: ${JSON.stringify(TINY)}\n`,
      );
      await env.store.putFile(keys.dataset("secrets", "general.train.jsonl"), join(dir, "general.train.jsonl"));
      await writeFile(
        join(dir, "doomed.yaml"),
        `name: doomed\nsteps:\n  - name: doomed\n    stage: pretrain\n    data: [${env.store.uri(keys.dataset("secrets", "general.train.jsonl"))}]\n    config: ${JSON.stringify(TINY)}\n`,
      );

      const cliOut: string[] = [];
      const goodRun = await cli(
        [
          "run",
          join(dir, "good.yaml"),
          "--run-id",
          "sec-good",
          "--wait",
          "--report",
          join(dir, "report"),
          "--timeout-min",
          "3",
        ],
        goodEnv,
      );
      cliOut.push(goodRun.stdout, goodRun.stderr);
      expect(goodRun.code, goodRun.stderr).toBe(0);
      const doomedRun = await cli(
        ["run", join(dir, "doomed.yaml"), "--run-id", "sec-doomed", "--wait", "--timeout-min", "3"],
        goodEnv,
      );
      cliOut.push(doomedRun.stdout, doomedRun.stderr);
      expect(doomedRun.code).not.toBe(0);
      // the failure names the endpoint it could not reach; its password is what the redactor hid
      expect(doomedRun.stderr).toContain("http://minio:[redacted]@127.0.0.1");
      for (const id of ["sec-good", "sec-doomed"]) {
        const s = await cli(["status", id], goodEnv);
        cliOut.push(s.stdout, s.stderr);
        expect(s.code, s.stderr).toBe(0);
      }

      for (const base of [goodUrl, doomedUrl]) {
        for (const path of ["/healthz", "/readyz", "/metrics", "/status", "/nowhere"])
          http.push(await (await fetch(`${base}${path}`)).text());
      }
      const doomedReady = JSON.parse(http.at(-4)!) as { ready: boolean; checks: Record<string, string> };
      expect(doomedReady.ready).toBe(false);
      expect(doomedReady.checks["store"]).toMatch(/^store unreachable \([A-Za-z_]+\)$/);
      await until("the doomed service's failure on /events", () =>
        http.join("").includes('"disposition":"dead-lettered"') ? true : undefined,
      );
      stopGood();
      stopDoomed();

      // every message on the stream, payload and headers
      const stream: string[] = [];
      const unwatch = await env.bus.watch(
        "baton.>",
        (m) => stream.push(m.subject, JSON.stringify(m.headers), new TextDecoder().decode(m.data)),
        { from: "all" },
      );
      await new Promise((r) => setTimeout(r, 500));
      await unwatch();
      expect(stream.join("\n")).toContain("dev.baton.stage.failed");
      expect(stream.join("\n")).toContain("Baton-Dead-Letter-Reason");
      // every stored object, and the report written locally
      const stored: string[] = [];
      for (const key of await env.store.list(""))
        stored.push(key, new TextDecoder().decode(await env.store.getBytes(key)));
      expect(stored.some((s) => s.includes("reports/sec-good/report.json"))).toBe(true);
      for (const f of await readdir(join(dir, "report"))) stored.push(await readFile(join(dir, "report", f), "utf8"));
      const ledger = JSON.stringify([await env.ledger.get("sec-good", 0), await env.ledger.get("sec-doomed", 0)]);

      await good.stop();
      await doomed.stop();
      const logs = [...good.output, ...doomed.output];
      expect(logs.join("")).toContain("event dead-lettered");

      const places: Record<string, string> = {
        stream: stream.join("\n"),
        stored: stored.join("\n"),
        ledger,
        http: http.join("\n"),
        logs: logs.join(""),
        cli: cliOut.join("\n"),
      };
      const leaks = Object.entries(places).flatMap(([where, text]) =>
        secrets.filter((s) => text.includes(s)).map((s) => `${s} in ${where}`),
      );
      expect(leaks).toEqual([]);
    } finally {
      await good.stop();
      await doomed.stop();
    }
  });
});
