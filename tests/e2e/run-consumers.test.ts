// `baton run` on a cluster creates the durable consumer of every step before it publishes the run's
// first event. KEDA's nats-jetstream scaler reads a missing consumer's lag as the stream's last
// sequence; with every consumer there, only the first step has work and every later step reads 0.

import { copyFile } from "node:fs/promises";
import { join } from "node:path";
import type { NatsBus } from "@baton/bus";
import { durableName, STREAM, subjects } from "@baton/contracts";
import { generateDemoData } from "@baton/data";
import { jetstreamManager } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Cluster, cli, RECIPES, startCluster } from "./cluster.ts";

describe("baton run on a cluster", () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster();
  });
  afterAll(async () => {
    await cluster?.close();
  });

  it("creates every step's consumer before publishing: the first step has lag 1, the others 0", {
    timeout: 120_000,
  }, async () => {
    const dir = join(cluster.workDir, "recipe");
    await generateDemoData(dir, { seed: 2, scale: 0.2 });
    const file = join(dir, "two-finetunes.yaml");
    await copyFile(join(RECIPES, "two-finetunes.yaml"), file);
    const steps = ["pretrain", "finetune", "finetune-again"];

    const bus = cluster.env.bus as NatsBus;
    const jsm = await jetstreamManager(bus.nc);
    for (const step of steps)
      await expect(jsm.consumers.info(STREAM, durableName(step))).rejects.toThrow(/consumer not found/);

    const run = await cli(
      ["run", file, "--run-id", "consumers-1", "--impl", "finetune-again=finetune-last-layers"],
      cluster.processEnv,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('published dev.baton.checkpoint.ready for step "pretrain"');

    const lag = async (step: string) => {
      const info = await jsm.consumers.info(STREAM, durableName(step));
      expect(info.config.filter_subject, step).toBe(subjects.checkpointReady(step));
      return info.num_pending + info.num_ack_pending;
    };
    expect(await Promise.all(steps.map(lag))).toEqual([1, 0, 0]);
    // a second run of the same recipe leaves the consumers as they are and queues one more event
    const again = await cli(["run", file, "--run-id", "consumers-2"], cluster.processEnv);
    expect(again.code, again.stderr).toBe(0);
    expect(await Promise.all(steps.map(lag))).toEqual([2, 0, 0]);
  });
});
