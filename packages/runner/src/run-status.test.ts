import type { RecipeStep } from "@baton/contracts";
import { type BatonEvent, createEvent } from "@baton/contracts";
import { describe, expect, it } from "vitest";
import { RunStatus } from "./run-status.ts";

const pipeline: RecipeStep[] = [
  { name: "pre", stage: "pretrain", config: {}, data: [] },
  { name: "ft", stage: "finetune", config: {}, data: [] },
];
const ref = (n: string) => ({ uri: `s3://b/checkpoints/r/${n}/`, manifestSha256: "a".repeat(64) });
let n = 0;
const id = () => `e${n++}`;
const ready = (cursor: number, checkpoint: ReturnType<typeof ref> | null): BatonEvent =>
  createEvent({
    type: "dev.baton.checkpoint.ready",
    id: id(),
    source: "t",
    data: { runId: "r", recipe: "x", cursor, pipeline, checkpoint },
  });
const started = (cursor: number, attempt: number): BatonEvent =>
  createEvent({
    type: "dev.baton.stage.started",
    id: id(),
    source: "t",
    data: {
      runId: "r",
      cursor,
      step: pipeline[cursor]!.name,
      stage: pipeline[cursor]!.stage,
      implementation: "i",
      version: "1",
      worker: "w",
      attempt,
      resumeFromStep: null,
    },
  });
const failed = (cursor: number, disposition: "retry" | "fatal", message: string): BatonEvent =>
  createEvent({
    type: "dev.baton.stage.failed",
    id: id(),
    source: "t",
    data: {
      runId: "r",
      cursor,
      step: pipeline[cursor]!.name,
      stage: pipeline[cursor]!.stage,
      code: "LEDGER_UNAVAILABLE",
      disposition,
      message,
      attempt: 1,
      eventId: null,
    },
  });

describe("run status", () => {
  it("shows no retry error on a step that committed later, even when a late duplicate starts or fails after the commit", () => {
    const s = new RunStatus("r");
    for (const e of [
      ready(0, null),
      started(0, 1),
      failed(0, "retry", "ledger commit failed: NATS away"),
      started(0, 2),
      ready(1, ref("0-pre")),
      started(0, 3),
      failed(0, "retry", "late duplicate"),
      started(1, 1),
    ])
      s.see(e);
    const { steps, completed } = s.summary();
    expect(completed).toBeNull();
    expect(steps[0]).toEqual({
      cursor: 0,
      step: "pre",
      stage: "pretrain",
      implementation: "i",
      state: "committed",
      checkpoint: ref("0-pre").uri,
      startedAt: expect.any(String),
      endedAt: expect.any(String),
    });
    expect(Date.parse(steps[0]!.endedAt!)).toBeGreaterThanOrEqual(Date.parse(steps[0]!.startedAt!));
    expect(steps[1]).toMatchObject({ cursor: 1, step: "ft", state: "running" });
  });

  it("keeps the reason of a step that is retrying or failed", () => {
    const s = new RunStatus("r");
    for (const e of [
      ready(0, null),
      started(0, 1),
      failed(0, "retry", "S3 away"),
      ready(1, ref("0-pre")),
      started(1, 1),
      failed(1, "fatal", "loss is NaN"),
    ])
      s.see(e);
    expect(s.summary().steps.map((x) => [x.state, x.message])).toEqual([
      ["committed", undefined],
      ["failed", "loss is NaN"],
    ]);
    const other = new RunStatus("other");
    other.see(failed(0, "retry", "not ours"));
    expect(other.summary().steps).toEqual([]);
  });
});
