// The ranking pages: the campaign list, a rater's task (guidelines, one prompt, its K responses in
// the order drawn for this rater, the keys, progress) and an admin's campaign page.
import { html } from "hono/html";
import type { Session } from "../auth/sessions.ts";
import type { CampaignSummary, Progress } from "../campaigns/book.ts";
import type { Campaign, CampaignItem } from "../campaigns/campaign.ts";
import { type Html, layout } from "./layout.ts";

const fixed = (x: number, digits = 2) => (Number.isNaN(x) ? "—" : x.toFixed(digits));

function phaseText(s: CampaignSummary): string {
  switch (s.state.phase) {
    case "sampling":
      return "sampling responses";
    case "failed":
      return `failed: ${s.state.message}`;
    case "open":
      return "open";
    case "complete":
      return "complete";
  }
}

export function campaignsPage(session: Session, all: CampaignSummary[]): Html {
  const admin = session.user.role === "admin";
  return layout(
    "Ranking",
    session,
    html`<h1>Ranking campaigns</h1>
${admin ? html`<p><a href="/rate/new">New campaign</a></p>` : ""}
${
  all.length === 0
    ? html`<p>No campaign yet.${admin ? "" : " An admin creates them."}</p>`
    : html`<table>
<thead><tr><th>campaign</th><th>checkpoint</th><th>K</th><th>rankings</th><th>state</th></tr></thead>
<tbody>${all.map(
        (s) =>
          html`<tr><td><a href="/rate/${s.campaign.id}">${s.campaign.id}</a>${admin ? html` · <a href="/rate/${s.campaign.id}/summary">summary</a>` : ""}</td><td><code>${s.campaign.checkpoint.uri}</code></td><td>${s.campaign.k}</td><td>${s.rankings} / ${s.campaign.wanted}</td><td>${phaseText(s)}</td></tr>`,
      )}</tbody>
</table>`
}`,
  );
}

export function newCampaignPage(session: Session, error?: string): Html {
  return layout(
    "New campaign",
    session,
    html`<h1>New ranking campaign</h1>
${error ? html`<p class="error" role="alert">${error}</p>` : ""}
<form method="post" action="/rate" enctype="multipart/form-data" class="stack">
  <input type="hidden" name="_csrf" value="${session.csrf}">
  <label>Campaign id <input name="id" required pattern="[a-z0-9][a-z0-9-]{0,47}" placeholder="instruct-2026-12"></label>
  <label>Checkpoint URI <input name="checkpoint" required placeholder="s3://baton/checkpoints/.../"></label>
  <label>Prompt file (JSONL: instructions, chat, prompt/completion or rankings) <input type="file" name="prompts" required></label>
  <label>Responses per prompt (K, 2..9) <input type="number" name="k" min="2" max="9" value="4" required></label>
  <label>Rankings wanted <input type="number" name="wanted" min="1" value="20" required></label>
  <label>Max new tokens per response <input type="number" name="maxTokens" min="1" value="32"></label>
  <label>Guidelines <textarea name="guidelines" rows="6" required>Put the most helpful, correct answer first. Tie answers that are equally good. Flag a prompt whose answers are all unusable.</textarea></label>
  <button type="submit">Create and sample</button>
</form>`,
  );
}

export interface TaskView {
  campaign: Campaign;
  summary: CampaignSummary;
  progress: Progress;
  next: { item: CampaignItem; order: { id: string; text: string }[] } | null;
  submissionId: string;
}

const KEYS: [string, string][] = [
  ["↑ / ↓", "move focus between responses"],
  ["Alt+↑ / Alt+↓", "move the focused response up or down"],
  ["1 … 9", "place the focused response at that position"],
  ["T", "tie the focused response with the one above (again: untie)"],
  ["Enter", "submit the ranking"],
  ["S", "skip this prompt"],
  ["F", "flag the prompt as unusable"],
];

