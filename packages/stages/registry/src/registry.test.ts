import { describe, expect, it } from "vitest";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readRecipeFile } from "./recipe-file.ts";
import { IMPLEMENTATIONS, resolveSteps } from "./registry.ts";

const recipe = (stages: string[]) => ({ name: "r", steps: stages.map((stage, i) => ({ name: `s${i}`, stage, config: {}, data: [] })) });

describe("stage registry", () => {
  it("gives each step its stage's own implementation unless another is chosen", () => {
    expect(resolveSteps(recipe(["pretrain", "finetune"]), "r.yaml").map((s) => s.implementation)).toEqual(["pretrain", "finetune"]);
    expect(resolveSteps(recipe(["pretrain", "finetune"]), "r.yaml", { s1: "finetune-last-layers" }).map((s) => s.implementation)).toEqual(["pretrain", "finetune-last-layers"]);
  });

  it("names the recipe file and JSON path of an unknown stage, and refuses a choice of another stage", () => {
    expect(() => resolveSteps(recipe(["pretrain", "polish"]), "r.yaml")).toThrow('r.yaml: /steps/1/stage: unknown stage "polish" in step "s1"');
    expect(() => resolveSteps(recipe(["pretrain"]), "r.yaml", { s0: "finetune" })).toThrow('finetune serves stage "finetune", but step "s0" (/steps/0) is a "pretrain" step');
    expect(() => resolveSteps(recipe(["pretrain"]), "r.yaml", { nope: "cpt" })).toThrow('the recipe has no step "nope"');
  });

  it("loads every implementation, each serving the stage it is registered under", async () => {
    for (const [name, impl] of Object.entries(IMPLEMENTATIONS)) {
      const def = (await impl.load()).createStage();
      expect(def.stage, name).toBe(impl.stage);
    }
  });
});

describe("recipe files", () => {
  it("reads YAML and JSON, resolving relative data paths against the recipe's folder", async () => {
    const dir = await mkdtemp(join(tmpdir(), "baton-recipe-"));
    await writeFile(join(dir, "a.yaml"), "name: a\nsteps:\n  - name: p\n    stage: pretrain\n    config: { train: { steps: 3 } }\n    data: [general.train.jsonl, s3://bucket/x.jsonl]\n");
    const a = await readRecipeFile(join(dir, "a.yaml"));
    expect(a.steps[0]?.data).toEqual([`file://${dir}/general.train.jsonl`, "s3://bucket/x.jsonl"]);
    expect(a.steps[0]?.config).toEqual({ train: { steps: 3 } });
    await writeFile(join(dir, "b.json"), JSON.stringify({ name: "b", steps: [{ name: "p", stage: "pretrain", config: {}, data: [] }] }));
    expect((await readRecipeFile(join(dir, "b.json"))).name).toBe("b");
  });

  it("names the file and the JSON path of a schema violation", async () => {
    const dir = await mkdtemp(join(tmpdir(), "baton-recipe-"));
    await writeFile(join(dir, "bad.yaml"), "name: bad\nsteps:\n  - name: p\n    stage: pretrain\n    data: []\n");
    await expect(readRecipeFile(join(dir, "bad.yaml"))).rejects.toThrow(/bad\.yaml[\s\S]*\/steps\/0[\s\S]*config/);
    await writeFile(join(dir, "broken.json"), "{");
    await expect(readRecipeFile(join(dir, "broken.json"))).rejects.toThrow(/broken\.json: not valid JSON/);
  });
});
