// A run's steps as a timeline (inline SVG): one bar per step from its first start to its commit (or
// to now while it runs), on one time axis from the run's first event.
import type { StepStatus } from "@baton/runner";

const W = 640;
const ROW = 22;
const LEFT = 110;

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

export function timeline(
  steps: readonly StepStatus[],
  runStart: string | null,
  now = new Date().toISOString(),
): string {
  const t0 = Date.parse(runStart ?? now);
  const ends = steps.map((s) => Date.parse(s.endedAt ?? (s.startedAt ? now : (runStart ?? now))));
  const span = Math.max(1, Math.max(...ends, t0 + 1) - t0);
  const x = (t: number) => LEFT + ((t - t0) / span) * (W - LEFT - 10);
  const rows = steps.map((s, i) => {
    const y = i * ROW + 4;
    const label = `<text x="4" y="${y + 13}" class="tl-label">${esc(`${s.cursor + 1}. ${s.step}`)}</text>`;
    if (!s.startedAt) return label;
    const a = x(Date.parse(s.startedAt));
    const b = x(Date.parse(s.endedAt ?? now));
    return `${label}<rect x="${a.toFixed(1)}" y="${y}" width="${Math.max(2, b - a).toFixed(1)}" height="${ROW - 8}" class="tl-bar ${esc(s.state)}"><title>${esc(`${s.step}: ${s.state}`)}</title></rect>`;
  });
  const h = steps.length * ROW + 20;
  return `<svg id="timeline" viewBox="0 0 ${W} ${h}" width="${W}" height="${h}" role="img" aria-label="steps over time">
${rows.join("\n")}
<text x="${LEFT}" y="${h - 4}" class="tick">0 s</text><text x="${W - 10}" y="${h - 4}" text-anchor="end" class="tick">${(span / 1000).toFixed(1)} s</text>
</svg>`;
}
