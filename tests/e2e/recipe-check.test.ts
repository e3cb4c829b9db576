// The whole recipe is checked before anything is published or trained: a typo in the last step is
// refused in seconds with its JSON path, embedded and on a cluster alike, and `baton run --check`
// prints every problem at once.

import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type StageEnv, stageEnv } from "@baton/runner";
import { startTestServices, type TestServices } from "@baton/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli } from "./cluster.ts";

const TINY =
  "model: { nLayer: 1, nHead: 2, nEmbd: 32, blockSize: 32 }\n      train: { steps: 4, batchSize: 4, warmupSteps: 1 }";

/** pretrain -> cpt -> finetune, each good unless `last` replaces the finetune step's config. */
function recipeText(last: string, extraData = ""): string {
  return `name: checked
seed: 1
steps:
  - name: pretrain
    stage: pretrain
    config:
      ${TINY}
    data: [general.train.jsonl, general.val.jsonl]
  - name: cpt
    stage: cpt
    config:
      train: { steps: 4, batchSize: 4, warmupSteps: 1 }
    data: [domain.train.jsonl, domain.val.jsonl, general.train.jsonl, general.val.jsonl]
  - name: finetune
    stage: finetune
    config:
      ${last}
    data: [task.train.jsonl, task.test.jsonl${extraData}]
`;
}

describe("baton run checks the whole recipe first", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "baton-check-"));
    for (const f of [
      "general.train.jsonl",
      "general.val.jsonl",
      "domain.train.jsonl",
      "domain.val.jsonl",
      "task.train.jsonl",
      "task.test.jsonl",
    ])
      await writeFile(join(dir, f), '{"text": "x"}\n');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("--check prints every problem of every step at once, each with its JSON path", async () => {
    await writeFile(
      join(dir, "many.yaml"),
      recipeText("train: { stpes: 10, steps: 5, warmupSteps: 2 }\n      packing: zip", ", missing.jsonl").replace(
        "train: { steps: 4, batchSize: 4, warmupSteps: 1 }\n    data: [domain",
        "train: { steps: 4, warmupSteps: 9 }\n    data: [domain",
      ),
    );
    const home = join(dir, "home-many");
    const res = await cli(["run", join(dir, "many.yaml"), "--check"], { BATON_HOME: home });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("4 problems");
    expect(res.stderr).toContain("/steps/2/config/train/stpes: unknown key");
    expect(res.stderr).toMatch(/\/steps\/2\/config\/packing: must be one of "rows", "packed"/);
    expect(res.stderr).toContain("/steps/1/config/train/warmupSteps: 9 warmup steps exceed /train/steps (4)");
    expect(res.stderr).toContain(`/steps/2/data/2: ${join(dir, "missing.jsonl")} does not exist`);

    await writeFile(join(dir, "good.yaml"), recipeText("train: { steps: 4, batchSize: 4, warmupSteps: 1 }"));
    const ok = await cli(["run", join(dir, "good.yaml"), "--check"], { BATON_HOME: home });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain("3 steps checked (pretrain -> cpt -> finetune); no problems");
    await expect(readdir(home)).rejects.toThrow(/ENOENT/); // nothing ran, nothing was written
  });

  it("embedded: a typo in the last step is refused before the first step trains", async () => {
    await writeFile(join(dir, "typo.yaml"), recipeText("train: { stpes: 10 }"));
    const home = join(dir, "home-typo");
    const res = await cli(["run", join(dir, "typo.yaml"), "--run-id", "typo-embedded"], { BATON_HOME: home });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("nothing was published or trained");
    expect(res.stderr).toContain(`${join(dir, "typo.yaml")}: /steps/2/config/train/stpes: unknown key`);
    expect(res.stdout).not.toContain("in this process"); // the run never started
    await expect(readdir(home)).rejects.toThrow(/ENOENT/);
  });

  describe("on a cluster", () => {
    let services: TestServices;
    let env: StageEnv;
    beforeAll(async () => {
      services = await startTestServices();
      env = await stageEnv({ ...process.env, ...services.env });
    });
    afterAll(async () => {
      await env?.close();
      await services?.close();
    });

    it("a typo in the last step is refused with its path and nothing is published", async () => {
      await writeFile(join(dir, "typo-cluster.yaml"), recipeText("train: { stpes: 10 }"));
      const res = await cli(["run", join(dir, "typo-cluster.yaml"), "--run-id", "typo-cluster"], services.env);
      expect(res.code).toBe(1);
      expect(res.stderr).toContain("/steps/2/config/train/stpes: unknown key");
      expect(res.stdout).not.toContain("published");
      // Nothing of this run is anywhere on the stream.
      const seen: string[] = [];
      const unwatch = await env.bus.watch("baton.>", (m) => void seen.push(Buffer.from(m.data).toString()), {
        from: "all",
      });
      await new Promise((r) => setTimeout(r, 500));
      await unwatch();
      expect(seen.filter((s) => s.includes("typo-cluster"))).toEqual([]);
      expect(await env.store.list("checkpoints/typo-cluster/")).toEqual([]);
    });

    it("an s3:// dataset missing from the store is a problem; one that exists is not", async () => {
      await env.store.putBytes(
        "datasets/checked/task.train.jsonl",
        new TextEncoder().encode('{"prompt":"a","completion":"b"}\n'),
      );
      const text = recipeText("train: { steps: 4, warmupSteps: 1 }").replace(
        "data: [task.train.jsonl, task.test.jsonl]",
        `data: [${env.store.uri("datasets/checked/task.train.jsonl")}, ${env.store.uri("datasets/checked/task.test.jsonl")}]`,
      );
      await writeFile(join(dir, "s3.yaml"), text);
      const res = await cli(["run", join(dir, "s3.yaml"), "--check"], services.env);
      expect(res.code).toBe(1);
      expect(res.stderr).toContain("1 problem");
      expect(res.stderr).toContain(
        `/steps/2/data/1: ${env.store.uri("datasets/checked/task.test.jsonl")} does not exist in the store`,
      );
    });
  });
});
