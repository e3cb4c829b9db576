import { BatonError, createEvent } from "@baton/contracts";
import { exampleData } from "@baton/contracts/testing";
import type { WorkInfo } from "@baton/runner";
import { describe, expect, it } from "vitest";
import { sampleValue } from "./exposition.ts";
import { monitorObserver } from "./monitor-observer.ts";
import { StageMonitor } from "./stage-monitor.ts";

const ready = createEvent({
  type: "dev.baton.checkpoint.ready",
  source: "test",
  data: exampleData["dev.baton.checkpoint.ready"],
});
const ref = exampleData["dev.baton.checkpoint.ready"].checkpoint!;
const work: WorkInfo = {
  step: "sft",
  stage: "instruct",
  subject: "baton.checkpoint.ready.sft",
  headers: {},
  deliveryCount: 1,
  receivedAt: Date.now(),
};

describe("monitorObserver", () => {
  it("turns the runner's hooks into status, progress and metrics", async () => {
    const monitor = new StageMonitor("instruct");
    const observer = monitorObserver(monitor);

    const w = observer.onWork!(work)!;
    w.onEvent!(ready);
    w.onPhase!({ phase: "download", durationMs: 3, ok: true, bytes: 4096 });
    w.onProgress!({ trainStep: 3, totalSteps: 12, metrics: { loss: 2.75 } });
    expect(monitor.status()).toMatchObject({
      state: "working",
      runId: "run-1",
      step: "sft",
      cursor: 1,
      loss: 2.75,
      progress: { done: 3, total: 12, fraction: 0.25 },
    });
    w.onPhase!({ phase: "upload", durationMs: 3, ok: true, bytes: 100 });
    w.onEnd!({
      kind: "committed",
      runId: "run-1",
      cursor: 1,
      checkpoint: ref,
      next: "run.completed",
      durationMs: 2500,
    });

    const bad = observer.onWork!(work)!;
    bad.onEnd!({
      kind: "dead-lettered",
      runId: null,
      cursor: null,
      error: BatonError.fatal("EVENT_MALFORMED", "not JSON"),
      durationMs: 1,
    });

    const text = await monitor.registry.metrics();
    const stage = { stage: "instruct" };
    expect(sampleValue(text, "baton_events_consumed_total", stage)).toBe(2);
    expect(sampleValue(text, "baton_events_failed_total", { ...stage, disposition: "dead-lettered" })).toBe(1);
    expect(sampleValue(text, "baton_bytes_moved_total", { ...stage, direction: "download" })).toBe(4096);
    expect(sampleValue(text, "baton_bytes_moved_total", { ...stage, direction: "upload" })).toBe(100);
    expect(text).toMatch(/^baton_step_duration_seconds_sum\{stage="instruct"\} 2\.5$/m);
    expect(monitor.status()).toMatchObject({
      state: "failed",
      lastError: "EVENT_MALFORMED: not JSON",
      stepsCompleted: 1,
    });
  });

  it("counts an interrupted step as interrupted, not as finished", async () => {
    const monitor = new StageMonitor("instruct");
    const w = monitorObserver(monitor).onWork!(work)!;
    w.onEvent!(ready);
    w.onEnd!({ kind: "interrupted", runId: "run-1", cursor: 1, durationMs: 10 });
    expect(monitor.status()).toMatchObject({ state: "idle", stepsCompleted: 0 });
    expect(
      sampleValue(await monitor.registry.metrics(), "baton_events_failed_total", {
        stage: "instruct",
        disposition: "interrupted",
      }),
    ).toBe(1);
  });
});