export function taskPage(session: Session, v: TaskView): Html {
  const p = v.progress;
  const progress = html`<p class="progress" id="progress">Campaign: <strong>${p.rankings}</strong> of ${p.wanted} rankings · you: ${p.mine} of ${p.items} prompts</p>
<progress max="${p.wanted}" value="${Math.min(p.rankings, p.wanted)}"></progress>`;
  const guidelines = html`<aside class="guidelines"><h2>Guidelines</h2><p class="pre">${v.campaign.guidelines}</p>
<h2>Keys</h2><dl class="keys">${KEYS.map(([k, what]) => html`<dt><kbd>${k}</kbd></dt><dd>${what}</dd>`)}</dl>
<p>Or drag the responses into order, best first.</p></aside>`;
  let task: Html;
  if (v.summary.state.phase === "sampling")
    task = html`<p>Responses are being sampled from the checkpoint; reload in a moment.</p>`;
  else if (v.summary.state.phase === "failed")
    task = html`<p class="error">This campaign failed: ${v.summary.state.message}</p>`;
  else if (v.summary.state.phase === "complete")
    task = html`<p id="done">This campaign is complete: ${p.wanted} rankings are in. Thank you.</p>`;
  else if (!v.next) task = html`<p id="done">You have judged every prompt of this campaign. Thank you.</p>`;
  else {
    const n = v.next;
    task = html`<section id="task" data-campaign="${v.campaign.id}" data-item="${n.item.index}" data-submission="${v.submissionId}">
<h2>Prompt ${n.item.index + 1}</h2>
<pre class="prompt">${n.item.prompt}</pre>
<h2>Responses, best first</h2>
<ol id="responses" aria-label="responses, best first">${n.order.map(
      (r) =>
        html`<li data-id="${r.id}" tabindex="0"><span class="pos"></span><span class="tie-mark" hidden>= tied with the one above</span><pre>${r.text}</pre></li>`,
    )}</ol>
<div class="actions"><button type="button" id="submit">Submit ranking (Enter)</button> <button type="button" id="skip">Skip (S)</button> <button type="button" id="flag">Flag unusable (F)</button></div>
<p id="status" role="status"></p>
</section>`;
  }
  return layout(
    `Rank · ${v.campaign.id}`,
    session,
    html`<h1>Campaign ${v.campaign.id}</h1>${progress}<div class="rank-layout">${guidelines}<div>${task}</div></div>`,
    ["/assets/sortable.min.js", "/assets/rank.js"],
  );
}

export function summaryPage(session: Session, s: CampaignSummary): Html {
  const c = s.campaign;
  const exported = s.state.phase === "complete" ? s.state.export : undefined;
  return layout(
    `Campaign ${c.id}`,
    session,
    html`<h1>Campaign ${c.id}</h1>
<dl class="facts">
  <dt>state</dt><dd id="state">${phaseText(s)}</dd>
  <dt>checkpoint</dt><dd><code>${c.checkpoint.uri}</code></dd>
  <dt>responses per prompt</dt><dd>${c.k}</dd>
  <dt>prompts</dt><dd>${s.items}</dd>
  <dt>rankings</dt><dd id="rankings">${s.rankings} / ${c.wanted}</dd>
  ${exported ? html`<dt>export</dt><dd id="export"><code>${exported.uri}</code> (${exported.count} rankings, sha256 ${exported.sha256.slice(0, 12)}…), announced with feedback.ready</dd>` : ""}
</dl>
<h2>Raters</h2>
<table id="raters"><thead><tr><th>rater</th><th>rankings</th><th>skips</th><th>flags</th></tr></thead>
<tbody>${s.raters.map((r) => html`<tr><td>${r.rater}</td><td>${r.rankings}</td><td>${r.skips}</td><td>${r.flags}</td></tr>`)}</tbody></table>
<h2>Agreement between raters</h2>
<p id="agreement">Over ${s.agreement.prompts} prompt(s) ranked by two raters or more (${s.agreement.comparisons} rater pairs): pairwise agreement <strong id="pairwise">${fixed(s.agreement.pairwise)}</strong>, Kendall's tau-b <strong id="tau">${fixed(s.agreement.kendallTau)}</strong>.</p>`,
  );
}
