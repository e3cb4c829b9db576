// Bad input never blocks a step: a malformed event, a schema-invalid event, and events that point at a
// missing or a corrupted checkpoint are dead-lettered with a reason a person can act on, while a good
// run on the same step, published among them, completes.

import type { Observed } from "@baton/bus";
import { type CheckpointRef, createEvent, HEADERS, msgId, subjects } from "@baton/contracts";
import { awaitRun } from "@baton/runner";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  firstEvent,
  publishRun,
  RELAY_TEST_TIMEOUT_MS,
  type Relay,
  type StageProcess,
  spawnStages,
  startRelay,
  tensorRecipe,
  waitFor,
} from "./harness.ts";

const recipe = tensorRecipe("sturdy", [{ name: "maker" }, { name: "sturdy", config: { steps: 2 } }]);

describe("bad events on a step", () => {
  let relay: Relay;
  const live: StageProcess[] = [];
  const dead: Observed[] = [];
  let unwatch: () => Promise<void>;
  beforeAll(async () => {
    relay = await startRelay();
    live.push(...(await spawnStages(relay, ["maker", "sturdy"])));
    unwatch = await relay.env.bus.watch(subjects.deadLetter("sturdy"), (m) => dead.push(m), { from: "all" });
  });
  afterAll(async () => {
    await unwatch?.();
    await Promise.all(live.map((s) => s.stop()));
    await relay?.close();
  });

  /** The dead letter whose event id header is `id` (or whose body is `raw`), once it arrives. */
  const deadLetter = (what: string, match: (m: Observed) => boolean) =>
    waitFor(`a dead letter for ${what}`, () => dead.find(match), 60_000);
  const reason = (m: Observed) => m.headers[HEADERS.deadLetterReason] ?? "";

  it(
    "dead-letters each with an actionable reason, and a good run among them completes",
    async () => {
      // A real checkpoint to point at (and to corrupt): the first step of a good run.
      const good = `good-${Date.now().toString(36)}`;
      const goodDone = awaitRun(relay.env.bus, good, { timeoutMs: 90_000 });
      await publishRun(relay, recipe, good);
      const makerRef = await waitFor(
        "the maker step's checkpoint",
        async () => (await relay.env.ledger.get(good, 0))?.checkpoint,
        60_000,
      );
      await goodDone;

      const subject = subjects.checkpointReady("sturdy");
      const raw = new TextEncoder().encode('{"specversion":"1.0", "id": "half-an-ev');
      await relay.env.bus.publishRaw(subject, raw, { msgId: "malformed-1" });

      const invalid = { ...firstEvent(recipe, "invalid-run"), id: "invalid-1" } as Record<string, unknown>;
      invalid["data"] = { ...(invalid["data"] as object), cursor: "one" };
      await relay.env.bus.publishRaw(subject, new TextEncoder().encode(JSON.stringify(invalid)), {
        msgId: "invalid-1",
      });

      const pointing = (runId: string, checkpoint: CheckpointRef) =>
        createEvent({
          type: "dev.baton.checkpoint.ready",
          source: "tests/relay",
          id: msgId(runId, 1, "dev.baton.checkpoint.ready"),
          data: { runId, recipe: recipe.name, seed: 7, cursor: 1, pipeline: recipe.steps, checkpoint },
        });
      const missing = pointing("missing-run", {
        uri: makerRef.uri.replace(good, "no-such-run"),
        manifestSha256: makerRef.manifestSha256,
      });
      await relay.env.bus.publish(subject, missing, { msgId: missing.id });

      // Overwrite the maker's committed model.safetensors (its manifest still names the old digest)
      // and point a new run at it.
      const modelKey = `${relay.env.store.keyOf(makerRef.uri)}model.safetensors`;
      await relay.env.store.putBytes(modelKey, new TextEncoder().encode("these are not the weights"));
      const corrupt = pointing("corrupt-run", makerRef);
      await relay.env.bus.publish(subject, corrupt, { msgId: corrupt.id });

      // A good run published after the bad events, through the same step: unaffected.
      const after = `after-${Date.now().toString(36)}`;
      const afterDone = awaitRun(relay.env.bus, after, { timeoutMs: 90_000 });
      await publishRun(relay, recipe, after);

      const malformedDl = await deadLetter("the malformed event", (m) => Buffer.from(m.data).equals(Buffer.from(raw)));
      expect(malformedDl.headers[HEADERS.deadLetterCode]).toBe("EVENT_MALFORMED");
      expect(reason(malformedDl)).toMatch(/JSON/);

      const invalidDl = await deadLetter(
        "the schema-invalid event",
        (m) => m.headers[HEADERS.deadLetterEventId] === "invalid-1",
      );
      expect(invalidDl.headers[HEADERS.deadLetterCode]).toBe("EVENT_INVALID");
      expect(reason(invalidDl)).toContain("/data/cursor");

      const missingDl = await deadLetter(
        "the event pointing at a missing checkpoint",
        (m) => m.headers[HEADERS.deadLetterEventId] === missing.id,
      );
      expect(missingDl.headers[HEADERS.deadLetterCode]).toBe("CHECKPOINT_MISSING");
      expect(reason(missingDl)).toContain("no-such-run");

      const corruptDl = await deadLetter(
        "the event pointing at a corrupted checkpoint",
        (m) => m.headers[HEADERS.deadLetterEventId] === corrupt.id,
      );
      expect(corruptDl.headers[HEADERS.deadLetterCode]).toBe("CHECKPOINT_CORRUPT");
      expect(reason(corruptDl)).toContain("model.safetensors");

      const afterRun = await afterDone;
      expect(afterRun.runId).toBe(after);
      expect(await relay.env.ledger.get("corrupt-run", 1)).toBeNull();
      expect(await relay.env.ledger.get("missing-run", 1)).toBeNull();
    },
    RELAY_TEST_TIMEOUT_MS,
  );
});
