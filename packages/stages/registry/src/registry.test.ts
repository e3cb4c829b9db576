import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkRecipe, recipeProblems } from "./check.ts";
import { readRecipeFile } from "./recipe-file.ts";
import { IMPLEMENTATIONS, resolveSteps } from "./registry.ts";

const recipe = (stages: string[]) => ({
  name: "r",
  steps: stages.map((stage, i) => ({ name: `s${i}`, stage, config: {}, data: [] })),
});

describe("stage registry", () => {
  it("gives each step its stage's own implementation unless another is chosen", () => {
    expect(resolveSteps(recipe(["pretrain", "finetune"]), "r.yaml").map((s) => s.implementation)).toEqual([
      "pretrain",
      "finetune",
    ]);
    expect(
      resolveSteps(recipe(["pretrain", "finetune"]), "r.yaml", { s1: "finetune-last-layers" }).map(
        (s) => s.implementation,
      ),
    ).toEqual(["pretrain", "finetune-last-layers"]);
  });

  it("names the recipe file and JSON path of an unknown stage, and refuses a choice of another stage", () => {
    expect(() => resolveSteps(recipe(["pretrain", "polish"]), "r.yaml")).toThrow(
      'r.yaml: /steps/1/stage: unknown stage "polish" in step "s1"',
    );
    expect(() => resolveSteps(recipe(["pretrain"]), "r.yaml", { s0: "finetune" })).toThrow(
      'finetune serves stage "finetune", but step "s0" (/steps/0) is a "pretrain" step',
    );
    expect(() => resolveSteps(recipe(["pretrain"]), "r.yaml", { nope: "cpt" })).toThrow(
      'the recipe has no step "nope"',
    );
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
    await writeFile(
      join(dir, "a.yaml"),
      "name: a\nsteps:\n  - name: p\n    stage: pretrain\n    config: { train: { steps: 3 } }\n    data: [general.train.jsonl, s3://bucket/x.jsonl]\n",
    );
    const a = await readRecipeFile(join(dir, "a.yaml"));
    expect(a.steps[0]?.data).toEqual([`file://${dir}/general.train.jsonl`, "s3://bucket/x.jsonl"]);
    expect(a.steps[0]?.config).toEqual({ train: { steps: 3 } });
    await writeFile(
      join(dir, "b.json"),
      JSON.stringify({ name: "b", steps: [{ name: "p", stage: "pretrain", config: {}, data: [] }] }),
    );
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
        {
          name: "f",
          stage: "finetune",
          config: { train: { steps: 2, warmupSteps: 3 } },
          data: ["file:///nonexistent/task.train.jsonl"],
        },
        { name: "x", stage: "polish", config: {}, data: [] },
      ],
    };
    const problems = await recipeProblems(r, "r.yaml", { local: true });
    expect(problems).toEqual([
      expect.stringContaining("r.yaml: /steps/0/config/model/nEmbd: 30 is not a multiple of /model/nHead (4)"),
      expect.stringContaining("r.yaml: /steps/0/data/0: s3://b/general.txt: s3:// datasets need S3_ENDPOINT"),
      expect.stringContaining("r.yaml: /steps/1/config/train/warmupSteps: 3 warmup steps exceed /train/steps (2)"),
      expect.stringContaining("r.yaml: /steps/1/data/0: /nonexistent/task.train.jsonl does not exist"),
      expect.stringContaining('r.yaml: /steps/2/stage: unknown stage "polish"'),
    ]);
    await expect(checkRecipe(r, "r.yaml", { local: true })).rejects.toMatchObject({
      code: "CONFIG_INVALID",
      disposition: "fatal",
      message: expect.stringContaining("5 problems; nothing was published or trained"),
    });
  });

  it("names an unknown implementation, the step it was chosen for and the ones that serve its stage", async () => {
    const r = recipe(["pretrain", "finetune", "rlhf"]);
    const problems = await recipeProblems(r, "r.yaml", {
      choices: { s1: "finetune-lastlayers", s2: "rlhf-dpo", s3: "cpt" },
    });
    expect(problems.join("\n")).not.toContain("unknown stage");
    expect(problems[0]).toBe('--impl s3=cpt: the recipe has no step "s3" (did you mean "s0"?); its steps: s0, s1, s2');
    expect(problems).toContainEqual(
      '--impl s1=finetune-lastlayers: unknown implementation "finetune-lastlayers" for step "s1" (r.yaml: /steps/1, stage finetune); did you mean "finetune-last-layers"? stage finetune is served by finetune (its default), finetune-last-layers',
    );
    expect(() => resolveSteps(recipe(["finetune"]), "r.yaml", { s0: "nope" })).toThrow(
      /unknown implementation "nope" for step "s0"/,
    );
  });

  it("checks what a step needs of the steps before it: PPO after a reward step, policyStep an earlier policy", async () => {
    const steps = [
      { name: "instruct", stage: "instruct", config: {}, data: [] },
      { name: "reward", stage: "reward", config: {}, data: [] },
      { name: "ppo", stage: "rlhf", config: { policyStep: "instrct" }, data: [] },
      { name: "ppo-early", stage: "rlhf", config: { policyStep: "reward" }, data: [] },
    ];
    const placement = async (impl: string, i: number) =>
      (await IMPLEMENTATIONS[impl]!.load()).placementProblems!(steps[i]!, steps.slice(0, i));
    expect(await placement("rlhf-ppo", 2)).toEqual([
      expect.stringMatching(
        /^\/config\/policyStep: "instrct" is not an earlier step of the recipe \(did you mean "instruct"\?\)/,
      ),
    ]);
    expect(await placement("rlhf-ppo", 3)).toEqual([
      'PPO optimises the policy against a reward model, the step before\'s checkpoint, but the step before is "ppo" (stage rlhf); put a reward step right before it',
      expect.stringMatching(/^\/config\/policyStep: "reward" is a reward step/),
    ]);
    expect(await placement("rlhf-dpo", 3)).toEqual([
      expect.stringMatching(/^\/config\/policyStep: "reward" is a reward step/),
    ]);
    expect(await placement("rlhf-dpo", 1)).toEqual([]);
  });

  it("gives every implementation a validate() that finds a data problem a config loader cannot", async () => {
    for (const [name, impl] of Object.entries(IMPLEMENTATIONS)) {
      const def = (await impl.load()).createStage();
      expect(def.validate, name).toBeTypeOf("function");
      expect(def.validate!({ name: "s", stage: impl.stage, config: {}, data: [] }).join("\n"), name).toMatch(/\/data/);
    }
  });
});
