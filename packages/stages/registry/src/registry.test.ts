import { describe, expect, it } from "vitest";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readRecipeFile } from "./recipe-file.ts";
import { IMPLEMENTATIONS, resolveSteps } from "./registry.ts";
import { checkRecipe, recipeProblems } from "./check.ts";

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

describe("whole-recipe check", () => {
  it("runs every step through its implementation's validate() and lists every problem with its JSON path", async () => {
    const r = {
      name: "r",
      steps: [
        { name: "p", stage: "pretrain", config: { model: { nEmbd: 30, nHead: 4 } }, data: ["s3://b/general.txt"] },
        { name: "f", stage: "finetune", config: { train: { steps: 2, warmupSteps: 3 } }, data: ["file:///nonexistent/task.train.jsonl"] },
        { name: "x", stage: "polish", config: {}, data: [] },
      ],
    };
    const problems = await recipeProblems(r, "r.yaml", { local: true });
    expect(problems).toEqual([
      expect.stringContaining("r.yaml: /steps/2/stage: unknown stage \"polish\""),
      expect.stringContaining("r.yaml: /steps/0/config/model/nEmbd: 30 is not a multiple of /model/nHead (4)"),
      expect.stringContaining("r.yaml: /steps/0/data/0: s3://b/general.txt: s3:// datasets need S3_ENDPOINT"),
      expect.stringContaining("r.yaml: /steps/1/config/train/warmupSteps: 3 warmup steps exceed /train/steps (2)"),
      expect.stringContaining("r.yaml: /steps/1/data/0: /nonexistent/task.train.jsonl does not exist"),
    ]);
    await expect(checkRecipe(r, "r.yaml", { local: true })).rejects.toMatchObject({ code: "CONFIG_INVALID", disposition: "fatal", message: expect.stringContaining("5 problems; nothing was published or trained") });
  });

  it("gives every implementation a validate() that finds a data problem a config loader cannot", async () => {
    for (const [name, impl] of Object.entries(IMPLEMENTATIONS)) {
      const def = (await impl.load()).createStage();
      expect(def.validate, name).toBeTypeOf("function");
      expect(def.validate!({ name: "s", stage: impl.stage, config: {}, data: [] }).join("\n"), name).toMatch(/\/data/);
    }
  });
});
