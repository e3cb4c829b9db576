// Swap: another implementation of the finetune stage (only the last block and the final norm train)
// is deployed on the finetune step's subject. The recipe, the events, the other service and the
// store are untouched; the run completes and the lineage records which implementation ran.

import { mkdtemp } from "node:fs/promises";
import { join } from "node:path";
import { generateDemoData } from "@baton/data";
import { awaitRun, lineage, openCheckpoint, startRun } from "@baton/runner";
import { loadModel } from "@baton/stage-lm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Cluster, cli, recipeWith, type ServiceProcess, serve, startCluster, uploadDatasets } from "./cluster.ts";

describe("swapping the finetune implementation", () => {
  let cluster: Cluster;
  let services: ServiceProcess[] = [];

  beforeAll(async () => {
    cluster = await startCluster();
  });
  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop()));
    await cluster?.close();
  });

  it("runs finetune-last-layers on the finetune step with nothing else changed", { timeout: 180_000 }, async () => {
    const dataDir = join(cluster.workDir, "data");
    await generateDemoData(dataDir, { seed: 2, scale: 0.2 });
    const recipe = await recipeWith("tiny.yaml", await uploadDatasets(cluster.env, dataDir, "tiny"));
    for (const step of ["pretrain", "finetune"]) await cluster.env.bus.ensureConsumer(step);
    // the finetune service runs as a KEDA ScaledJob pod would: one event, then exit
    services = [
      serve(cluster, "pretrain", "pretrain"),
      serve(cluster, "finetune-last-layers", "finetune", ["--once", "--idle-exit-s", "150"]),
    ];
    const done = awaitRun(cluster.env.bus, "e2e-swap", { timeoutMs: 170_000 });
    await startRun(cluster.env.bus, { runId: "e2e-swap", recipe });
    const completed = await done.catch((err: Error) => {
      throw new Error(`${err.message}\n${services.map((s) => s.output.join("")).join("\n---\n")}`);
    });

    expect(await services[1]!.exited).toBe(0);

    const [finetuned, pretrained] = await lineage(cluster.env.store, completed.checkpoint);
    expect(finetuned?.manifest.stage).toBe("finetune");
    expect(finetuned?.manifest.implementation).toBe("baton-gpt-finetune-last-layers");
    expect(pretrained?.manifest.implementation).toBe("baton-gpt-pretrain");
    expect(finetuned?.manifest.metrics.exact_match).toBeGreaterThanOrEqual(0);

    const local = await mkdtemp(join(cluster.workDir, "open-"));
    const after = await loadModel(
      (await openCheckpoint(cluster.env.store, completed.checkpoint, join(local, "after"))).dir,
      "finetuned",
    );
    const before = await loadModel(
      (await openCheckpoint(cluster.env.store, finetuned!.manifest.parent!, join(local, "before"))).dir,
      "pretrained",
    );
    expect(after.weights.get("transformer.wte.weight")).toEqual(before.weights.get("transformer.wte.weight"));
    expect(after.weights.get("transformer.h.0.mlp.c_fc.weight")).toEqual(
      before.weights.get("transformer.h.0.mlp.c_fc.weight"),
    );
    expect(after.weights.get("transformer.h.1.mlp.c_fc.weight")).not.toEqual(
      before.weights.get("transformer.h.1.mlp.c_fc.weight"),
    );

    // the pretrain service is still up: its HTTP face counts the step it finished
    const face = services[0]!.http();
    expect(face).toBeDefined();
    expect((await fetch(`${face}/healthz`)).status).toBe(200);
    expect((await (await fetch(`${face}/status`)).json()) as { stage: string; stepsCompleted: number }).toMatchObject({
      stage: "pretrain",
      stepsCompleted: 1,
    });

    // the operator's view of the same run, from the cluster alone
    const status = await cli(["status", "e2e-swap"], cluster.processEnv);
    expect(status.stdout).toContain(`run e2e-swap: completed, last checkpoint ${completed.checkpoint.uri}`);
    expect(status.stdout).toMatch(/1\. pretrain\s+pretrain\s+committed/);
    const hops = await cli(["lineage", completed.checkpoint.uri], cluster.processEnv);
    expect(hops.stdout).toContain("finetune (finetune, baton-gpt-finetune-last-layers 0.1.0) run e2e-swap cursor 1");
    expect(hops.stdout).toContain("2 hop(s) back to random init");
  });
});
