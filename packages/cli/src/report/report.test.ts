import { describe, expect, it } from "vitest";
import type { RunReport } from "./collect.ts";
import { effectRows, reportMarkdown } from "./markdown.ts";
import { textTable } from "./progress.ts";
import { lineChart } from "./svg.ts";

const report: RunReport = {
  runId: "r1",
  recipe: "demo",
  checkpoint: "file:///x/3/",
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
      datasets: [
        { uri: "file:///d/g.jsonl", sha256: "a".repeat(64), records: 10, skipped: 1, errors: ["g.jsonl:3: bad JSON"] },
      ],
      metrics: { val_loss: 1.5, tokens_per_s: 5000 },
      effect: { val_loss: { before: null, after: 1.5 } },
      samples: [{ prompt: "the | cat", before: "xx", after: "sat" }],
      seconds: 12,
      curve: [
        { step: 1, loss: 4 },
        { step: 2, loss: 3 },
      ],
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
      metrics: { exact_match: 0.4 },
      effect: { exact_match: { before: 0, after: 0.4 } },
      samples: [{ prompt: "plural of cat:", before: "", after: " cats", reference: " cats" }],
      seconds: 5,
      curve: [],
      evals: [],
    },
  ],
};

describe("run report", () => {
  it("tabulates every stage's effect in order, before (— for random init) and after", () => {
    expect(effectRows(report)).toEqual([
      { step: "pretrain", stage: "pretrain", metric: "val_loss", before: "—", after: "1.500" },
      { step: "finetune", stage: "finetune", metric: "exact_match", before: "0.000", after: "0.400" },
    ]);
    const md = reportMarkdown(report, new Map([["pretrain", "loss-1-pretrain.svg"]]));
    expect(md).toContain("| finetune | finetune | exact_match | 0.000 | 0.400 |");
    expect(md).toContain("![loss curve of pretrain](loss-1-pretrain.svg)");
    expect(md).toContain("| the \\| cat | xx | sat |"); // pipes in samples are escaped
    expect(md).toContain("g.jsonl:3: bad JSON");
    expect(md.indexOf("## 1. pretrain")).toBeLessThan(md.indexOf("## 2. finetune"));
  });

  it("draws a loss curve as a standalone SVG with one polyline per series", () => {
    const svg = lineChart("pretrain <1>", [
      {
        name: "train loss",
        points: [
          { x: 1, y: 4 },
          { x: 2, y: 3 },
          { x: 3, y: 2.5 },
        ],
      },
      { name: "val", points: [{ x: 3, y: 2.8 }] },
    ]);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.endsWith("</svg>")).toBe(true);
    expect(svg).toContain("pretrain &lt;1&gt;");
    expect(svg.match(/<polyline/g)).toHaveLength(2);
    const pts = /points="([^"]+)"/.exec(svg)?.[1]?.split(" ") ?? [];
    expect(pts).toHaveLength(3);
    const ys = pts.map((p) => Number(p.split(",")[1]));
    expect(ys[0]).toBeLessThan(ys[2] as number); // higher loss is drawn higher (smaller y)
  });

  it("pads a text table to its widest cells", () => {
    expect(textTable(["a", "metric"], [["pretrain", "x"]])).toBe("a         metric\n--------  ------\npretrain  x");
  });
});
