// A trigger that died after freezing a window (run id and checkpoint fixed) but before publishing
// the run's first event: the next trigger finishes that window, publishing the same run once, and
// the window's updates stay taken. Over a real nats-server; the trigger runs in this process.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { KvState } from "@baton/bus";
import { type BatonEvent, createEvent, decodeEvent, KV_BUCKETS, subjects } from "@baton/contracts";
import { silentLogger } from "@baton/runner";
import { loadRules, serveTrigger, type TriggerService, updateId } from "@baton/trigger";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { type Cluster, startCluster } from "../e2e/cluster.ts";

const sha = (c: string) => c.repeat(64);
const RANKED = { uri: "s3://baton/checkpoints/base/1-instruct/1-cc/", manifestSha256: sha("c") };

describe("a trigger restarted after freezing a window", () => {
  let cluster: Cluster;
  let trigger: TriggerService | undefined;
  const firsts: BatonEvent<"dev.baton.checkpoint.ready">[] = [];

  beforeAll(async () => {
    cluster = await startCluster();
    await cluster.env.bus.watch("baton.checkpoint.ready.*", (m) => {
      const e = decodeEvent(m.data, m.subject);
      if (e.type === "dev.baton.checkpoint.ready") firsts.push(e);
    });
  });
  afterAll(async () => {
    await trigger?.stop();
    await cluster?.close();
  });

  it("publishes the frozen run once and keeps its updates taken", { timeout: 60_000 }, async () => {
    const recipe = {
      name: "chat",
      steps: [
        {
          name: "instruct",
          stage: "instruct",
          config: {},
          data: ["s3://baton/base/instruct.train.jsonl", "s3://baton/base/instruct.test.jsonl"],
        },
      ],
    };
    await writeFile(join(cluster.workDir, "chat.yaml"), stringify(recipe));
    const rulesFile = join(cluster.workDir, "rules.yaml");
    await writeFile(
      rulesFile,
      stringify({
        window: "500ms",
        rules: [
          {
            name: "rankings",
            on: { feedback: {} },
            recipe: "chat.yaml",
            from: "instruct",
            checkpoint: "event",
            data: { instruct: "instruct\\.train" },
          },
        ],
      }),
    );
    const rules = await loadRules(rulesFile);

    // what the dead trigger left: a window frozen with its run id and start checkpoint
    const item = { uri: "s3://baton/feedback/export-9.jsonl", sha256: sha("d") };
    const kv = await KvState.open<unknown>(cluster.env.bus, KV_BUCKETS.trigger);
    const windowKey = "window.rankings.frozen";
    await kv.create(windowKey, {
      rule: "rankings",
      openedAt: Date.now() - 5_000,
      lastAt: Date.now() - 5_000,
      items: [item],
      ids: [updateId(item)],
      checkpoint: RANKED,
      state: "closing",
      runId: "rankings-frozen-1",
      start: RANKED,
    });

    const started: string[] = [];
    const logged: string[] = [];
    const logger = { ...silentLogger, info: (msg: string) => void logged.push(msg) };
    trigger = await serveTrigger({
      bus: cluster.env.bus,
      ledger: cluster.env.ledger,
      rules,
      logger,
      tickMs: 100,
      onRunStarted: (r) => started.push(r.runId),
    });
    await expect.poll(() => started, { timeout: 20_000 }).toEqual(["rankings-frozen-1"]);
    const run = firsts.find((e) => e.data.runId === "rankings-frozen-1")!;
    expect(run.data.checkpoint).toEqual(RANKED);
    expect(run.data.pipeline[0]!.data).toEqual([item.uri, "s3://baton/base/instruct.test.jsonl"]);
    expect(await kv.get(windowKey)).toBeNull();
    expect(await kv.keys(`seen.rankings.${updateId(item)}`)).toHaveLength(1);

    // the same export announced again is already taken: no second run
    await cluster.env.bus.publish(
      subjects.feedbackReady(),
      createEvent({
        type: "dev.baton.feedback.ready",
        source: "baton://tests",
        data: { uri: item.uri, sha256: item.sha256, rankings: 9, checkpoint: RANKED },
      }),
    );
    await expect.poll(() => logged.includes("already taken; not started again"), { timeout: 20_000 }).toBe(true);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(started).toEqual(["rankings-frozen-1"]);
    expect(firsts.filter((e) => e.data.runId.startsWith("rankings-"))).toHaveLength(1);
  });
});
