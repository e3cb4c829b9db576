import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { loadRules, matches, recipeFor } from "./rules.ts";

let dir: string;
const recipe = {
  name: "legal",
  steps: [
    {
      name: "pretrain",
      stage: "pretrain",
      config: {},
      data: ["s3://b/general.train.jsonl", "s3://b/general.val.jsonl"],
    },
    {
      name: "cpt",
      stage: "cpt",
      config: {},
      data: [
        "s3://b/domain.train.jsonl",
        "s3://b/general.train.jsonl",
        "s3://b/domain.val.jsonl",
        "s3://b/general.val.jsonl",
      ],
    },
    {
      name: "instruct",
      stage: "instruct",
      config: {},
      data: ["s3://b/instruct.train.jsonl", "s3://b/instruct.test.jsonl"],
    },
  ],
};
const good = {
  window: "2s",
  bucketNotifications: { subject: "baton.bucket.notifications" },
  rules: [
    {
      name: "legal-corpus",
      on: { dataset: { prefix: "s3://b/datasets/legal/" } },
      recipe: "legal.yaml",
      from: "cpt",
      checkpoint: { latest: "pretrain" },
      data: { cpt: "domain" },
    },
    {
      name: "rankings",
      on: { feedback: {} },
      recipe: "legal.yaml",
      from: "instruct",
      checkpoint: "event",
      data: { instruct: "instruct\\.train" },
      window: "500ms",
    },
  ],
};
const write = async (name: string, value: unknown): Promise<string> => {
  const file = join(dir, name);
  await writeFile(file, stringify(value));
  return file;
};
const refused = async (value: unknown): Promise<string> => {
  const err = await loadRules(await write("rules.yaml", value)).then(
    () => null,
    (e: Error) => e,
  );
  expect(err, "the rules file should be refused").not.toBeNull();
  return err!.message;
};
const withRule = (patch: Record<string, unknown>) => ({ ...good, rules: [{ ...good.rules[0], ...patch }] });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "baton-rules-"));
  await write("legal.yaml", recipe);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("trigger rules", () => {
  it("compiles a valid file: windows, checkpoints, data patterns, the bucket subject", async () => {
    const rules = await loadRules(await write("rules.yaml", good));
    expect(rules.bucketSubject).toBe("baton.bucket.notifications");
    const [legal, rankings] = rules.rules;
    expect(legal).toMatchObject({
      name: "legal-corpus",
      from: "cpt",
      checkpoint: { kind: "latest", pipeline: "legal", step: "pretrain" },
      windowMs: 2_000,
      maxWaitMs: 20_000,
    });
    expect(rankings).toMatchObject({
      checkpoint: { kind: "event" },
      windowMs: 500,
      on: { kind: "feedback", prefix: null },
    });
    expect(matches(legal!, "dataset", "s3://b/datasets/legal/x.jsonl")).toBe(true);
    expect(matches(legal!, "dataset", "s3://b/datasets/medical/x.jsonl")).toBe(false);
    expect(matches(legal!, "feedback", "s3://b/datasets/legal/x.jsonl")).toBe(false);
  });

  it("puts the new files in place of the matching entries, in the rule's steps only", async () => {
    const [legal] = (await loadRules(await write("rules.yaml", good))).rules;
    const r = recipeFor(legal!, [
      "s3://b/datasets/legal/v2/domain.train.jsonl",
      "s3://b/datasets/legal/v2/domain.val.jsonl",
    ]);
    expect(r.steps[1]!.data).toEqual([
      "s3://b/datasets/legal/v2/domain.train.jsonl",
      "s3://b/datasets/legal/v2/domain.val.jsonl",
      "s3://b/general.train.jsonl",
      "s3://b/general.val.jsonl",
    ]);
    expect(r.steps[0]!.data).toEqual(recipe.steps[0]!.data);
    expect(r.steps[2]!.data).toEqual(recipe.steps[2]!.data);
  });

  it("refuses an unknown recipe, naming the key", async () => {
    expect(await refused(withRule({ recipe: "nope.yaml" }))).toMatch(
      /rules\.yaml: \/rules\/0\/recipe: recipe .*nope\.yaml: cannot read it \(ENOENT\)/,
    );
  });

  it("refuses a recipe that `baton run` would refuse: a step's config, with its path, when the rules load", async () => {
    const typo = {
      ...recipe,
      steps: recipe.steps.map((s) => (s.name === "cpt" ? { ...s, config: { train: { stpes: 5 } } } : s)),
    };
    await write("typo.yaml", typo);
    expect(await refused(withRule({ recipe: "typo.yaml" }))).toMatch(
      /\/rules\/0\/recipe: .*typo\.yaml: \/steps\/1\/config\/train\/stpes: unknown key \(did you mean "steps"\?\)/,
    );
  });

  it("refuses unknown steps at /from, /checkpoint/latest and /data/<step>", async () => {
    expect(await refused(withRule({ from: "cpt2" }))).toContain(
      `/rules/0/from: recipe "legal" has no step "cpt2" to start from; its steps are pretrain, cpt, instruct`,
    );
    expect(await refused(withRule({ checkpoint: { latest: "pretrian" } }))).toContain(
      `/rules/0/checkpoint/latest: recipe "legal" (${join(dir, "legal.yaml")}) has no step "pretrian"`,
    );
    expect(await refused(withRule({ data: { pretrain: "general" } }))).toContain(
      `/rules/0/data/pretrain: "pretrain" is not a step the rule runs (cpt, instruct)`,
    );
    expect(await refused(withRule({ data: { cpt: "legal" } }))).toContain(
      `/rules/0/data/cpt: /legal/ matches no file name in step "cpt"'s data`,
    );
  });

  it("refuses what the schema forbids, with the JSON path", async () => {
    expect(await refused(withRule({ form: "cpt" }))).toMatch(/at \/rules\/0: unknown property "form"/);
    expect(await refused(withRule({ data: {} }))).toMatch(/at \/rules\/0\/data: must NOT have fewer than 1 properties/);
    expect(await refused(withRule({ window: "30 seconds" }))).toMatch(/at \/rules\/0\/window: must match/);
    expect(await refused(withRule({ on: { dataset: { prefix: "s3://b/x/" }, feedback: {} } }))).toMatch(
      /at \/rules\/0\/on/,
    );
    expect(await refused(withRule({ checkpoint: "event" }))).toContain(
      `/rules/0/checkpoint: "event" takes the checkpoint named in feedback.ready, but this rule is on new data`,
    );
    expect(await refused({ ...good, rules: [good.rules[0], good.rules[0]] })).toContain(
      `/rules/1/name: rule name "legal-corpus" repeats /rules/0/name`,
    );
    expect(await refused({ ...good, bucketNotifications: { subject: "minio.events" } })).toMatch(
      /at \/bucketNotifications\/subject: must match/,
    );
  });
});
