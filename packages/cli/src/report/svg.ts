// Loss curves as a small hand-written SVG: one polyline per series, axes with a few ticks. No plotting
// dependency: a report must open in any browser or Markdown viewer as it is.

export interface Series {
  name: string;
  points: { x: number; y: number }[];
  color?: string;
}

const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"];
const W = 560;
const H = 300;
const M = { left: 56, right: 16, top: 28, bottom: 40 };

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

function ticks(lo: number, hi: number, n: number): number[] {
  if (hi <= lo) return [lo];
  const step = (hi - lo) / n;
  return Array.from({ length: n + 1 }, (_, i) => lo + i * step);
}

const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2));

/** An SVG document plotting the series (x: train step, y: loss) with a legend. */
export function lineChart(
  title: string,
  series: readonly Series[],
  labels: { x: string; y: string } = { x: "train step", y: "loss" },
): string {
  const all = series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.y));
  const xs = all.map((p) => p.x);
  const ys = all.map((p) => p.y);
  const x0 = Math.min(...xs, 0);
  const x1 = Math.max(...xs, 1);
  const y0 = Math.min(...ys, Infinity) === Infinity ? 0 : Math.min(...ys);
  const y1 = Math.max(...ys, y0 + 1e-6);
  const sx = (x: number) => M.left + ((x - x0) / (x1 - x0 || 1)) * (W - M.left - M.right);
  const sy = (y: number) => H - M.bottom - ((y - y0) / (y1 - y0 || 1)) * (H - M.top - M.bottom);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="16" text-anchor="middle" font-size="13">${esc(title)}</text>`,
    `<line x1="${M.left}" y1="${H - M.bottom}" x2="${W - M.right}" y2="${H - M.bottom}" stroke="#333"/>`,
    `<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${H - M.bottom}" stroke="#333"/>`,
  ];
  for (const t of ticks(x0, x1, 5))
    out.push(`<text x="${sx(t).toFixed(1)}" y="${H - M.bottom + 14}" text-anchor="middle">${Math.round(t)}</text>`);
  for (const t of ticks(y0, y1, 4)) {
    out.push(
      `<line x1="${M.left}" y1="${sy(t).toFixed(1)}" x2="${W - M.right}" y2="${sy(t).toFixed(1)}" stroke="#eee"/>`,
    );
    out.push(`<text x="${M.left - 6}" y="${(sy(t) + 4).toFixed(1)}" text-anchor="end">${fmt(t)}</text>`);
  }
  out.push(`<text x="${W / 2}" y="${H - 8}" text-anchor="middle">${esc(labels.x)}</text>`);
  out.push(
    `<text x="14" y="${H / 2}" text-anchor="middle" transform="rotate(-90 14 ${H / 2})">${esc(labels.y)}</text>`,
  );
  series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    const pts = s.points.filter((p) => Number.isFinite(p.y)).map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`);
    if (pts.length > 0)
      out.push(`<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${pts.join(" ")}"/>`);
    if (pts.length === 1)
      out.push(`<circle cx="${pts[0]!.split(",")[0]}" cy="${pts[0]!.split(",")[1]}" r="3" fill="${color}"/>`);
    out.push(`<rect x="${W - M.right - 150}" y="${M.top + 4 + i * 16}" width="10" height="10" fill="${color}"/>`);
    out.push(`<text x="${W - M.right - 134}" y="${M.top + 13 + i * 16}">${esc(s.name)}</text>`);
  });
  out.push("</svg>");
  return out.join("\n");
}
