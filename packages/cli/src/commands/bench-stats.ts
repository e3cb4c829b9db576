// Small statistics for the benchmarks: the median and range of repeated runs, and ratios taken
// round by round (each pair measured side by side, under the same load).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/** Median, lowest and highest of a few runs, and the runs themselves. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

const round = (x: number) => +x.toPrecision(4);

export function spread(xs: readonly number[]): Spread {
  if (xs.length === 0) throw new Error("spread: no runs");
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
  return { median: round(median), min: round(s[0] as number), max: round(s.at(-1) as number), runs: xs.map(round) };
}

/** a[i] / b[i] for each round i, as a spread: a ratio of two runs made one after the other. */
export function ratios(a: readonly number[], b: readonly number[]): Spread {
  return spread(a.map((x, i) => x / (b[i] as number)));
}

/** The onnxruntime-node version the engine runs (its package.json), or "unknown". */
export function onnxruntimeVersion(): string {
  try {
    const engine = dirname(createRequire(import.meta.url).resolve("@baton/engine"));
    const pkg = JSON.parse(
      readFileSync(join(engine, "..", "node_modules", "onnxruntime-node", "package.json"), "utf8"),
    ) as { version?: string };
    return pkg.version ?? "unknown";
  } catch {
    return "unknown";
  }
}
