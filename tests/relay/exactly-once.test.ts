// Acks are not exactly-once; commits are. The same event delivered five times, and two workers that
// both train one step (one frozen past ack_wait, so the event went to the other), give exactly one
// ledger commit, one stored checkpoint and one next event.

import type { Observed } from "@baton/bus";
import { encodeEvent, subjects } from "@baton/contracts";
import { awaitRun } from "@baton/runner";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  firstEvent,
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

/** Collects every message on `filter` (from the stream's start) until stopped. */
async function collect(relay: Relay, filter: string): Promise<{ seen: Observed[]; stop: () => Promise<void> }> {
  const seen: Observed[] = [];
  const stop = await relay.env.bus.watch(filter, (m) => seen.push(m), { from: "all" });
  return { seen, stop };
}

const DUPLICATE_WINDOW_MS = 1_500;

const runOf = (m: Observed) => (JSON.parse(Buffer.from(m.data).toString()) as { data: { runId: string } }).data.runId;

describe("exactly one commit per step", () => {
  let relay: Relay;
  const live: StageProcess[] = [];
  beforeAll(async () => {
    // A short duplicate window, so a test can publish after it has passed.
    relay = await startRelay({ BATON_DUPLICATE_WINDOW_MS: String(DUPLICATE_WINDOW_MS) });
    live.push(...(await spawnStages(relay, ["once", "after", "race", "race"])));
  });
  afterAll(async () => {
    await Promise.all(live.map((s) => s.stop()));
    await relay?.close();
  });

  it(
    "trains once when the same event arrives five times",
    async () => {
      const recipe = tensorRecipe("dupes", [{ name: "once", config: { steps: 3, delayMs: 30 } }, { name: "after" }]);
      const runId = `dupes-${Date.now().toString(36)}`;
      const next = await collect(relay, subjects.checkpointReady("after"));
      const completed = await collect(relay, subjects.runCompleted());
      const done = awaitRun(relay.env.bus, runId, { timeoutMs: 90_000 });

      // Twice with the deterministic Nats-Msg-Id (NATS drops the copy), three times as if republished
      // after the duplicate window (fresh ids): the stream holds four copies and the worker sees them all.
      const event = firstEvent(recipe, runId);
      const subject = subjects.checkpointReady("once");
      const acks = [
        await relay.env.bus.publish(subject, event, { msgId: event.id }),
        await relay.env.bus.publish(subject, event, { msgId: event.id }),
      ];
      expect(acks.map((a) => a.duplicate)).toEqual([false, true]);
      for (let i = 0; i < 3; i++)
        await relay.env.bus.publishRaw(subject, encodeEvent(event), { msgId: `${event.id}:copy-${i}` });
      await done;

      const once = live[0]!;
      await waitFor(
        "the four copies to be consumed",
        async () => {
          const metrics = await (await fetch(`${once.http}/metrics`)).text();
          const status = await getJson<{ state: string }>(once, "/status");
          return metrics.includes('baton_events_consumed_total{stage="once"} 4') && status.state === "idle"
            ? true
            : undefined;
        },
        60_000,
      );

      expect(await getJson(once, "/status")).toMatchObject({ stepsCompleted: 4 });
      const record = await relay.env.ledger.get(runId, 0);
      expect(record?.step).toBe("once");
      const attempts = new Set(
        (await relay.env.store.list(`checkpoints/${runId}/0-once/`)).map((k) => k.split("/")[3]),
      );
      expect(attempts.size).toBe(1);
      expect(next.seen.filter((m) => runOf(m) === runId)).toHaveLength(1);
      expect(completed.seen.filter((m) => runOf(m) === runId)).toHaveLength(1);
      await next.stop();
      await completed.stop();
    },
    RELAY_TEST_TIMEOUT_MS,
  );

  it(
    "emits the next event once per committed step, however long after the duplicate window a copy arrives",
    async () => {
      const recipe = tensorRecipe("late", [{ name: "once", config: { steps: 2 } }, { name: "after" }]);
      const runId = `late-${Date.now().toString(36)}`;
      const next = await collect(relay, subjects.checkpointReady("after"));
      const completed = await collect(relay, subjects.runCompleted());
      const done = awaitRun(relay.env.bus, runId, { timeoutMs: 90_000 });
      const event = firstEvent(recipe, runId);
      const subject = subjects.checkpointReady("once");
      await relay.env.bus.publish(subject, event, { msgId: event.id });
      await done;
      const consumed = async () =>
        Number(
          /baton_events_consumed_total\{stage="once"\} (\d+)/.exec(
            await (await fetch(`${live[0]!.http}/metrics`)).text(),
          )?.[1] ?? 0,
        );
      const before = await consumed();

      // Past the window the stream takes the same deterministic id again: the copies reach the worker,
      // and so would the re-emitted events (their ids no longer deduplicate either).
      await new Promise((r) => setTimeout(r, DUPLICATE_WINDOW_MS + 500));
      for (let i = 0; i < 5; i++) {
        const ack = await relay.env.bus.publish(subject, event, { msgId: event.id });
        expect(ack.duplicate).toBe(false);
        await new Promise((r) => setTimeout(r, DUPLICATE_WINDOW_MS + 100));
      }
      await waitFor(
        "the five late copies to be consumed",
        async () => ((await consumed()) >= before + 5 ? true : undefined),
        60_000,
      );
      await new Promise((r) => setTimeout(r, 500)); // anything they wrongly emitted would have arrived
      expect(next.seen.filter((m) => runOf(m) === runId)).toHaveLength(1);
      expect(completed.seen.filter((m) => runOf(m) === runId)).toHaveLength(1);
      expect(await relay.env.ledger.emitted(runId, 0)).toBe(true);
      await next.stop();
      await completed.stop();
    },
    RELAY_TEST_TIMEOUT_MS,
  );

  it(
    "lets one of two racing workers commit; the other finds the step taken and emits nothing new",
    async () => {
      const recipe = tensorRecipe("race", [{ name: "race", config: { steps: 8, delayMs: 200 } }]);
      const runId = `race-${Date.now().toString(36)}`;
      const completed = await collect(relay, subjects.runCompleted());
      const started = await collect(relay, subjects.stageStarted("race"));
      const done = awaitRun(relay.env.bus, runId, { timeoutMs: 90_000 });
      await publishRun(relay, recipe, runId);

      // Freeze whichever worker took the event: its heartbeats stop, so after ack_wait the event goes to
      // the other worker, which trains the step too. Then thaw the first: both finish, both try to commit.
      const [a, b] = [live[2]!, live[3]!];
      const first = await waitFor(
        "a worker to start training",
        async () => {
          for (const w of [a, b]) if ((await getJson<{ state: string }>(w, "/status")).state === "working") return w;
          return undefined;
        },
        60_000,
        20,
      );
      const second = first === a ? b : a;
      first.kill("SIGSTOP");
      await waitFor(
        "the other worker to take the redelivered event",
        async () => ((await getJson<{ state: string }>(second, "/status")).state === "working" ? true : undefined),
        60_000,
      );
      first.kill("SIGCONT");

      await done;
      await waitFor(
        "both workers to finish",
        async () => {
          const states = await Promise.all([a, b].map((w) => getJson<{ state: string }>(w, "/status")));
          return states.every((s) => s.state === "idle") ? true : undefined;
        },
        60_000,
      );

      expect(started.seen.filter((m) => runOf(m) === runId).length).toBeGreaterThanOrEqual(2);
      // Both finished their delivery (neither crashed nor dead-lettered it); only one commit counts.
      for (const w of [a, b]) expect(await getJson(w, "/status")).toMatchObject({ stepsCompleted: 1 });
      const record = await relay.env.ledger.get(runId, 0);
      expect(record).not.toBeNull();
      const attempts = new Set(
        (await relay.env.store.list(`checkpoints/${runId}/0-race/`)).map((k) => k.split("/")[3]),
      );
      expect(attempts.size).toBe(1); // the loser deleted its copy
      expect(completed.seen.filter((m) => runOf(m) === runId)).toHaveLength(1);
      expect(relay.env.store.keyOf(record!.checkpoint.uri)).toBe(`checkpoints/${runId}/0-race/${[...attempts][0]}/`);
      // Both trained; whichever finished second lost the ledger race and deferred to the winner's checkpoint.
      const lost = [...a.output, ...b.output]
        .flatMap((l) => (l.startsWith("{") ? [JSON.parse(l) as Record<string, unknown>] : []))
        .find((l) => l["runId"] === runId && "theirs" in l);
      expect(lost).toMatchObject({ theirs: record!.checkpoint.uri });
      expect(lost!["ours"]).not.toBe(record!.checkpoint.uri);
      await completed.stop();
      await started.stop();
    },
    RELAY_TEST_TIMEOUT_MS,
  );
});
