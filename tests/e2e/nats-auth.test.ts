// The bus with the shipped authorisation (infra/nats-auth.conf): nats-server is started with that very
// file. A client without credentials cannot connect; a stage's credentials cannot publish another
// step's checkpoint.ready, start a run, or complete one it does not end; and the demo recipe still runs
// to completion, each stage service on its own user, the run started with the CLI's user.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { connectNats } from "@baton/bus";
import { generateDemoData } from "@baton/data";
import {
  awaitRun,
  type StageEnv,
  type StageService,
  serveStage,
  silentLogger,
  stageEnv,
  startRun,
} from "@baton/runner";
import { implementation } from "@baton/stage-registry";
import { endpointOf, type LocalNats, type LocalS3, serviceEnv, startNats, startS3 } from "@baton/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_RECIPE, recipeWith, uploadDatasets } from "./cluster.ts";

const AUTH = fileURLToPath(new URL("../../infra/nats-auth.conf", import.meta.url));
const USERS = ["cli", "pretrain", "cpt", "finetune", "instruct", "reward", "rlhf", "minio"] as const;
// nats-server parses a referenced variable as a config value: a password starts with a letter
const STEPS = ["pretrain", "cpt", "finetune", "instruct", "reward", "rlhf"] as const;
const password = Object.fromEntries(USERS.map((u) => [u, `p${randomBytes(12).toString("hex")}`])) as Record<
  (typeof USERS)[number],
  string
>;

