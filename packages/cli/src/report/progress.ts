// Progress of a run on the terminal: one line per step, rewritten in place on a TTY (step, train
// step / total, loss, validation metrics, tokens/s, ETA), or a line every 10% otherwise (CI logs).
import type { StageProgressData } from "@baton/contracts";

const fmt = (v: number | undefined, d = 3) => (v === undefined || !Number.isFinite(v) ? "-" : v.toFixed(d));

export function progressPrinter(out: NodeJS.WriteStream = process.stdout): {
  onProgress(p: StageProgressData): void;
  end(): void;
} {
  const tty = out.isTTY === true;
  const started = new Map<string, number>();
  const lastTenth = new Map<string, number>();
  let open = false;
  return {
    onProgress(p) {
      const key = `${p.cursor}:${p.step}`;
      if (!started.has(key)) {
        if (open) out.write("\n");
        open = false;
        started.set(key, Date.now());
      }
      const total = p.totalSteps ?? 0;
      const m = p.metrics;
      const elapsed = (Date.now() - (started.get(key) ?? Date.now())) / 1000;
      const eta = total > 0 && p.trainStep > 0 ? (elapsed / p.trainStep) * (total - p.trainStep) : NaN;
      const val = Object.entries(m)
        .filter(([k]) => k.endsWith("val_loss") || k === "heldout_loss")
        .map(([k, v]) => `${k} ${fmt(v)}`);
      const line = `[${p.cursor + 1} ${p.step}] step ${p.trainStep}/${total || "?"}  loss ${fmt(m.loss)}${val.length ? `  ${val.join("  ")}` : ""}  ${fmt(m.tokens_per_s, 0)} tok/s  eta ${Number.isFinite(eta) ? `${eta.toFixed(0)}s` : "-"}`;
      if (tty) {
        out.write(`\r\x1b[2K${line}`);
        open = true;
        return;
      }
      const tenth = total > 0 ? Math.floor((10 * p.trainStep) / total) : 0;
      if (tenth !== lastTenth.get(key)) {
        lastTenth.set(key, tenth);
        out.write(`${line}\n`);
      }
    },
    end() {
      if (open) out.write("\n");
      open = false;
    },
  };
}

/** A fixed-width text table (the closing summary of `baton run` / `baton demo`). */
export function textTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}
