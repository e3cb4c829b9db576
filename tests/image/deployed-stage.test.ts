// The images' install step run for real (infra/build-app.sh: `pnpm deploy --prod` into a clean folder,
// Baton bundled into its dist/), then the stage started from that folder exactly as the image starts
// it: `tini -- node dist/baton.mjs stage serve <impl> --once`, no tsx, no pnpm, no workspace sources.
// It takes one event over real nats-server and S3 and commits; sent SIGTERM mid-training it snapshots
// at a step boundary, hands the event back for redelivery and exits.

import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { decodeEvent, keys, type Recipe, subjects } from "@baton/contracts";
import { generateDemoData } from "@baton/data";
import { awaitRun, lineage, startRun } from "@baton/runner";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Cluster, recipeWith, startCluster, uploadDatasets } from "../e2e/cluster.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

describe("the deployed stage, started as the image starts it", () => {
  let cluster: Cluster;
  let app: string;
  let recipe: Recipe;
  const children: ChildProcess[] = [];

  const start = (args: string[]) => {
    const child = spawn("tini", ["--", process.execPath, join(app, "dist", "baton.mjs"), "stage", "serve", ...args], {
      cwd: app,
      env: { PATH: process.env.PATH ?? "", HOME: cluster.workDir, ...cluster.processEnv },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    let output = "";
    child.stdout!.on("data", (b: Buffer) => (output += b.toString()));
    child.stderr!.on("data", (b: Buffer) => (output += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    return { child, exited, output: () => output };
  };

  beforeAll(async () => {
    cluster = await startCluster();
    app = join(cluster.workDir, "app");
    await promisify(execFile)("sh", ["infra/build-app.sh", app], { cwd: ROOT, maxBuffer: 16 << 20 });
    const data = join(cluster.workDir, "data");
    await generateDemoData(data, { seed: 2, scale: 0.2 });
    const tiny = await recipeWith("tiny.yaml", await uploadDatasets(cluster.env, data, "tiny"));
    recipe = { ...tiny, steps: tiny.steps.slice(0, 1) };
  }, 180_000);
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    await cluster?.close();
  });

  it("is built JavaScript on production dependencies only", () => {
    expect(existsSync(join(app, "dist", "baton.mjs"))).toBe(true);
    expect(existsSync(join(app, "dist", "schemas", "cloudevent.schema.json"))).toBe(true);
    expect(existsSync(join(app, "node_modules", "onnxruntime-node"))).toBe(true);
    for (const gone of [
      "src",
      "node_modules/@baton",
      "node_modules/vitest",
      "node_modules/tsx",
      "node_modules/typescript",
    ])
      expect(existsSync(join(app, gone)), gone).toBe(false);
  });

  it("takes one event over real nats-server and S3, commits, and exits 0", { timeout: 180_000 }, async () => {
    const done = awaitRun(cluster.env.bus, "deployed-1", { timeoutMs: 170_000 });
    await startRun(cluster.env.bus, { runId: "deployed-1", recipe });
    const stage = start(["pretrain", "--once", "--idle-exit-s", "150", "--threads", "1"]);
    const completed = await done.catch((err: Error) => {
      throw new Error(`${err.message}\n${stage.output()}`);
    });
    expect(await stage.exited, stage.output()).toBe(0);
    const [pretrained] = await lineage(cluster.env.store, completed.checkpoint);
    expect(pretrained?.manifest).toMatchObject({ stage: "pretrain", implementation: "baton-gpt-pretrain" });

    // the same built command exports the committed checkpoint, straight from the store, for serving
    const serving = join(cluster.workDir, "serving");
    const exported = await promisify(execFile)(
      process.execPath,
      [join(app, "dist", "baton.mjs"), "export", "onnx", completed.checkpoint.uri, "--out", serving],
      { env: { PATH: process.env.PATH ?? "", ...cluster.processEnv } },
    );
    expect(exported.stdout).toContain(`${serving}/onnx/model.onnx`);
    for (const f of [
      "onnx/model.onnx",
      "config.json",
      "generation_config.json",
      "tokenizer.json",
      "tokenizer_config.json",
    ])
      expect(existsSync(join(serving, f)), f).toBe(true);
  });

  it("on SIGTERM snapshots at a step boundary, hands the event back, and exits", { timeout: 180_000 }, async () => {
    const long = {
      ...recipe,
      steps: recipe.steps.map((s) => ({
        ...s,
        config: {
          ...s.config,
          train: { ...(s.config.train as object), steps: 5000, evalEvery: 5000, snapshotEvery: 5 },
        },
      })),
    };
    await startRun(cluster.env.bus, { runId: "deployed-term", recipe: long });
    const training = new Promise<number>((resolve) => {
      void cluster.env.bus.watch(
        subjects.stageProgress("pretrain"),
        (m) => {
          const e = decodeEvent(m.data, m.subject);
          if (e.type === "dev.baton.stage.progress" && e.data.runId === "deployed-term" && e.data.trainStep >= 6)
            resolve(e.data.trainStep);
        },
        { from: "new" },
      );
    });
    const stage = start(["pretrain", "--once", "--idle-exit-s", "150", "--threads", "1"]);
    const reached = await Promise.race([
      training,
      stage.exited.then(() => Promise.reject(new Error(`the stage exited before training: ${stage.output()}`))),
    ]);
    stage.child.kill("SIGTERM"); // to tini, PID 1 in the image: it forwards the signal to node
    expect(await stage.exited, stage.output()).toBe(0);
    expect(stage.output()).toContain("interrupted");

    const snapshots = await cluster.env.store.list(keys.resume("deployed-term", 0));
    const steps = new Set(snapshots.map((key) => Number(/_resume\/(\d{12})\//.exec(key)?.[1])));
    expect(Math.max(...steps), `snapshots ${[...steps].join(", ")}`).toBeGreaterThanOrEqual(reached - (reached % 5));
    expect(await cluster.env.ledger.get("deployed-term", 0)).toBeNull();
    // the event is back on the step's consumer, for the next pod to resume from that snapshot
    const again = await cluster.env.bus.pull("pretrain", { expiresMs: 5_000 });
    expect(again?.deliveryCount).toBe(2);
    expect(decodeEvent(again!.data, "test").data).toMatchObject({ runId: "deployed-term" });
    again!.term();
  });
});
