// Writes a run's report: report.md, report.json and one loss-curve SVG per stage, into a local folder
// and into the store under reports/<runId>/ (so a distributed run's report sits beside its checkpoints).
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type CheckpointRef, keys, redactor } from "@baton/contracts";
import type { Store } from "@baton/store";
import { collectReport, type RunReport } from "./collect.ts";
import { reportMarkdown } from "./markdown.ts";
import { lineChart } from "./svg.ts";

const RL_SERIES = ["objective/score", "objective/reward", "objective/kl"];

export interface WrittenReport {
  report: RunReport;
  dir: string;
  markdown: string;
  files: string[];
}

export async function writeReport(
  store: Store,
  at: CheckpointRef | string,
  recipe: string,
  dir: string,
): Promise<WrittenReport> {
  // a report is read by people and stored: its strings go through the one redactor
  const report = redactor().strings(await collectReport(store, at, recipe));
  await mkdir(dir, { recursive: true });
  const files = new Map<string, string>();
  const svgNames = new Map<string, string>();
  for (const s of report.stages) {
    if (s.curve.length === 0) continue;
    const name = `loss-${s.cursor + 1}-${s.step}.svg`;
    const evalSeries = Object.keys(s.evals[0]?.metrics ?? {})
      .filter((k) => k.includes("loss"))
      .map((k) => ({ name: k, points: s.evals.map((e) => ({ x: e.step, y: e.metrics[k] as number })) }));
    files.set(
      name,
      lineChart(`${s.step} (${s.stage})`, [
        { name: "train loss", points: s.curve.map((p) => ({ x: p.step, y: p.loss })) },
        ...evalSeries,
      ]),
    );
    svgNames.set(s.step, name);
    // RLHF: what the reward model gave the rollouts and how far the policy moved from the reference
    const rl = RL_SERIES.filter((k) => s.evals.some((e) => k in e.metrics));
    if (rl.length > 0) {
      const rlName = `reward-kl-${s.cursor + 1}-${s.step}.svg`;
      files.set(
        rlName,
        lineChart(
          `${s.step} (${s.stage}): reward and KL per iteration`,
          rl.map((k) => ({ name: k, points: s.evals.map((e) => ({ x: e.step, y: e.metrics[k] as number })) })),
          { x: "PPO iteration", y: "reward / nats" },
        ),
      );
      svgNames.set(`${s.step}#rl`, rlName);
    }
  }
  const markdown = reportMarkdown(report, svgNames);
  files.set("report.md", markdown);
  files.set("report.json", JSON.stringify(report, null, 2));
  for (const [name, text] of files) {
    await writeFile(join(dir, name), text);
    await store.putBytes(keys.report(report.runId, name), new TextEncoder().encode(text));
  }
  return { report, dir, markdown, files: [...files.keys()] };
}
