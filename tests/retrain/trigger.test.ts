// The retraining trigger over a real nats-server and S3 server, as its own process (`baton trigger
// serve`), without stage services: what is checked is which runs it starts (the first
// checkpoint.ready of each), how often, and with which data and checkpoint. Announcements come as
// `baton data push` makes them (pushDataset, the function behind the command), as MinIO publishes its
// notification records, and as feedback.ready.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type BatonEvent, createEvent, decodeEvent, encodeEvent, HEADERS, subjects } from "@baton/contracts";
import { pushDataset } from "@baton/runner";
import { DEAD_LETTER_SUBJECT, minioNotification } from "@baton/trigger";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { type Cluster, cli, startCluster } from "../e2e/cluster.ts";
import { startTrigger, type TriggerProcess } from "./trigger-process.ts";

const WINDOW_MS = 2_000;
const sha = (c: string) => c.repeat(64);
const PRETRAINED = { uri: "s3://baton/checkpoints/base/0-pretrain/1-aa/", manifestSha256: sha("a") };
const RANKED = { uri: "s3://baton/checkpoints/base/2-instruct/1-bb/", manifestSha256: sha("b") };

const recipe = {
  name: "legal",
  steps: [
    {
      name: "pretrain",
      stage: "pretrain",
      config: {},
      data: ["s3://baton/base/general.train.jsonl", "s3://baton/base/general.val.jsonl"],
    },
    {
      name: "cpt",
      stage: "cpt",
      config: {},
      data: [
        "s3://baton/base/domain.train.jsonl",
        "s3://baton/base/domain.val.jsonl",
        "s3://baton/base/general.train.jsonl",
        "s3://baton/base/general.val.jsonl",
      ],
    },
    {
      name: "instruct",
      stage: "instruct",
      config: {},
      data: ["s3://baton/base/instruct.train.jsonl", "s3://baton/base/instruct.test.jsonl"],
    },
  ],
};
const onData = (name: string, prefix: string) => ({
  name,
  on: { dataset: { prefix } },
  recipe: "legal.yaml",
  from: "cpt",
  checkpoint: { latest: "pretrain" },
  data: { cpt: "domain" },
});
const rules = {
  window: `${WINDOW_MS}ms`,
  bucketNotifications: { subject: subjects.bucketNotifications() },
  rules: [
    onData("dedupe", "s3://baton/datasets/dedupe/"),
    onData("bucket", "s3://baton/incoming/"),
    onData("burst", "s3://baton/datasets/burst/"),
    onData("killed", "s3://baton/datasets/killed/"),
    {
      name: "rankings",
      on: { feedback: { prefix: "s3://baton/feedback/" } },
      recipe: "legal.yaml",
      from: "instruct",
      checkpoint: "event",
      data: { instruct: "instruct\\.train" },
    },
  ],
};

