// `baton demo-data` then `baton run` on the embedded default (no NATS_URL: memory bus and a local
// folder store in one process), as a newcomer runs them: the run ends with the effect table and the
// report's path, and the report lists the stages in order with their names and metrics.

import { copyFile, mkdtemp, readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli, RECIPES } from "./cluster.ts";

describe("baton run, embedded", () => {
  it("runs a recipe in one process, with a step swapped by --impl, and writes report.md, report.json and SVGs", {
    timeout: 180_000,
  }, async () => {
    const home = await mkdtemp(join(tmpdir(), "baton-run-"));
    const env = { BATON_HOME: home };
    const gen = await cli(["demo-data", join(home, "data"), "--seed", "4", "--scale", "0.2"], env);
    expect(gen.code, gen.stderr).toBe(0);
    expect(gen.stdout).toContain("task.train.jsonl");
    await copyFile(join(RECIPES, "tiny.yaml"), join(home, "data", "recipe.yaml"));

    const res = await cli(
      ["run", join(home, "data", "recipe.yaml"), "--run-id", "embedded-1", "--impl", "finetune=finetune-last-layers"],
      env,
    );
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain("run embedded-1: pretrain -> finetune in this process (memory bus");
    expect(res.stdout).toMatch(/\[2 finetune\] step 10\/10/);
    expect(res.stdout).toMatch(/finetune\s+finetune\s+exact_match\s+\d\.\d{3}\s+\d\.\d{3}/);
    const reportDir = join(home, "reports", "embedded-1");
    expect(res.stdout).toContain(`report: ${join(reportDir, "report.md")}`);

    const report = JSON.parse(await readFile(join(reportDir, "report.json"), "utf8")) as {
      stages: { stage: string; implementation: string; metrics: Record<string, number> }[];
    };
    expect(report.stages.map((s) => s.stage)).toEqual(["pretrain", "finetune"]);
    expect(report.stages[1]?.implementation).toBe("baton-gpt-finetune-last-layers");
    expect(report.stages[0]?.metrics.val_loss).toBeLessThan(report.stages[0]?.metrics.random_init_val_loss as number);
    expect((await readdir(reportDir)).filter((f) => f.endsWith(".svg")).sort()).toEqual([
      "loss-1-pretrain.svg",
      "loss-2-finetune.svg",
    ]);
    const md = await readFile(join(reportDir, "report.md"), "utf8");
    expect(md).toContain("| finetune | finetune | exact_match |");
    expect(md).toContain("![loss curve of pretrain](loss-1-pretrain.svg)");
  });
});
