// One recipe run over several seeds (`baton demo --seeds 3`): every stage's effect as the mean and
// the range over the runs, so a reader sees whether an effect holds on every seed or hangs on one.
import { relative } from "node:path";
import type { RunReport } from "./collect.ts";
import { num } from "./markdown.ts";

export interface SeedRun {
  seed: number;
  report: RunReport;
  /** Folder of the run's own report.md. */
  reportDir: string;
  seconds: number;
}

export interface Spread {
  mean: number;
  min: number;
  max: number;
  /** One value per seed, in the order of the runs. */
  values: number[];
}

export interface SpreadRow {
  step: string;
  stage: string;
  metric: string;
  /** null: random init (no "before"). */
  before: Spread | null;
  after: Spread;
}

function spread(values: number[]): Spread {
  return {
    mean: values.reduce((a, b) => a + b, 0) / values.length,
    min: Math.min(...values),
    max: Math.max(...values),
    values,
  };
}

/**
 * Every (step, metric) of the first run's effect table with its values over all runs. A run that
 * lacks one (another recipe) is an error: a mean over some seeds only would mislead.
 */
export function spreadRows(reports: readonly RunReport[]): SpreadRow[] {
  const first = reports[0];
  if (!first) return [];
  return first.stages.flatMap((s) =>
    Object.entries(s.effect).map(([metric, v0]) => {
      const values = reports.map((r) => {
        const v = r.stages.find((x) => x.step === s.step)?.effect[metric];
        if (!v)
          throw new Error(
            `run ${r.runId} has no ${s.step} ${metric}, which run ${first.runId} has: the runs are not of one recipe`,
          );
        return v;
      });
      return {
        step: s.step,
        stage: s.stage,
        metric,
        before: v0.before === null ? null : spread(values.map((v) => v.before ?? NaN)),
        after: spread(values.map((v) => v.after)),
      };
    }),
  );
}

/** "mean (min-max)", or the value alone for a single run. */
export function formatSpread(s: Spread | null): string {
  if (s === null) return num(null);
  return s.values.length === 1 ? num(s.mean) : `${num(s.mean)} (${num(s.min)}-${num(s.max)})`;
}

/** The closing table's rows: step, stage, metric, before, after. */
export function spreadTableRows(rows: readonly SpreadRow[]): string[][] {
  return rows.map((r) => [r.step, r.stage, r.metric, formatSpread(r.before), formatSpread(r.after)]);
}

/** report.md of the seeds together: the spread table, then each seed's run, time and report. */
export function seedsMarkdown(recipe: string, runs: readonly SeedRun[], dir: string): string {
  const rows = spreadRows(runs.map((r) => r.report));
  const seeds = runs.map((r) => r.seed).join(", ");
  return [
    `# Baton recipe \`${recipe}\` over ${runs.length} seeds (${seeds})`,
    "",
    "Each seed generates its own demo data and seeds its own run. Each cell is the mean over the seeds, with the lowest and highest value in brackets.",
    "",
    "## Effect of each stage",
    "",
    "| step | stage | metric | before | after |",
    "|---|---|---|---:|---:|",
    ...spreadTableRows(rows).map((r) => `| ${r.join(" | ")} |`),
    "",
    '"before" is the metric on the checkpoint the stage started from (— for random init).',
    "",
    "## Runs",
    "",
    "| seed | run | seconds | report |",
    "|---:|---|---:|---|",
    ...runs.map(
      (r) =>
        `| ${r.seed} | ${r.report.runId} | ${r.seconds.toFixed(0)} | [report.md](${relative(dir, r.reportDir) || "."}/report.md) |`,
    ),
    "",
  ].join("\n");
}