describe("baton trigger serve", () => {
  let cluster: Cluster;
  let trigger: TriggerProcess;
  let rulesFile: string;
  const firsts: BatonEvent<"dev.baton.checkpoint.ready">[] = [];
  const deadLetters: { data: string; headers: Record<string, string> }[] = [];
  const runsOf = (rule: string) => firsts.filter((e) => e.data.runId.startsWith(`${rule}-`));
  /** Waits for `n` runs of a rule, then for more than a window longer: still `n`. */
  const exactlyRuns = async (rule: string, n: number) => {
    await expect.poll(() => runsOf(rule).length, { timeout: 30_000, interval: 100 }).toBe(n);
    await new Promise((r) => setTimeout(r, WINDOW_MS + 1_500));
    expect(runsOf(rule).map((e) => e.data.runId)).toHaveLength(n);
    return runsOf(rule);
  };
  const file = async (name: string, text: string) => {
    const path = join(cluster.workDir, name);
    await writeFile(path, text);
    return path;
  };

  beforeAll(async () => {
    cluster = await startCluster();
    await file("legal.yaml", stringify(recipe));
    rulesFile = await file("rules.yaml", stringify(rules));
    await cluster.env.ledger.setLatest({
      pipeline: "legal",
      step: "pretrain",
      checkpoint: PRETRAINED,
      runId: "base",
      committedAt: new Date().toISOString(),
    });
    await cluster.env.bus.watch("baton.checkpoint.ready.*", (m) => {
      const e = decodeEvent(m.data, m.subject);
      if (e.type === "dev.baton.checkpoint.ready" && e.source.startsWith("baton://trigger/")) firsts.push(e);
    });
    await cluster.env.bus.watch(DEAD_LETTER_SUBJECT, (m) =>
      deadLetters.push({ data: new TextDecoder().decode(m.data), headers: m.headers }),
    );
    trigger = startTrigger(cluster, rulesFile);
    await trigger.waitFor("trigger serving");
  });
  afterAll(async () => {
    await trigger?.stop();
    await cluster?.close();
  });

  it("the same dataset.updated delivered 20 times starts one run", { timeout: 90_000 }, async () => {
    const store = cluster.env.store;
    const { event } = await pushDataset({
      store,
      bus: cluster.env.bus,
      path: await file("domain.train.jsonl", '{"text":"res judicata"}\n'),
      uri: "s3://baton/datasets/dedupe/",
    });
    // 19 more deliveries of the very same event: distinct stream messages (another Nats-Msg-Id each)
    for (let i = 1; i < 20; i++)
      await cluster.env.bus.publishRaw(subjects.datasetUpdated("dedupe"), encodeEvent(event), { msgId: `again-${i}` });
    const [run] = await exactlyRuns("dedupe", 1);
    expect(run!.data.pipeline.map((s) => s.name)).toEqual(["cpt", "instruct"]);
    expect(run!.data.checkpoint).toEqual(PRETRAINED);
    expect(run!.data.pipeline[0]!.data).toEqual([
      "s3://baton/datasets/dedupe/domain.train.jsonl",
      "s3://baton/base/general.train.jsonl",
      "s3://baton/base/general.val.jsonl",
    ]);
    await expect.poll(() => trigger.count("already taken; not started again")).toBeGreaterThanOrEqual(19);
  });

  it("the same MinIO notification record delivered 20 times starts one run; a new ETag of the object starts another", {
    timeout: 90_000,
  }, async () => {
    const record = new TextEncoder().encode(
      JSON.stringify(minioNotification("baton", "incoming/domain.train.jsonl", '"0b1d3f"')),
    );
    for (let i = 0; i < 20; i++)
      await cluster.env.bus.publishRaw(subjects.bucketNotifications(), record, { msgId: `minio-${i}` });
    const [run] = await exactlyRuns("bucket", 1);
    expect(run!.data.pipeline[0]!.data[0]).toBe("s3://baton/incoming/domain.train.jsonl");
    await cluster.env.bus.publishRaw(
      subjects.bucketNotifications(),
      new TextEncoder().encode(JSON.stringify(minioNotification("baton", "incoming/domain.train.jsonl", '"77aa01"'))),
    );
    await exactlyRuns("bucket", 2);
  });

  it("five pushes within the window start one run with all five", { timeout: 90_000 }, async () => {
    const uris: string[] = [];
    for (let i = 1; i <= 5; i++) {
      const pushed = await pushDataset({
        store: cluster.env.store,
        bus: cluster.env.bus,
        path: await file(`domain-${i}.jsonl`, `{"text":"part ${i}"}\n`),
        uri: "s3://baton/datasets/burst/",
      });
      uris.push(pushed.files[0]!.uri);
    }
    const [run] = await exactlyRuns("burst", 1);
    expect(run!.data.pipeline[0]!.data).toEqual([
      ...uris.sort(),
      "s3://baton/base/general.train.jsonl",
      "s3://baton/base/general.val.jsonl",
    ]);
  });

  it("a trigger killed with SIGKILL during the window and restarted starts exactly one run", {
    timeout: 120_000,
  }, async () => {
    const uris: string[] = [];
    for (const part of ["a", "b"]) {
      const pushed = await pushDataset({
        store: cluster.env.store,
        bus: cluster.env.bus,
        path: await file(`domain-${part}.jsonl`, `{"text":"${part}"}\n`),
        uri: "s3://baton/datasets/killed/",
      });
      uris.push(pushed.files[0]!.uri);
    }
    await expect.poll(() => trigger.count('"rule":"killed"'), { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
    trigger.kill("SIGKILL");
    await trigger.exited;
    expect(runsOf("killed")).toHaveLength(0); // killed inside the window: nothing started yet
    trigger = startTrigger(cluster, rulesFile);
    await trigger.waitFor("trigger serving");
    const [run] = await exactlyRuns("killed", 1);
    expect(run!.data.pipeline[0]!.data.slice(0, 2)).toEqual(uris);
  });

  it("feedback.ready starts the rule's tail from the checkpoint it names, with the export as the step's data; announced twice, one run", {
    timeout: 90_000,
  }, async () => {
    const feedback = createEvent({
      type: "dev.baton.feedback.ready",
      source: "baton://tests",
      data: { uri: "s3://baton/feedback/export-1.jsonl", sha256: sha("c"), rankings: 40, checkpoint: RANKED },
    });
    await cluster.env.bus.publish(subjects.feedbackReady(), feedback);
    await cluster.env.bus.publishRaw(subjects.feedbackReady(), encodeEvent(feedback), { msgId: "feedback-again" });
    const [run] = await exactlyRuns("rankings", 1);
    expect(run!.data.checkpoint).toEqual(RANKED);
    expect(run!.data.pipeline.map((s) => s.name)).toEqual(["instruct"]);
    expect(run!.data.pipeline[0]!.data).toEqual([
      "s3://baton/feedback/export-1.jsonl",
      "s3://baton/base/instruct.test.jsonl",
    ]);
  });

  it("bad input: an unknown prefix is logged and ignored; malformed notifications and events are dead-lettered with their reason", {
    timeout: 90_000,
  }, async () => {
    const before = firsts.length;
    await pushDataset({
      store: cluster.env.store,
      bus: cluster.env.bus,
      path: await file("stray.jsonl", '{"text":"x"}\n'),
      uri: "s3://baton/datasets/unknown/",
    });
    await trigger.waitFor("no rule takes dataset s3://baton/datasets/unknown/stray.jsonl; ignored");

    const bus = cluster.env.bus;
    await bus.publishRaw(subjects.datasetUpdated("junk"), new TextEncoder().encode("{not json"), { msgId: "junk-1" });
    await bus.publishRaw(
      subjects.bucketNotifications(),
      new TextEncoder().encode(JSON.stringify({ EventName: "s3:ObjectCreated:Put", Key: "baton/x" })),
      { msgId: "junk-2" },
    );
    const badUri = {
      ...createEvent({
        type: "dev.baton.dataset.updated",
        source: "t",
        data: { dataset: "junk", uri: "s3://baton/datasets/dedupe/x.jsonl" },
      }),
    };
    (badUri.data as { uri: string }).uri = "ftp://elsewhere/x.jsonl";
    await bus.publishRaw(subjects.datasetUpdated("junk"), encodeEvent(badUri), { msgId: "junk-3" });
    const unranked = createEvent({
      type: "dev.baton.feedback.ready",
      source: "t",
      data: { uri: "s3://baton/feedback/export-2.jsonl", rankings: 3 },
    });
    await bus.publish(subjects.feedbackReady(), unranked);

    await expect.poll(() => deadLetters.length, { timeout: 30_000 }).toBe(4);
    // three consumers work at once: find each dead letter by its original subject and reason
    const reason = (pattern: RegExp | string) =>
      deadLetters.find((d) =>
        typeof pattern === "string"
          ? (d.headers[HEADERS.deadLetterReason] ?? "").includes(pattern)
          : pattern.test(d.headers[HEADERS.deadLetterReason] ?? ""),
      );
    const junk = reason(/event at baton\.dataset\.updated\.junk#\d+ is not UTF-8 JSON/);
    expect(junk?.data).toBe("{not json"); // the original bytes, kept for whoever fixes the producer
    expect(junk?.headers[HEADERS.deadLetterSubject]).toBe(subjects.datasetUpdated("junk"));
    expect(
      reason(/bucket notification at baton\.bucket\.notifications#\d+: \/Records is missing or empty/)?.headers[
        HEADERS.deadLetterSubject
      ],
    ).toBe(subjects.bucketNotifications());
    expect(reason(/at \/data\/uri: must match/)?.headers[HEADERS.deadLetterCode]).toBe("EVENT_INVALID");
    expect(
      reason(
        `feedback.ready ${unranked.id} names no checkpoint, but rule "rankings" starts from the checkpoint whose outputs were ranked`,
      )?.headers[HEADERS.deadLetterSubject],
    ).toBe(subjects.feedbackReady());
    // the log lines come through the trigger's stdout, which may trail the dead letters on the bus
    await expect.poll(() => trigger.count('"msg":"dead-lettered"'), { timeout: 10_000 }).toBe(4);
    await new Promise((r) => setTimeout(r, WINDOW_MS + 1_000));
    expect(firsts.length).toBe(before); // none of them started anything
  });

  it("a rules file naming an unknown recipe or step is refused at start with the path of the bad key", {
    timeout: 60_000,
  }, async () => {
    const bad = await file(
      "bad-rules.yaml",
      stringify({
        rules: [
          { ...onData("x", "s3://baton/x/"), recipe: "missing.yaml" },
          { ...onData("y", "s3://baton/y/"), from: "cpt2" },
        ],
      }),
    );
    const r = await cli(["trigger", "serve", "--rules", bad], cluster.processEnv);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `${bad}: /rules/0/recipe: recipe ${join(cluster.workDir, "missing.yaml")}: cannot read it (ENOENT)`,
    );
    expect(r.stderr).toContain(`${bad}: /rules/1/from: recipe "legal" has no step "cpt2" to start from`);
  });
});
