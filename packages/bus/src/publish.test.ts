import { createEvent, EVENT_TYPES } from "@baton/contracts";
import { exampleData } from "@baton/contracts/testing";
import { describe, expect, it } from "vitest";
import { MemoryBus } from "./memory.ts";
import { publishEvent, subjectOf } from "./publish.ts";

describe("subjectOf / publishEvent", () => {
  it("puts every event type on its subject", () => {
    const subjects = EVENT_TYPES.map((type) => subjectOf(createEvent({ type, data: exampleData[type], source: "t" })));
    expect(subjects).toEqual([
      "baton.checkpoint.ready.sft", // cursor 1 of the example pipeline
      "baton.stage.started.pretrain",
      "baton.stage.progress.pretrain",
      "baton.stage.failed.pretrain",
      "baton.run.completed",
      "baton.dataset.updated.chat",
      "baton.feedback.ready",
    ]);
  });

  it("publishes a validated event with a deterministic id, deduped on repeat", async () => {
    const bus = new MemoryBus();
    const e = {
      type: "dev.baton.dataset.updated" as const,
      data: exampleData["dev.baton.dataset.updated"],
      source: "baton://cli",
      id: "chat:sha-c",
    };
    const first = await publishEvent(bus, e, {
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    });
    expect(first).toMatchObject({ subject: "baton.dataset.updated.chat", duplicate: false });
    expect((await publishEvent(bus, e)).duplicate).toBe(true);
    await expect(publishEvent(bus, { ...e, data: { ...e.data, uri: "nope" } })).rejects.toThrow(/at \/data\/uri/);
    await bus.close();
  });
});
