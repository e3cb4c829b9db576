// kill -9 of a stage process in the middle of its work: JetStream redelivers the event after ack_wait,
// another worker resumes from the newest snapshot, and the final checkpoint is byte-identical to the
// one an uninterrupted run makes.

import { awaitRun, readManifest } from "@baton/runner";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  getJson,
  publishRun,
  RELAY_TEST_TIMEOUT_MS,
  type Relay,
  type StageProcess,
  spawnStage,
  spawnStages,
  startRelay,
  tensorRecipe,
  waitFor,
} from "./harness.ts";

// 12 train steps of 150 ms with a snapshot every 3: killed after step 7, the newest snapshot is step 6.
const recipe = tensorRecipe("crash", [
  { name: "warm", config: { steps: 2 } },
  { name: "grind", config: { steps: 12, delayMs: 150, snapshotEvery: 3, scale: 1.01, shift: 0.3 } },
]);

describe("a stage process killed with SIGKILL mid-step", () => {
  let relay: Relay;
  const live: StageProcess[] = [];
  beforeAll(async () => {
    relay = await startRelay();
    live.push(...(await spawnStages(relay, ["warm", "grind"])));
  });
  afterAll(async () => {
    await Promise.all(live.map((s) => s.stop()));
    await relay?.close();
  });

  it(
    "is redelivered, resumed from the newest snapshot, and ends byte-identical to an uninterrupted run",
    async () => {
      const clean = `clean-${Date.now().toString(36)}`;
      const cleanDone = awaitRun(relay.env.bus, clean, { timeoutMs: 90_000 });
      await publishRun(relay, recipe, clean);
      const cleanManifest = await readManifest(relay.env.store, (await cleanDone).checkpoint);
      expect(cleanManifest.metrics?.["resumedFrom"]).toBe(0);

      const crashed = `crashed-${Date.now().toString(36)}`;
      const crashedDone = awaitRun(relay.env.bus, crashed, { timeoutMs: 90_000 });
      await publishRun(relay, recipe, crashed);
      const victim = live[1]!;
      await waitFor(
        "grind to pass train step 7 of the second run",
        async () => {
          const s = await getJson<{ runId?: string; progress?: { done: number } }>(victim, "/status");
          return s.runId === crashed && (s.progress?.done ?? 0) >= 7 ? true : undefined;
        },
        60_000,
        20,
      );
      victim.kill("SIGKILL");
      expect((await victim.exited).signal).toBe("SIGKILL");
      live.splice(1, 1, await spawnStage(relay, "grind"));

      const manifest = await readManifest(relay.env.store, (await crashedDone).checkpoint);
      // Resumed from the newest snapshot the killed worker saved (6, or 9 if it got that far), not from scratch.
      expect([6, 9]).toContain(manifest.metrics?.["resumedFrom"]);
      expect(manifest.files).toEqual(cleanManifest.files);
      expect(manifest.parent).not.toEqual(cleanManifest.parent); // a different run, truly: its own warm step
    },
    RELAY_TEST_TIMEOUT_MS,
  );
});
