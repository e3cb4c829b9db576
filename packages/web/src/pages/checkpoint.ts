// A checkpoint's page: its lineage as a graph back to random init (each hop's stage, data with their
// hashes, config), the other checkpoints a hop read (an RLHF policy's reward model), and downloads.

import type { LineageHop } from "@baton/runner";
import { html, raw } from "hono/html";
import type { Session } from "../auth/sessions.ts";
import { type Html, layout } from "./layout.ts";

export const DOWNLOADS = ["model.safetensors", "config.json", "tokenizer.json"] as const;

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
const link = (uri: string) => `/checkpoints?uri=${encodeURIComponent(uri)}`;

/** The lineage as an SVG: one box per hop, newest on top, an arrow from each parent; side boxes for other inputs. */
function lineageGraph(hops: readonly LineageHop[]): string {
  const boxW = 260;
  const boxH = 44;
  const gap = 30;
  const sideX = boxW + 80;
  const height = hops.length * (boxH + gap);
  const parts: string[] = [];
  hops.forEach((h, i) => {
    const y = i * (boxH + gap);
    const m = h.manifest;
    parts.push(
      `<a href="${esc(link(h.uri))}"><rect x="1" y="${y}" width="${boxW}" height="${boxH}" rx="6" class="node"/><text x="10" y="${y + 18}" class="node-title">${esc(`${m.cursor + 1}. ${m.step}`)} · ${esc(m.stage)}</text><text x="10" y="${y + 35}" class="node-sub">${esc(m.implementation)} ${esc(m.version)}</text></a>`,
    );
    if (i + 1 < hops.length)
      parts.push(
        `<line x1="${boxW / 2}" y1="${y + boxH + gap - 2}" x2="${boxW / 2}" y2="${y + boxH + 4}" class="edge" marker-end="url(#arrow)"/>`,
      );
    (m.inputs ?? []).forEach((input, j) => {
      const iy = y + j * 22;
      parts.push(
        `<a href="${esc(link(input.checkpoint.uri))}"><rect x="${sideX}" y="${iy}" width="200" height="20" rx="4" class="node side"/><text x="${sideX + 6}" y="${iy + 14}" class="node-sub">${esc(input.role)}: ${esc(input.checkpoint.uri.split("/").slice(-3, -1).join("/"))}</text></a>`,
      );
      parts.push(
        `<line x1="${sideX - 2}" y1="${iy + 10}" x2="${boxW + 6}" y2="${y + boxH / 2}" class="edge" marker-end="url(#arrow)"/>`,
      );
    });
  });
  return `<svg id="lineage-graph" viewBox="0 0 ${sideX + 210} ${Math.max(height, boxH)}" width="${sideX + 210}" height="${Math.max(height, boxH)}" role="img" aria-label="lineage, newest first">
<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" class="arrowhead"/></marker></defs>
${parts.join("\n")}
</svg>`;
}

export function checkpointPage(session: Session, uri: string, hops: readonly LineageHop[]): Html {
  const own = hops[0]!.manifest;
  const files = new Set(own.files.map((f) => f.path));
  return layout(
    "Checkpoint",
    session,
    html`<h1>Checkpoint</h1>
<p><code id="checkpoint-uri">${uri}</code> · run <a href="/runs/${own.runId}">${own.runId}</a>, step ${own.step} (${own.stage})</p>
<h2>Downloads</h2>
<ul id="downloads">${DOWNLOADS.filter((f) => files.has(f)).map((f) => html`<li><a href="/checkpoints/file?uri=${encodeURIComponent(uri)}&amp;name=${f}" download>${f}</a> (${own.files.find((x) => x.path === f)!.size} bytes, sha256 ${own.files.find((x) => x.path === f)!.sha256.slice(0, 12)}…)</li>`)}</ul>
<h2>Lineage (${hops.length} hop${hops.length === 1 ? "" : "s"} back to ${hops.at(-1)!.manifest.parent === null ? "random init" : "an imported model"})</h2>
${raw(lineageGraph(hops))}
<div class="lineage" id="lineage">${hops.map(
      (
        h,
      ) => html`<div class="hop" data-step="${h.manifest.step}"><strong>${h.manifest.cursor + 1}. ${h.manifest.step}</strong> · ${h.manifest.stage} · ${h.manifest.implementation} ${h.manifest.version} · ${h.manifest.createdAt}<br><a href="${link(h.uri)}"><code>${h.uri}</code></a>
<div>data: ${h.manifest.datasets.length === 0 ? "none" : h.manifest.datasets.map((d) => html`<br><code>${d.uri}</code> sha256 <code>${d.sha256.slice(0, 16)}…</code>`)}</div>
${(h.manifest.inputs ?? []).map((i) => html`<div>also read (${i.role}): <a href="${link(i.checkpoint.uri)}"><code>${i.checkpoint.uri}</code></a></div>`)}
<details><summary>config</summary><pre>${JSON.stringify(h.manifest.config, null, 2)}</pre></details>
<details><summary>metrics</summary><pre>${JSON.stringify(h.manifest.metrics, null, 2)}</pre></details></div>`,
    )}</div>`,
  );
}
