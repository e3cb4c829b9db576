// Where a train step's time goes, per onnxruntime op type (from its profiler), for one preset.
// pnpm exec tsx packages/engine/bench/profile.ts nanogpt-baby [--threads N] [--top N] [--batch B] [--dropout P] [--nodes]
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { adamw, compileTrainStep } from "../src/index.ts";
import { SHAPES, traceGpt } from "./gpt-shape.ts";

const args = process.argv.slice(2);
const name = args[0] ?? "nanogpt-baby";
const threads = args.includes("--threads") ? Number(args[args.indexOf("--threads") + 1]) : 2;
const top = Number(args.includes("--top") ? args[args.indexOf("--top") + 1] : 25);
const preset = SHAPES[name];
if (!preset) throw new Error(`unknown preset ${name}`);
const s = args.includes("--batch") ? { ...preset, B: Number(args[args.indexOf("--batch") + 1]) } : preset;
// The first run pays one-off costs (first touch of every preallocated buffer: one [P] optimizer Add
// read 5.8 ms there against 0.14 ms after), so it is run but not counted.
const RUNS = 3;
const dir = mkdtempSync(join(tmpdir(), "baton-profile-"));
const { g, loss } = traceGpt(s, {
  dropout: args.includes("--dropout") ? Number(args[args.indexOf("--dropout") + 1]) : 0,
});
const step = await compileTrainStep({
  graph: g,
  loss,
  optimizer: adamw({ weightDecay: 0.1 }),
  clipNorm: 1,
  threads,
  profileFilePrefix: join(dir, "p"),
});
const N = s.B * s.T;
const tokens = BigInt64Array.from({ length: N }, (_, i) => BigInt((i * 7) % s.V));
for (let t = 1; t <= RUNS + 1; t++) await step.run({ tokens, targets: tokens }, { lr: 1e-3, step: t });
step.endProfiling();
const file = readdirSync(dir).find((f) => f.endsWith(".json"));
if (!file) throw new Error("no profile written");
const events = JSON.parse(readFileSync(join(dir, file), "utf8")) as {
  cat: string;
  name: string;
  ts: number;
  dur: number;
  args?: { op_name?: string; output_type_shape?: unknown };
}[];
const runs = events.filter((e) => e.cat === "Session" && e.name === "model_run").sort((a, b) => a.ts - b.ts);
if (runs.length !== RUNS + 1)
  throw new Error(`expected ${RUNS + 1} model_run events in the profile, found ${runs.length}`);
const counted = (runs[1] as { ts: number }).ts; // events of the warm-up run end before this
const byNode = new Map<string, { us: number; shape: string }>();
const byOp = new Map<string, { us: number; n: number }>();
let total = 0;
for (const e of events) {
  if (e.cat !== "Node" || !e.name.endsWith("_kernel_time") || e.ts < counted) continue;
  const op = e.args?.op_name ?? "?";
  const v = byOp.get(op) ?? { us: 0, n: 0 };
  v.us += e.dur / RUNS;
  v.n += 1 / RUNS;
  byOp.set(op, v);
  const n = byNode.get(e.name) ?? { us: 0, shape: JSON.stringify(e.args?.output_type_shape ?? "") };
  n.us += e.dur / RUNS;
  byNode.set(e.name, n);
  total += e.dur / RUNS;
}
const rows = [...byOp].sort((a, b) => b[1].us - a[1].us).slice(0, top);
console.log(JSON.stringify({ bench: "profile", preset: name, threads, kernelMsPerStep: +(total / 1000).toFixed(2) }));
for (const [op, v] of rows)
  console.log(
    `${op.padEnd(24)} ${(v.us / 1000).toFixed(2).padStart(8)} ms ${Math.round(v.n).toString().padStart(5)} nodes ${((100 * v.us) / total).toFixed(1).padStart(5)}%`,
  );
if (args.includes("--nodes")) {
  for (const [n, v] of [...byNode].sort((a, b) => b[1].us - a[1].us).slice(0, top))
    console.log(`${n.replace("_kernel_time", "").padEnd(40)} ${(v.us / 1000).toFixed(2).padStart(7)} ms ${v.shape}`);
}
rmSync(dir, { recursive: true });
