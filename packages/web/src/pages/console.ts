// The console's run pages: the runs list, and a run's page (its steps as a timeline, live progress,
// loss / reward / KL charts, metrics before and after, samples). The live part is one fragment the
// page's script fetches again whenever the run's events say something changed.

import type { StageReport } from "@baton/stage-lm";
import { html, raw } from "hono/html";
import type { Session } from "../auth/sessions.ts";
import { CHARTED_METRICS, lineChart } from "../console/chart.ts";
import type { RunView } from "../console/run-index.ts";
import { timeline } from "../console/timeline.ts";
import { type Html, layout } from "./layout.ts";

/** "12.3 s", "4 min 05 s", or "—" */
export function duration(from: string | null | undefined, to: string | null | undefined): string {
  if (!from) return "—";
  const ms = Date.parse(to ?? new Date().toISOString()) - Date.parse(from);
  if (!Number.isFinite(ms) || ms < 0) return "—";
  const s = ms / 1000;
  return s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${String(Math.round(s % 60)).padStart(2, "0")} s`;
}

export function runState(r: RunView): string {
  if (r.completed) return "completed";
  if (r.steps.some((s) => s.state === "failed")) return "failed";
  if (r.steps.some((s) => s.state === "retrying")) return "retrying";
  return "running";
}

const checkpointLink = (uri: string) =>
  html`<a href="/checkpoints?uri=${encodeURIComponent(uri)}"><code>${uri}</code></a>`;

export function runsPage(session: Session, runs: RunView[]): Html {
  return layout(
    "Runs",
    session,
    html`<h1>Runs</h1>
<p><a href="/dead-letters">Dead letters</a></p>
${
  runs.length === 0
    ? html`<p>No run on this bus yet. Start one with <code>baton run &lt;recipe&gt;</code> (add <code>--web</code> to watch it here).</p>`
    : html`<table id="runs"><thead><tr><th>run</th><th>status</th><th>recipe</th><th>steps done</th><th>started</th><th>duration</th></tr></thead>
<tbody>${runs.map(
        (r) =>
          html`<tr data-run="${r.runId}"><td><a href="/runs/${r.runId}">${r.runId}</a></td><td class="state">${runState(r)}</td><td>${r.recipe ?? "—"}</td><td>${r.steps.filter((s) => s.state === "committed").length} / ${r.steps.length}</td><td>${r.startedAt ?? "—"}</td><td>${duration(r.startedAt, r.completedAt)}</td></tr>`,
      )}</tbody></table>`
}`,
  );
}

function progressText(s: RunView["steps"][number]): string {
  if (s.trainStep === undefined) return s.state === "committed" ? "done" : "";
  const m = Object.entries(s.metrics ?? {})
    .map(([k, v]) => `${k} ${v.toFixed(3)}`)
    .join(", ");
  return `step ${s.trainStep}/${s.totalSteps ?? "?"}${m ? ` · ${m}` : ""}`;
}

/** The part of the run page that changes while the run runs. */
export function runLive(r: RunView, reports: ReadonlyMap<number, StageReport | null>): Html {
  return html`<p>Status: <strong id="run-state">${runState(r)}</strong> · started ${r.startedAt ?? "—"} · ${duration(r.startedAt, r.completedAt)}${r.completed ? html` · last checkpoint ${checkpointLink(r.completed)}` : ""}</p>
<h2>Steps</h2>
${raw(timeline(r.steps, r.startedAt, r.completedAt ?? undefined))}
<table id="steps"><thead><tr><th>#</th><th>step</th><th>stage</th><th>implementation</th><th>status</th><th>progress</th><th>duration</th><th>checkpoint</th></tr></thead>
<tbody>${r.steps.map(
    (s) =>
      html`<tr id="step-${s.cursor}" data-state="${s.state}"><td>${s.cursor + 1}</td><td>${s.step}</td><td>${s.stage ?? "—"}</td><td>${s.implementation ?? "—"}</td><td class="state">${s.state}${s.message ? html` <span class="error">${s.message}</span>` : ""}</td><td class="progress">${progressText(s)}</td><td>${duration(s.startedAt, s.endedAt)}</td><td>${s.checkpoint ? checkpointLink(s.checkpoint) : "—"}</td></tr>`,
  )}</tbody></table>
<h2>Charts</h2>
<div id="charts">${r.steps.map((s) => {
    const progress = r.progress.get(s.cursor) ?? [];
    // a committed step's report holds its loss at every train step; progress events are throttled samples
    const curve = reports.get(s.cursor)?.curve ?? [];
    const pointsOf = (m: string) =>
      m === "loss" && curve.length > 1
        ? curve.map((p) => ({ trainStep: p.step, metrics: { loss: p.loss } }))
        : progress;
    const charts = CHARTED_METRICS.flatMap((m) => lineChart(`${s.step}: ${m}`, m, pointsOf(m)) ?? []);
    return charts.length === 0
      ? ""
      : html`<figure class="charts" data-step="${s.step}"><figcaption>${s.cursor + 1}. ${s.step}</figcaption>${raw(charts.join(""))}</figure>`;
  })}</div>
${[...reports].map(([cursor, rep]) => {
  if (!rep) return "";
  const effect = Object.entries(rep.effect);
  return html`<section class="stage-report" id="report-${cursor}"><h2>${cursor + 1}. ${rep.step}: before and after</h2>
${effect.length > 0 ? html`<table class="effect"><thead><tr><th>metric</th><th>before</th><th>after</th></tr></thead><tbody>${effect.map(([k, v]) => html`<tr><td>${k}</td><td>${v.before === null ? "random init" : v.before.toFixed(4)}</td><td>${v.after.toFixed(4)}</td></tr>`)}</tbody></table>` : ""}
${rep.samples.length > 0 ? html`<table class="samples"><thead><tr><th>prompt</th><th>before</th><th>after</th></tr></thead><tbody>${rep.samples.map((x) => html`<tr><td><pre>${x.prompt}</pre></td><td><pre>${x.before}</pre></td><td><pre>${x.after}</pre></td></tr>`)}</tbody></table>` : ""}
</section>`;
})}`;
}

export function runPage(session: Session, r: RunView, reports: ReadonlyMap<number, StageReport | null>): Html {
  return layout(
    `Run ${r.runId}`,
    session,
    html`<h1>Run ${r.runId}</h1><p>Recipe ${r.recipe ?? "—"} · <a href="/">all runs</a></p><div id="live" data-run="${r.runId}">${runLive(r, reports)}</div>`,
    ["/assets/console.js"],
  );
}
