import { describe, expect, it } from "vitest";
import type { RunReport } from "./collect.ts";
import { formatSpread, seedsMarkdown, spreadRows, spreadTableRows } from "./seeds.ts";

const run = (runId: string, loss: number, em: number): RunReport => ({
  runId,
  recipe: "demo",
  checkpoint: `file:///x/${runId}/1/`,
  generatedAt: "2026-01-01T00:00:00Z",
  stages: [
    {
      cursor: 0,
      step: "pretrain",
      stage: "pretrain",
      implementation: "p",
      version: "1",
      checkpoint: "file:///x/0/",
      parent: null,
      datasets: [],
      metrics: {},
      effect: { val_loss: { before: null, after: loss } },
      samples: [],
      seconds: 1,
      curve: [],
      evals: [],
    },
    {
      cursor: 1,
      step: "finetune",
      stage: "finetune",
      implementation: "f",
      version: "1",
      checkpoint: "file:///x/1/",
      parent: "file:///x/0/",
      datasets: [],
      metrics: {},
      effect: { exact_match: { before: 0, after: em } },
      samples: [],
      seconds: 1,
      curve: [],
      evals: [],
    },
  ],
});

describe("a recipe over several seeds", () => {
  const reports = [run("s1", 1.2, 0.9), run("s2", 1.5, 0.96), run("s3", 1.3, 0.93)];

  it("gives every metric's mean and range over the seeds, in the stages' order", () => {
    const rows = spreadRows(reports);
    expect(rows.map((r) => `${r.step}/${r.metric}`)).toEqual(["pretrain/val_loss", "finetune/exact_match"]);
    expect(rows[0]?.before).toBeNull(); // random init has no "before"
    expect(rows[0]?.after.mean).toBeCloseTo(4 / 3, 12);
    expect(rows[1]?.after).toMatchObject({ min: 0.9, max: 0.96, values: [0.9, 0.96, 0.93] });
    expect(spreadTableRows(rows)).toEqual([
      ["pretrain", "pretrain", "val_loss", "—", "1.333 (1.200-1.500)"],
      ["finetune", "finetune", "exact_match", "0.000 (0.000-0.000)", "0.930 (0.900-0.960)"],
    ]);
    expect(formatSpread({ mean: 0.5, min: 0.5, max: 0.5, values: [0.5] })).toBe("0.500"); // one seed: the value alone
  });

  it("refuses runs of different recipes rather than averaging over some seeds", () => {
    const other = run("s4", 1, 1);
    other.stages.pop();
    expect(() => spreadRows([reports[0]!, other])).toThrow(/run s4 has no finetune exact_match/);
  });

  it("writes a report with the spread table and a link to each seed's own report", () => {
    const md = seedsMarkdown(
      "demo",
      reports.map((report, i) => ({ seed: i + 1, report, reportDir: `/r/reports/${report.runId}`, seconds: 60 + i })),
      "/r/reports/demo-seeds",
    );
    expect(md).toContain("over 3 seeds (1, 2, 3)");
    expect(md).toContain("| finetune | finetune | exact_match | 0.000 (0.000-0.000) | 0.930 (0.900-0.960) |");
    expect(md).toContain("| 2 | s2 | 61 | [report.md](../s2/report.md) |");
  });
});