describe("NATS with the shipped authorisation", () => {
  let nats: LocalNats;
  let s3: LocalS3;
  let dir: string;
  let base: Record<string, string>;
  const envs: StageEnv[] = [];
  const as = async (user: (typeof USERS)[number]) => {
    const e = await stageEnv({
      ...process.env,
      ...base,
      NATS_USER: user,
      NATS_PASSWORD: password[user],
      BATON_SERVICE_NAME: user,
    });
    envs.push(e);
    return e;
  };

  beforeAll(async () => {
    nats = await startNats({
      authorization: {
        file: AUTH,
        env: Object.fromEntries(USERS.map((u) => [`BATON_NATS_${u.toUpperCase()}_PASSWORD`, password[u]])),
      },
    });
    s3 = await startS3({ bucket: "baton" });
    dir = await mkdtemp(join(tmpdir(), "baton-nats-auth-"));
    base = {
      ...serviceEnv(nats.url, endpointOf(s3)),
      BATON_HOME: join(dir, "home"),
      BATON_MAX_ATTEMPTS: "2",
      BATON_ACK_WAIT_MS: "10000",
    };
  }, 60_000);

  afterAll(async () => {
    for (const e of envs) await e.close().catch(() => undefined);
    await nats?.dispose();
    await s3?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("a client without credentials, or with a wrong password, cannot connect", async () => {
    await expect(connectNats(nats.url)).rejects.toThrow(/refused this client's credentials/);
    await expect(connectNats(nats.url, "x", { user: "pretrain", pass: "wrong" })).rejects.toThrow(
      /refused this client's credentials/,
    );
    await expect(stageEnv({ ...base, NATS_USER: "cli", NATS_PASSWORD: "nope" })).rejects.toMatchObject({
      code: "BUS_UNAVAILABLE",
      disposition: "fatal",
    });
  });

  it("a stage's user cannot publish another step's checkpoint.ready, start a run, or complete one", {
    timeout: 60_000,
  }, async () => {
    const cli = await as("cli");
    const recipe = {
      name: "probe",
      steps: [
        { name: "pretrain", stage: "pretrain", config: {}, data: [] },
        { name: "cpt", stage: "cpt", config: {}, data: [] },
      ],
    };
    const pretrain = await as("pretrain");
    const cpt = await as("cpt");
    const payload = new TextEncoder().encode("{}");
    // its own next step is allowed (the server answers with a stream ack)
    await expect(
      pretrain.bus.publishRaw("baton.checkpoint.ready.cpt", payload, { msgId: "probe-allowed" }),
    ).resolves.toMatchObject({ seq: expect.any(Number) });
    for (const [who, e, subject] of [
      ["pretrain", pretrain, "baton.checkpoint.ready.finetune"],
      ["pretrain", pretrain, "baton.run.completed"],
      ["pretrain", pretrain, "baton.stage.failed.cpt"],
      ["cpt", cpt, "baton.checkpoint.ready.pretrain"],
      ["cpt", cpt, "baton.dataset.updated.general"],
    ] as const) {
      await expect(
        e.bus.publishRaw(subject, payload, { msgId: `probe-${who}-${subject}` }),
        `${who} -> ${subject}`,
      ).rejects.toThrow(/permission/i);
    }
    // the run starter's user may start runs
    await expect(startRun(cli.bus, { runId: "probe-start", recipe })).resolves.toMatchObject({
      type: "dev.baton.checkpoint.ready",
    });
  });

  it("the six-step demo recipe runs to completion with every service on its own user", {
    timeout: 600_000,
  }, async () => {
    const cli = await as("cli");
    const data = join(dir, "demo-data");
    await generateDemoData(data, { seed: 1 });
    const recipe = await recipeWith(DEMO_RECIPE, await uploadDatasets(cli, data, "demo"));
    // the demo's steps and data, trained briefly: this is about who may say what, not about learning
    for (const step of recipe.steps) {
      const c = step.config as Record<string, Record<string, unknown>>;
      c["train"] = { ...c["train"], steps: 4, batchSize: 4, warmupSteps: 1, evalEvery: 2, snapshotEvery: 2 };
      if (step.stage === "pretrain") c["model"] = { nLayer: 1, nHead: 2, nEmbd: 32, blockSize: 64 };
      if (step.stage === "pretrain" || step.stage === "cpt")
        Object.assign(c, { evalBatches: 1, samples: { count: 1, promptChars: 8, maxTokens: 4 } });
      if (step.stage === "finetune" || step.stage === "instruct")
        c["eval"] = { maxExamples: 4, maxTokens: 8, samples: 1 };
      if (step.stage === "reward") Object.assign(c, { eval: { maxGroups: 4, samples: 1 }, normalizeOn: 16 });
      if (step.stage === "rlhf") {
        delete c["train"];
        Object.assign(c, {
          iterations: 1,
          rollouts: 4,
          minibatches: 1,
          epochs: 1,
          maxNewTokens: 6,
          snapshotEvery: 0,
          eval: { maxPrompts: 2, maxTokens: 6, samples: 1 },
        });
      }
    }
    const services: StageService[] = [];
    try {
      for (const step of STEPS) {
        const e = await as(step);
        const def = (await implementation(step === "rlhf" ? "rlhf-ppo" : step, "test").load()).createStage({
          store: e.store,
          dataAccess: e.dataAccess,
          threads: 1,
        });
        services.push(
          serveStage({
            ...def,
            step,
            bus: e.bus,
            store: e.store,
            ledger: e.ledger,
            retry: e.retry,
            dataAccess: e.dataAccess,
            logger: silentLogger,
            pullExpiresMs: 500,
          }),
        );
      }
      const done = awaitRun(cli.bus, "auth-demo", { timeoutMs: 580_000 });
      await startRun(cli.bus, { runId: "auth-demo", recipe, source: "baton://tests/e2e" });
      const completed = await done;
      expect(completed.checkpoint.uri).toMatch(/^s3:\/\/baton\/checkpoints\/auth-demo\/5-rlhf\//);
      for (let cursor = 0; cursor < STEPS.length; cursor++)
        expect(await cli.ledger.get("auth-demo", cursor)).not.toBeNull();
      // what the relay publishes quietly went out too: a denied publish would only be a warning
      const seen = new Set<string>();
      const unwatch = await cli.bus.watch("baton.stage.>", (m) => seen.add(m.subject.replace(/^baton\.stage\./, "")), {
        from: "all",
      });
      await new Promise((r) => setTimeout(r, 500));
      await unwatch();
      for (const step of STEPS) {
        expect(seen, step).toContain(`started.${step}`);
        expect(seen, step).toContain(`progress.${step}`);
        expect((await cli.ledger.latest(recipe.name, step))?.checkpoint.uri, step).toMatch(
          /^s3:\/\/baton\/checkpoints\/auth-demo\//,
        );
      }
    } finally {
      await Promise.all(services.map((s) => s.stop()));
    }
  });
});
