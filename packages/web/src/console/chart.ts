// Line charts as inline SVG, drawn on the server: one chart per metric (loss, reward, KL) of a step,
// x = train step. No script draws them; the run page swaps in a fresh copy as progress arrives.
import type { ProgressPoint } from "./run-index.ts";

export const CHARTED_METRICS = ["loss", "reward", "kl"] as const;

const W = 360;
const H = 150;
const PAD = { left: 44, right: 10, top: 18, bottom: 24 };

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
const num = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(2));

/** An SVG of `metric` over the points that carry it, or null when none does. */
export function lineChart(title: string, metric: string, points: readonly ProgressPoint[]): string | null {
  const xy = points.flatMap((p) =>
    Number.isFinite(p.metrics[metric]) ? [[p.trainStep, p.metrics[metric] as number] as const] : [],
  );
  if (xy.length === 0) return null;
  const xs = xy.map(([x]) => x);
  const ys = xy.map(([, y]) => y);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs, Math.min(...xs) + 1)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (y1 - y0 < 1e-9) [y0, y1] = [y0 - 0.5, y1 + 0.5];
  const sx = (x: number) => PAD.left + ((x - x0) / (x1 - x0)) * (W - PAD.left - PAD.right);
  const sy = (y: number) => H - PAD.bottom - ((y - y0) / (y1 - y0)) * (H - PAD.top - PAD.bottom);
  const line = xy.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(" ");
  const last = xy.at(-1)!;
  return `<svg class="chart" data-metric="${esc(metric)}" data-points="${xy.length}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">
<text x="${PAD.left}" y="12" class="chart-title">${esc(title)} (last ${num(last[1])} at step ${last[0]})</text>
<line x1="${PAD.left}" y1="${H - PAD.bottom}" x2="${W - PAD.right}" y2="${H - PAD.bottom}" class="axis"/>
<line x1="${PAD.left}" y1="${PAD.top}" x2="${PAD.left}" y2="${H - PAD.bottom}" class="axis"/>
<text x="${PAD.left - 4}" y="${PAD.top + 8}" text-anchor="end" class="tick">${num(y1)}</text>
<text x="${PAD.left - 4}" y="${H - PAD.bottom}" text-anchor="end" class="tick">${num(y0)}</text>
<text x="${PAD.left}" y="${H - 6}" class="tick">${x0}</text>
<text x="${W - PAD.right}" y="${H - 6}" text-anchor="end" class="tick">${x1}</text>
<polyline points="${line}" class="series"/>
</svg>`;
}
