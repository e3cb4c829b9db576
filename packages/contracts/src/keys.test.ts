import { describe, expect, it } from "vitest";
import { assertKey, keys, snapshotStepOf } from "./keys.ts";

describe("key layout", () => {
  it("places checkpoints, snapshots, reports and datasets", () => {
    expect(keys.checkpoint("run-1", 2, "sft", "a1b2")).toBe("checkpoints/run-1/2-sft/a1b2/");
    expect(keys.manifest("checkpoints/run-1/2-sft/a1b2/")).toBe("checkpoints/run-1/2-sft/a1b2/manifest.json");
    expect(keys.file("checkpoints/run-1/2-sft/a1b2", "model.safetensors")).toBe(
      "checkpoints/run-1/2-sft/a1b2/model.safetensors",
    );
    expect(keys.resume("run-1", 2)).toBe("runs/run-1/2/_resume/");
    expect(keys.report("run-1", "eval.json")).toBe("reports/run-1/eval.json");
    expect(keys.dataset("chat", "part-0.jsonl")).toBe("datasets/chat/part-0.jsonl");
    expect(keys.datasetBlob("ab".repeat(32), "general.val.jsonl")).toBe(
      `datasets/sha256/${"ab".repeat(32)}/general.val.jsonl`,
    );
    expect(() => keys.datasetBlob("AB", "x.jsonl")).toThrow(/not a sha256/);
  });

  it("orders snapshots by train step and reads the step back", () => {
    const a = keys.snapshot("r", 0, 9);
    const b = keys.snapshot("r", 0, 10);
    expect([b, a].sort()).toEqual([a, b]);
    expect(snapshotStepOf(keys.resume("r", 0), `${b}weights.bin`)).toBe(10);
    expect(snapshotStepOf(keys.resume("r", 1), `${b}weights.bin`)).toBeNull();
  });

  it("refuses keys that could escape the store", () => {
    for (const bad of ["", "/abs", "a/../b", "a\\b", "./a"])
      expect(() => assertKey(bad)).toThrow(/not a safe relative key/);
    expect(() => keys.checkpoint("run/1", 0, "x", "y")).toThrow(/cannot be one segment/);
  });
});
