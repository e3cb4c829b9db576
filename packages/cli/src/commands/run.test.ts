// `baton run` refuses a recipe with a problem anywhere before its first event: nothing is published
// on the bus and nothing is committed to the store, whichever step the problem is in.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type StageEnv, stageEnv, startRun } from "@baton/runner";
import { checkRecipe, readRecipeFile } from "@baton/stage-registry";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseChoices, runRecipe } from "./run.ts";

const FILES = [
  "general.train.jsonl",
  "general.val.jsonl",
  "domain.train.jsonl",
  "domain.val.jsonl",
  "task.train.jsonl",
  "task.test.jsonl",
  "instruct.train.jsonl",
  "instruct.test.jsonl",
];

/** pretrain -> cpt -> finetune -> instruct; `instruct` is the fourth step's config, `data` its data. */
function recipeText(o: { instruct?: string; data?: string } = {}): string {
  return `name: refused
steps:
  - name: pretrain
    stage: pretrain
    config: { model: { nLayer: 1, nHead: 2, nEmbd: 32, blockSize: 32 }, train: { steps: 4, warmupSteps: 1 } }
    data: [general.train.jsonl, general.val.jsonl]
  - name: cpt
    stage: cpt
    config: { train: { steps: 4, warmupSteps: 1 } }
    data: [domain.train.jsonl, domain.val.jsonl, general.train.jsonl, general.val.jsonl]
  - name: finetune
    stage: finetune
    config: { train: { steps: 4, warmupSteps: 1 } }
    data: [task.train.jsonl, task.test.jsonl]
  - name: instruct
    stage: instruct
    config: ${o.instruct ?? "{ train: { steps: 4, warmupSteps: 1 } }"}
    data: ${o.data ?? "[instruct.train.jsonl, instruct.test.jsonl]"}
`;
}

describe("baton run refuses a bad recipe before its first event", () => {
  let dir: string;
  let env: StageEnv;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "baton-run-refused-"));
    for (const f of FILES) await writeFile(join(dir, f), '{"text": "x"}\n');
    env = await stageEnv({ BATON_HOME: join(dir, "home") }); // the embedded default: memory bus, folder store
  });
  afterAll(async () => {
    await env?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Runs the recipe; returns the error's message once it is known that nothing went out. */
  async function refused(name: string, text: string, choices: Record<string, string> = {}): Promise<string> {
    const file = join(dir, name);
    await writeFile(file, text);
    const error = await runRecipe(file, { env, choices, runId: name, timeoutMin: 1 }).then(
      () => null,
      (err: unknown) => err as Error,
    );
    expect(error, "the run should have been refused").not.toBeNull();
    expect(error).toMatchObject({ code: "CONFIG_INVALID", disposition: "fatal" });
    const seen: string[] = [];
    const unwatch = await env.bus.watch("baton.>", (m) => void seen.push(m.subject), { from: "all" });
    await unwatch();
    expect(seen).toEqual([]); // no checkpoint.ready, no progress, no run event: nothing was published
    expect(await env.store.list("")).toEqual([]); // and nothing was committed or snapshotted
    expect(error!.message).toContain(`recipe ${file} has`);
    expect(error!.message).toContain("nothing was published or trained");
    return error!.message;
  }

  it("a typo in the fourth step's config, with its JSON path and the key it meant", async () => {
    const message = await refused("typo.yaml", recipeText({ instruct: "{ optim: { lrr: 0.001 } }" }));
    expect(message).toContain(
      `${join(dir, "typo.yaml")}: /steps/3/config/optim/lrr: unknown key (did you mean "lr"?); known keys here: lr,`,
    );
    expect(message).toContain("1 problem;");
  });

  it("a missing data file, with its path and what to fix", async () => {
    const message = await refused(
      "missing.yaml",
      recipeText({ data: "[instruct.train.jsonl, instruct.tset.jsonl, instruct.test.jsonl]" }),
    );
    expect(message).toContain(
      `/steps/3/data/1: ${join(dir, "instruct.tset.jsonl")} does not exist; fix the path (relative paths are read beside the recipe)`,
    );
  });

  it("an unknown implementation, naming the one it is close to and the ones that serve the stage", async () => {
    const message = await refused("impl.yaml", recipeText(), { finetune: "finetune-lastlayers" });
    expect(message).toContain(
      '--impl finetune=finetune-lastlayers: unknown implementation "finetune-lastlayers" for step "finetune"',
    );
    expect(message).toContain(
      'did you mean "finetune-last-layers"? stage finetune is served by finetune (its default), finetune-last-layers',
    );
  });

  it("every problem at once, step by step", async () => {
    const text = recipeText({
      instruct: "{ train: { stpes: 4 }, packing: zip }",
      data: "[instruct.train.jsonl, instruct.tset.jsonl]",
    }).replace("stage: cpt", "stage: cpts");
    const message = await refused("all.yaml", text, { finetune: "finetune-lastlayers", polish: "cpt" });
    const lines = message.split("\n").slice(1);
    expect(lines).toEqual([
      expect.stringContaining('--impl polish=cpt: the recipe has no step "polish"'),
      expect.stringContaining(
        '/steps/1/stage: unknown stage "cpts" in step "cpt"; did you mean "cpt"? this build serves pretrain, cpt,',
      ),
      expect.stringContaining('--impl finetune=finetune-lastlayers: unknown implementation "finetune-lastlayers"'),
      expect.stringContaining('/steps/3/config/train/stpes: unknown key (did you mean "steps"?)'),
      expect.stringMatching(/\/steps\/3\/config\/packing: must be one of "rows", "packed", got "zip"$/),
      expect.stringContaining(`/steps/3/data/1: ${join(dir, "instruct.tset.jsonl")} does not exist`),
    ]);
    expect(message).toContain("has 6 problems;");
  });

  it("the good recipe passes the check, and its first event is what the watch above would see", async () => {
    const file = join(dir, "good.yaml");
    await writeFile(file, recipeText());
    const recipe = await readRecipeFile(file);
    await checkRecipe(recipe, file, { store: env.store, local: true });
    const other = await stageEnv({ BATON_HOME: join(dir, "home-good") });
    try {
      await startRun(other.bus, { runId: "good", recipe, source: "baton://cli/run" });
      const seen: string[] = [];
      await (await other.bus.watch("baton.>", (m) => void seen.push(m.subject), { from: "all" }))();
      expect(seen).toEqual([expect.stringMatching(/^baton\.checkpoint\.ready\./)]);
    } finally {
      await other.close();
    }
  });
});

describe("--impl", () => {
  it("takes step=implementation once per step", () => {
    expect(parseChoices(["finetune=finetune-last-layers", "rlhf=rlhf-dpo"])).toEqual({
      finetune: "finetune-last-layers",
      rlhf: "rlhf-dpo",
    });
    expect(() => parseChoices(["finetune"])).toThrow('--impl takes <step>=<implementation>, got "finetune"');
    expect(() => parseChoices(["a=b=c"])).toThrow('--impl takes <step>=<implementation>, got "a=b=c"');
    expect(() => parseChoices(["rlhf=rlhf-dpo", "rlhf=rlhf-ppo"])).toThrow(
      "--impl rlhf=... is given twice (rlhf-dpo, rlhf-ppo)",
    );
  });
});
