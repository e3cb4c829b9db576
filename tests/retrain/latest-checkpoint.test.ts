// "The newest checkpoint of step S of pipeline P" over a real nats-server and S3 server: the relay
// moves the pointer as each step commits, keyed by the recipe's name and the step's, so two pipelines
// with the same step names keep apart; latestCheckpoint() resolves it and `baton status` shows it.
// A run then starts from such a pointer: `baton run --from <step> --checkpoint latest`.
// The relay moves the pointer just after handing the run on (so the next stage does not wait for it):
// a reader polls for it instead of expecting it at the instant run.completed is published.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Recipe } from "@baton/contracts";
import {
  awaitRun,
  latestCheckpoint,
  lineage,
  type StageService,
  serveStage,
  silentLogger,
  startRun,
} from "@baton/runner";
import { countingStage } from "@baton/runner/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { type Cluster, cli, startCluster } from "../e2e/cluster.ts";

// The steps name data that exists (beforeAll puts it in the store): `baton run` checks the whole
// recipe, data included, before it publishes; the counting stages themselves read none of it.
const DATA = {
  pre: ["datasets/retrain/general.train.jsonl"],
  post: ["datasets/retrain/tasks.train.jsonl", "datasets/retrain/tasks.test.jsonl"],
};
let dataUri = (key: string): string => key;
const recipe = (name: string): Recipe => ({
  name,
  steps: [
    { name: "pre", stage: "pretrain", config: {}, data: DATA.pre.map((k) => dataUri(k)) },
    { name: "post", stage: "instruct", config: {}, data: DATA.post.map((k) => dataUri(k)) },
  ],
});

describe("latest checkpoint of a step of a pipeline", () => {
  let cluster: Cluster;
  let services: StageService[] = [];

  beforeAll(async () => {
    cluster = await startCluster();
    const store = cluster.env.store;
    await store.putBytes(DATA.pre[0]!, new TextEncoder().encode(`${JSON.stringify({ text: "a small corpus" })}\n`));
    for (const key of DATA.post)
      await store.putBytes(
        key,
        new TextEncoder().encode(`${JSON.stringify({ instruction: "say hi", input: "", output: "hi" })}\n`),
      );
    dataUri = (key) => store.uri(key);
    const serve = (step: string, stage: string) =>
      serveStage({
        ...countingStage({ stage, add: 1, steps: 2 }),
        step,
        ...cluster.env,
        workRoot: join(cluster.workDir, "work"),
        logger: silentLogger,
        pullExpiresMs: 1_000,
      });
    services = [serve("pre", "pretrain"), serve("post", "instruct")];
  });
  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop()));
    await cluster?.close();
  });

  it("follows each commit, per pipeline; latestCheckpoint() and baton status resolve it", {
    timeout: 120_000,
  }, async () => {
    const bus = cluster.env.bus;
    const ledger = cluster.env.ledger;
    await expect(latestCheckpoint(ledger, "legal", "pre")).rejects.toThrow(
      /no checkpoint of step "pre" of pipeline "legal" has been committed yet/,
    );

    await startRun(bus, { runId: "legal-1", recipe: recipe("legal") });
    const first = await awaitRun(bus, "legal-1", { timeoutMs: 60_000 });
    await startRun(bus, { runId: "medical-1", recipe: recipe("medical") });
    const medical = await awaitRun(bus, "medical-1", { timeoutMs: 60_000 });
    const newest = (pipeline: string, step: string) =>
      latestCheckpoint(ledger, pipeline, step).then(
        (c) => c.uri,
        () => null,
      );
    await expect.poll(() => newest("legal", "post")).toBe(first.checkpoint.uri);

    await startRun(bus, { runId: "legal-2", recipe: recipe("legal") });
    const second = await awaitRun(bus, "legal-2", { timeoutMs: 60_000 });
    await expect.poll(() => newest("legal", "post")).toBe(second.checkpoint.uri);
    await expect.poll(() => newest("medical", "post")).toBe(medical.checkpoint.uri);
    const pre = await ledger.latest("legal", "pre");
    expect(pre).toMatchObject({ pipeline: "legal", step: "pre", runId: "legal-2" });
    expect(pre!.checkpoint.uri).toContain("checkpoints/legal-2/0-pre/");

    const all = await cli(["status"], cluster.processEnv);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toContain(`legal / pre            ${pre!.checkpoint.uri} (run legal-2`);
    expect(all.stdout).toContain(`medical / post           ${medical.checkpoint.uri} (run medical-1`);

    const one = await cli(["status", "legal-1", "--json"], cluster.processEnv);
    expect(one.code, one.stderr).toBe(0);
    const parsed = JSON.parse(one.stdout) as {
      recipe: string;
      latest: { pipeline: string; step: string; runId: string }[];
    };
    expect(parsed.recipe).toBe("legal");
    expect(parsed.latest.map((p) => [p.pipeline, p.step, p.runId])).toEqual([
      ["legal", "post", "legal-2"],
      ["legal", "pre", "legal-2"],
    ]);
  });

  it("baton run --from <step> --checkpoint latest publishes the recipe's tail on the newest checkpoint of the step before", {
    timeout: 120_000,
  }, async () => {
    const bus = cluster.env.bus;
    const file = join(cluster.workDir, "legal.yaml");
    await writeFile(file, stringify(recipe("legal")));
    const pre = (await cluster.env.ledger.latest("legal", "pre"))!.checkpoint;

    const started = await cli(
      ["run", file, "--run-id", "legal-tail", "--from", "post", "--checkpoint", "latest"],
      cluster.processEnv,
    );
    expect(started.code, started.stderr).toBe(0);
    expect(started.stdout).toContain(`published dev.baton.checkpoint.ready for step "post" from ${pre.uri}`);
    const completed = await awaitRun(bus, "legal-tail", { timeoutMs: 60_000 });
    expect(completed.pipeline.map((s) => s.name)).toEqual(["post"]);
    const [post, parent] = await lineage(cluster.env.store, completed.checkpoint);
    expect(post!.manifest).toMatchObject({ runId: "legal-tail", step: "post", cursor: 0 });
    expect(parent!.uri).toBe(pre.uri);

    // a checkpoint given by URI is read and its manifest digest checked into the ref
    const byUri = await cli(
      ["run", file, "--run-id", "legal-uri", "--from", "post", "--checkpoint", pre.uri.slice(0, -1)],
      cluster.processEnv,
    );
    expect(byUri.code, byUri.stderr).toBe(0);
    const again = await awaitRun(bus, "legal-uri", { timeoutMs: 60_000 });
    expect((await lineage(cluster.env.store, again.checkpoint))[1]!.uri).toBe(pre.uri);

    const unknown = await cli(["run", file, "--from", "reward", "--checkpoint", "latest"], cluster.processEnv);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(`recipe "legal" has no step "reward" to start from; its steps are pre, post`);
    const first = await cli(["run", file, "--from", "pre", "--checkpoint", "latest"], cluster.processEnv);
    expect(first.code).toBe(2);
    expect(first.stderr).toContain(`"pre" is the recipe's first step`);
  });
});
