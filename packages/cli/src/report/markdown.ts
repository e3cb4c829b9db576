// report.md: what a person reads after a run. Stages in order, each with its effect (the metric on
// the checkpoint it started from and on the one it made), its loss curve, samples before and after,
// and its data (digests and skipped records).
import type { ReportStage, RunReport } from "./collect.ts";

export const num = (v: number | null | undefined) =>
  v === null || v === undefined || !Number.isFinite(v) ? "—" : Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(3);
const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, "⏎");
const clip = (s: string, n = 80) => (s.length > n ? `${s.slice(0, n)}…` : s);

/** One row per (stage, metric): before -> after. Shared by report.md and the CLI's closing table. */
export function effectRows(
  report: RunReport,
): { step: string; stage: string; metric: string; before: string; after: string }[] {
  return report.stages.flatMap((s) =>
    Object.entries(s.effect).map(([metric, v]) => ({
      step: s.step,
      stage: s.stage,
      metric,
      before: num(v.before),
      after: num(v.after),
    })),
  );
}

function stageSection(s: ReportStage, svgName: string | null, rlName: string | null): string[] {
  const lines = [
    `## ${s.cursor + 1}. ${s.step} (${s.stage})`,
    "",
    `Implementation \`${s.implementation}\` ${s.version}; checkpoint \`${s.checkpoint}\`${s.seconds !== null ? `; ${s.seconds.toFixed(0)} s` : ""}.`,
    "",
  ];
  const effect = Object.entries(s.effect);
  if (effect.length > 0) {
    lines.push(
      "| metric | before | after |",
      "|---|---:|---:|",
      ...effect.map(([k, v]) => `| ${k} | ${num(v.before)} | ${num(v.after)} |`),
      "",
    );
  }
  if (svgName) lines.push(`![loss curve of ${s.step}](${svgName})`, "");
  if (rlName) lines.push(`![reward and KL of ${s.step}](${rlName})`, "");
  if (s.samples.length > 0) {
    const ref = s.samples.some((x) => x.reference !== undefined);
    lines.push(`| prompt | before | after${ref ? " | expected" : ""} |`, `|---|---|---${ref ? "|---" : ""}|`);
    for (const x of s.samples)
      lines.push(
        `| ${cell(clip(x.prompt))} | ${cell(clip(x.before))} | ${cell(clip(x.after))}${ref ? ` | ${cell(x.reference ?? "")}` : ""} |`,
      );
    lines.push("");
  }
  lines.push("Data:", "");
  for (const d of s.datasets) {
    const counts = d.records !== undefined ? ` — ${d.records} records${d.skipped ? `, ${d.skipped} skipped` : ""}` : "";
    lines.push(`- \`${d.uri}\` sha256 \`${d.sha256.slice(0, 16)}…\`${counts}`);
    for (const e of d.errors ?? []) lines.push(`  - ${e}`);
  }
  const m = Object.entries(s.metrics).filter(([k]) => !(k in s.effect) && !k.endsWith("_before"));
  if (m.length > 0) lines.push("", `Other metrics: ${m.map(([k, v]) => `${k} ${num(v)}`).join(", ")}.`);
  lines.push("");
  return lines;
}

export function reportMarkdown(report: RunReport, svgNames: Map<string, string>): string {
  const rows = effectRows(report);
  return [
    `# Baton run ${report.runId}`,
    "",
    `Recipe \`${report.recipe}\`, ${report.stages.length} stages, last checkpoint \`${typeof report.checkpoint === "string" ? report.checkpoint : report.checkpoint.uri}\`. Generated ${report.generatedAt}.`,
    "",
    "## Effect of each stage",
    "",
    "| step | stage | metric | before | after |",
    "|---|---|---|---:|---:|",
    ...rows.map((r) => `| ${r.step} | ${r.stage} | ${r.metric} | ${r.before} | ${r.after} |`),
    "",
    '"before" is the metric on the checkpoint the stage started from (— for random init).',
    "",
    ...report.stages.flatMap((s) =>
      stageSection(s, svgNames.get(s.step) ?? null, svgNames.get(`${s.step}#rl`) ?? null),
    ),
  ].join("\n");
}
