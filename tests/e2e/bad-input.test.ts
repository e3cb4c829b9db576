// Bad input through the whole relay (embedded: memory bus, folder store; the same runner as the
// services): errors name the file, line or JSON path; nothing is committed for the failed step; the
// event is dead-lettered with the reason.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HEADERS, type Recipe, subjects } from "@baton/contracts";
import { type StageEnv, stageEnv } from "@baton/runner";
import { readStageReport } from "@baton/stage-lm";
import { readRecipeFile, runPipeline } from "@baton/stage-registry";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli } from "./cluster.ts";

const TINY = {
  model: { nLayer: 1, nHead: 2, nEmbd: 32, blockSize: 32 },
  train: { steps: 4, batchSize: 4, warmupSteps: 1, evalEvery: 2, snapshotEvery: 2 },
  evalBatches: 1,
  samples: { count: 1, promptChars: 8, maxTokens: 4 },
};

const good = (i: number) => JSON.stringify({ text: `the cat sat on the mat number ${i}. the dog ran home again.` });

describe("bad input", () => {
  let dir: string;
  let env: StageEnv;
  let trainUri: string;
  let valUri: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "baton-bad-input-"));
    env = await stageEnv({ BATON_HOME: join(dir, "home"), BATON_MAX_ATTEMPTS: "2" });
    // line 3: bad JSON; line 5: empty text; the rest valid
    const lines = [
      good(1),
      good(2),
      '{"text": "unterminated',
      good(4),
      '{"text": ""}',
      ...Array.from({ length: 30 }, (_, i) => good(i + 6)),
    ];
    await writeFile(join(dir, "general.train.jsonl"), `${lines.join("\n")}\n`);
    await writeFile(join(dir, "general.val.jsonl"), `${Array.from({ length: 8 }, (_, i) => good(i)).join("\n")}\n`);
    trainUri = `file://${join(dir, "general.train.jsonl")}`;
    valUri = `file://${join(dir, "general.val.jsonl")}`;
  });

  afterAll(async () => {
    await env?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const recipe = (config: Record<string, unknown>, data: string[]): Recipe => ({
    name: "bad-input",
    seed: 1,
    steps: [{ name: "pretrain", stage: "pretrain", config, data }],
  });

  /** Runs a one-step recipe; returns the error and the dead letter of the step, if any. */
  async function failing(runId: string, r: Recipe) {
    const letters: { reason: string; code: string }[] = [];
    const unwatch = await env.bus.watch(
      subjects.deadLetter("pretrain"),
      (m) => {
        // the stream holds every run's dead letters; the event id starts with the run id
        if ((m.headers[HEADERS.deadLetterEventId] ?? "").startsWith(`${runId}:`))
          letters.push({
            reason: m.headers[HEADERS.deadLetterReason] ?? "",
            code: m.headers[HEADERS.deadLetterCode] ?? "",
          });
      },
      { from: "all" },
    );
    const err = await runPipeline({ recipe: r, file: "inline", env, runId, timeoutMs: 60_000, threads: 1 }).then(
      () => null,
      (e: Error) => e,
    );
    await new Promise((res) => setTimeout(res, 100));
    await unwatch();
    return {
      err,
      letters,
      committed: await env.ledger.get(runId, 0),
      stored: await env.store.list(`checkpoints/${runId}/`),
    };
  }

  it("a recipe naming an unknown stage: the error names the file and the step's JSON path", async () => {
    const file = join(dir, "unknown-stage.yaml");
    await writeFile(
      file,
      `name: x\nsteps:\n  - { name: pretrain, stage: pretrain, config: {}, data: [${trainUri}] }\n  - { name: polish, stage: polisher, config: {}, data: [] }\n`,
    );
    await expect(
      readRecipeFile(file).then((r) =>
        runPipeline({ recipe: r, file, env, runId: "unknown-stage", timeoutMs: 10_000 }),
      ),
    ).rejects.toThrow(`${file}: /steps/1/stage: unknown stage "polisher" in step "polish"`);
    const res = await cli(["run", file], { BATON_HOME: join(dir, "cli-home") });
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('/steps/1/stage: unknown stage "polisher"');
  });

  it("bad lines under policy fail: dead-lettered naming file:line, nothing committed", {
    timeout: 60_000,
  }, async () => {
    const { err, letters, committed, stored } = await failing(
      "bad-lines-fail",
      recipe({ ...TINY, policy: "fail" }, [trainUri, valUri]),
    );
    expect(err?.message).toContain("general.train.jsonl:3: bad JSON");
    expect(letters).toHaveLength(1);
    expect(letters[0]?.reason).toContain("general.train.jsonl:3");
    expect(letters[0]?.code).toBe("DATASET_INVALID");
    expect(committed).toBeNull();
    expect(stored).toEqual([]);
  });

  it("bad lines under policy skip: the run completes and the report counts and names them", {
    timeout: 60_000,
  }, async () => {
    const done = await runPipeline({
      recipe: recipe({ ...TINY, policy: "skip" }, [trainUri, valUri]),
      file: "inline",
      env,
      runId: "bad-lines-skip",
      timeoutMs: 60_000,
      threads: 1,
    });
    const folder = join(dir, "home", env.store.keyOf(done.checkpoint.uri));
    const report = await readStageReport(folder);
    const train = report?.datasets.find((d) => d.uri === trainUri);
    expect(train?.skipped).toBe(2);
    expect(train?.errors.join("\n")).toMatch(/general\.train\.jsonl:3: bad JSON[\s\S]*general\.train\.jsonl:5: \/text/);
    expect(await env.ledger.get("bad-lines-skip", 0)).not.toBeNull();
  });

  it("a warmup longer than the run: dead-lettered on the first attempt (no retries), nothing committed", {
    timeout: 60_000,
  }, async () => {
    const { err, letters, committed, stored } = await failing(
      "warmup-past-steps",
      recipe({ ...TINY, train: { ...TINY.train, steps: 2, warmupSteps: 5 } }, [trainUri, valUri]),
    );
    expect(err?.message).toContain("/config/train/warmupSteps: 5 warmup steps exceed /train/steps (2)");
    expect(letters).toEqual([{ code: "CONFIG_INVALID", reason: expect.not.stringContaining("giving up") }]);
    expect(committed).toBeNull();
    expect(stored).toEqual([]);
  });

  it("a missing dataset: dead-lettered naming the URI, nothing committed", { timeout: 60_000 }, async () => {
    const missing = `file://${join(dir, "nowhere", "general.train.jsonl")}`;
    const { err, letters, committed, stored } = await failing("missing-dataset", recipe(TINY, [missing, valUri]));
    expect(err?.message).toContain(join(dir, "nowhere", "general.train.jsonl"));
    expect(letters).toHaveLength(1);
    expect(letters[0]?.reason).toContain(join(dir, "nowhere"));
    expect(letters[0]?.code).toBe("DATASET_INVALID");
    expect(committed).toBeNull();
    expect(stored).toEqual([]);
  });
});
