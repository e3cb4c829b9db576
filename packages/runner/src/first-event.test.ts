import type { Recipe } from "@baton/contracts";
import { describe, expect, it } from "vitest";
import { firstEvent } from "./first-event.ts";

const recipe: Recipe = {
  name: "legal",
  seed: 4,
  steps: ["pretrain", "cpt", "finetune"].map((name) => ({
    name,
    stage: name,
    config: {},
    data: [`s3://b/${name}.jsonl`],
  })),
};
const checkpoint = { uri: "s3://b/checkpoints/r/0-pretrain/1-ab/", manifestSha256: "c".repeat(64) };

describe("a run's first event", () => {
  it("is checkpoint.ready at cursor 0 with the whole recipe as its routing slip by default", () => {
    const e = firstEvent({ runId: "r1", recipe });
    expect(e.id).toBe("r1:0:checkpoint.ready");
    expect(e.data).toEqual({
      runId: "r1",
      recipe: "legal",
      seed: 4,
      cursor: 0,
      pipeline: recipe.steps,
      checkpoint: null,
    });
  });

  it("from a step carries the recipe's tail and the given checkpoint", () => {
    const e = firstEvent({ runId: "r2", recipe, from: "cpt", checkpoint, source: "baton://trigger/x" });
    expect(e.subject).toBe("cpt");
    expect(e.source).toBe("baton://trigger/x");
    expect(e.data.pipeline.map((s) => s.name)).toEqual(["cpt", "finetune"]);
    expect(e.data).toMatchObject({ cursor: 0, checkpoint, recipe: "legal" });
    // the same start is the same event: a repeated start is deduped by its id
    expect(firstEvent({ runId: "r2", recipe, from: "cpt", checkpoint }).id).toBe(e.id);
  });

  it("refuses an unknown step, naming the recipe's steps", () => {
    expect(() => firstEvent({ runId: "r3", recipe, from: "reward" })).toThrow(
      /recipe "legal" has no step "reward" to start from; its steps are pretrain, cpt, finetune/,
    );
  });
});
