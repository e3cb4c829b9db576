// The relay rides out its services going away: nats-server restarted in the middle of a step, and the
// S3 server unreachable for a while (retries with backoff), and the run still completes.

import type { Observed } from "@baton/bus";
import { subjects } from "@baton/contracts";
import { awaitRun, lineage } from "@baton/runner";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  getJson,
  publishRun,
  RELAY_TEST_TIMEOUT_MS,
  type Relay,
  type StageProcess,
  spawnStages,
  startRelay,
  tensorRecipe,
  waitFor,
} from "./harness.ts";

const recipe = tensorRecipe("outage", [
  { name: "steady", config: { steps: 2 } },
  { name: "long", config: { steps: 12, delayMs: 150, snapshotEvery: 4 } },
]);

describe("service outages mid-run", () => {
  let relay: Relay;
  const live: StageProcess[] = [];
  beforeAll(async () => {
    relay = await startRelay();
    if (!relay.services.localNats || !relay.services.localS3)
      throw new Error("outage tests restart the servers: run them with local servers (unset NATS_URL and S3_ENDPOINT)");
    live.push(...(await spawnStages(relay, ["steady", "long"])));
  });
  afterAll(async () => {
    await Promise.all(live.map((s) => s.stop()));
    await relay?.close();
  });

  const midStep = (runId: string, done: number) =>
    waitFor(
      `step "long" of ${runId} to pass train step ${done}`,
      async () => {
        const s = await getJson<{ runId?: string; progress?: { done: number } }>(live[1]!, "/status");
        return s.runId === runId && (s.progress?.done ?? 0) >= done ? true : undefined;
      },
      60_000,
      20,
    );

  it(
    "completes when nats-server restarts in the middle of a step",
    async () => {
      const runId = `nats-restart-${Date.now().toString(36)}`;
      const completed = awaitRun(relay.env.bus, runId, { timeoutMs: 90_000 });
      await publishRun(relay, recipe, runId);
      await midStep(runId, 3);
      await relay.services.localNats!.restart();
      const done = await completed;
      expect((await lineage(relay.env.store, done.checkpoint)).map((h) => h.manifest.step)).toEqual(["long", "steady"]);
    },
    RELAY_TEST_TIMEOUT_MS,
  );

  it(
    "retries with backoff while S3 is unreachable, then completes",
    async () => {
      const runId = `s3-outage-${Date.now().toString(36)}`;
      const failures: Observed[] = [];
      const unwatch = await relay.env.bus.watch(subjects.stageFailed("long"), (m) => failures.push(m), { from: "new" });
      const completed = awaitRun(relay.env.bus, runId, { timeoutMs: 90_000 });
      await publishRun(relay, recipe, runId);
      await midStep(runId, 2);
      await relay.services.localS3!.stop();
      // Keep S3 away until the stage has failed an attempt for it (the upload at the end of training).
      const retry = await waitFor(
        "a retryable failure while S3 is down",
        () =>
          failures
            .map(
              (m) =>
                JSON.parse(Buffer.from(m.data).toString()) as {
                  data: { runId: string; disposition: string; code: string; message: string };
                },
            )
            .find((e) => e.data.runId === runId),
        60_000,
      );
      await relay.services.localS3!.restart();
      expect(retry.data).toMatchObject({ disposition: "retry", code: "STORE_UNAVAILABLE" });
      const done = await completed;
      expect(done.runId).toBe(runId);
      await unwatch();
      const metrics = await (await fetch(`${live[1]!.http}/metrics`)).text();
      expect(metrics).toMatch(/baton_events_failed_total\{disposition="retry",stage="long"\} [1-9]/);
    },
    RELAY_TEST_TIMEOUT_MS,
  );
});
