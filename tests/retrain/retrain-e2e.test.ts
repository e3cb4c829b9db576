// Retraining end to end over a real nats-server and S3 server, every service its own OS process:
// the five stages (`baton stage serve`) and the trigger (`baton trigger serve`). A pretrain run sets
// the pipeline's latest pretrain checkpoint; `baton data push` of a new domain corpus then runs
// cpt -> instruct -> reward -> rlhf from it to run.completed, and the new checkpoints' lineage names
// the pushed files' sha256; a feedback.ready for a rankings export then runs reward -> rlhf from the
// checkpoint whose outputs were ranked, the reward model trained on the export.
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type BatonEvent, createEvent, decodeEvent, subjects } from "@baton/contracts";
import { generateDemoData } from "@baton/data";
import { awaitRun, checkpointAt, latestCheckpoint, lineage, startRun } from "@baton/runner";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import {
  type Cluster,
  cli,
  recipeWith,
  type ServiceProcess,
  serve,
  sha256File,
  startCluster,
  uploadDatasets,
} from "../e2e/cluster.ts";
import { startTrigger, type TriggerProcess } from "./trigger-process.ts";

describe("event-triggered retraining, end to end", () => {
  let cluster: Cluster;
  let services: ServiceProcess[] = [];
  let trigger: TriggerProcess | undefined;
  let dataDir: string;
  const firsts: BatonEvent<"dev.baton.checkpoint.ready">[] = [];
  const output = () => [...services.map((s) => s.output.join("")), trigger?.output.join("") ?? ""].join("\n---\n");
  const runStartedBy = async (rule: string) => {
    await expect
      .poll(() => firsts.find((e) => e.data.runId.startsWith(`${rule}-`)), { timeout: 60_000, interval: 200 })
      .toBeDefined();
    return firsts.find((e) => e.data.runId.startsWith(`${rule}-`))!;
  };

  beforeAll(async () => {
    cluster = await startCluster();
    dataDir = join(cluster.workDir, "data");
    await generateDemoData(dataDir, { seed: 3, scale: 0.2 });
    await cluster.env.bus.watch("baton.checkpoint.ready.*", (m) => {
      const e = decodeEvent(m.data, m.subject);
      if (e.type === "dev.baton.checkpoint.ready" && e.source.startsWith("baton://trigger/")) firsts.push(e);
    });
  });
  afterAll(async () => {
    await Promise.all([...services.map((s) => s.stop()), trigger?.stop()]);
    await cluster?.close();
  });

  it("a pushed domain corpus runs cpt -> instruct -> reward -> rlhf from the latest pretrain checkpoint; rankings run reward -> rlhf from the ranked checkpoint", {
    timeout: 600_000,
  }, async () => {
    const recipe = await recipeWith("tiny-retrain.yaml", await uploadDatasets(cluster.env, dataDir, "base"));
    const recipeFile = join(cluster.workDir, "retrain.yaml");
    await writeFile(recipeFile, stringify(recipe));
    const rulesFile = join(cluster.workDir, "rules.yaml");
    await writeFile(
      rulesFile,
      stringify({
        window: "1s",
        rules: [
          {
            name: "legal-corpus",
            on: { dataset: { prefix: "s3://baton/datasets/legal/" } },
            recipe: "retrain.yaml",
            from: "cpt",
            checkpoint: { latest: "pretrain" },
            data: { cpt: "domain" },
          },
          {
            name: "rankings",
            on: { feedback: {} },
            recipe: "retrain.yaml",
            from: "reward",
            checkpoint: "event",
            data: { reward: "feedback\\.train" },
          },
        ],
      }),
    );
    for (const step of ["pretrain", "cpt", "instruct", "reward", "rlhf"]) await cluster.env.bus.ensureConsumer(step);
    services = [
      serve(cluster, "pretrain", "pretrain"),
      serve(cluster, "cpt", "cpt"),
      serve(cluster, "instruct", "instruct"),
      serve(cluster, "reward", "reward"),
      serve(cluster, "rlhf-ppo", "rlhf"),
    ];
    trigger = startTrigger(cluster, rulesFile);
    await trigger.waitFor("trigger serving");

    // the pipeline's base model: a run of its pretrain step moves the latest pointer
    const base = awaitRun(cluster.env.bus, "retrain-base", { timeoutMs: 240_000 });
    await startRun(cluster.env.bus, { runId: "retrain-base", recipe: { ...recipe, steps: recipe.steps.slice(0, 1) } });
    const pretrained = (
      await base.catch((err: Error) => {
        throw new Error(`${err.message}\n${output()}`);
      })
    ).checkpoint;
    await expect
      .poll(() =>
        latestCheckpoint(cluster.env.ledger, recipe.name, "pretrain").then(
          (c) => c.uri,
          () => null,
        ),
      )
      .toBe(pretrained.uri);

    // new domain data lands: `baton data push` of a folder with its train and held-out files
    const corpus = join(cluster.workDir, "legal-v2");
    await mkdir(corpus);
    for (const f of ["domain.train.jsonl", "domain.val.jsonl"]) await copyFile(join(dataDir, f), join(corpus, f));
    const pushed = await cli(["data", "push", corpus, "s3://baton/datasets/legal/v2/"], cluster.processEnv);
    expect(pushed.code, pushed.stderr).toBe(0);

    const first = await runStartedBy("legal-corpus");
    expect(first.data.pipeline.map((s) => s.name)).toEqual(["cpt", "instruct", "reward", "rlhf"]);
    expect(first.data.checkpoint?.uri).toBe(pretrained.uri);
    const completed = await awaitRun(cluster.env.bus, first.data.runId, { timeoutMs: 300_000 }).catch((err: Error) => {
      throw new Error(`${err.message}\n${output()}`);
    });
    const hops = await lineage(cluster.env.store, completed.checkpoint);
    expect(hops.map((h) => h.manifest.step)).toEqual(["rlhf", "reward", "instruct", "cpt", "pretrain"]);
    expect(hops[4]!.uri).toBe(pretrained.uri);
    const cpt = hops[3]!.manifest;
    for (const f of ["domain.train.jsonl", "domain.val.jsonl"]) {
      expect(cpt.datasets, f).toContainEqual({
        uri: `s3://baton/datasets/legal/v2/${f}`,
        sha256: await sha256File(join(corpus, f)),
      });
    }
    expect(cpt.datasets.some((d) => d.uri.includes("/datasets/base/domain."))).toBe(false); // the old domain corpus was replaced
    expect(cpt.metrics.domain_val_loss).toBeLessThan(cpt.metrics.domain_val_loss_before as number);

    // raters ranked the instruct checkpoint's outputs: feedback.ready names it and the export
    const exportUri = cluster.env.store.uri("feedback/export-1.jsonl");
    const put = await cluster.env.store.putFile("feedback/export-1.jsonl", join(dataDir, "ranking.train.jsonl"));
    const rankedCheckpoint = await checkpointAt(cluster.env.store, hops[2]!.uri);
    await cluster.env.bus.publish(
      subjects.feedbackReady(),
      createEvent({
        type: "dev.baton.feedback.ready",
        source: "baton://tests",
        data: { uri: exportUri, sha256: put.sha256, rankings: 120, checkpoint: rankedCheckpoint },
      }),
    );
    const ranked = await runStartedBy("rankings");
    expect(ranked.data.pipeline.map((s) => s.name)).toEqual(["reward", "rlhf"]);
    expect(ranked.data.checkpoint).toEqual(rankedCheckpoint);
    const again = await awaitRun(cluster.env.bus, ranked.data.runId, { timeoutMs: 300_000 }).catch((err: Error) => {
      throw new Error(`${err.message}\n${output()}`);
    });
    const [rlhf, reward, parent] = await lineage(cluster.env.store, again.checkpoint);
    expect([rlhf!.manifest.step, reward!.manifest.step]).toEqual(["rlhf", "reward"]);
    expect(parent!.uri).toBe(rankedCheckpoint.uri);
    // the reward model learned from the export; the policy it optimised is the ranked checkpoint
    expect(reward!.manifest.datasets).toContainEqual({ uri: exportUri, sha256: put.sha256 });
    expect(reward!.manifest.datasets.some((d) => d.uri.includes("feedback.train"))).toBe(false);
    expect(rlhf!.manifest.inputs).toEqual([{ role: "policy", checkpoint: rankedCheckpoint }]);
  });
});
