// Graph build (trace + gradient + lowering + encoding) and session creation for a GPT-shaped train
// step, without allocating parameters (so gpt2-124m fits beside other work). Median of 3.
// pnpm exec tsx packages/engine/bench/build-time.ts [preset] [--threads N]
import { adamw, planTrainStep } from "../src/index.ts";
import { Program } from "../src/runner.ts";
import { SHAPES, traceGpt } from "./gpt-shape.ts";

const args = process.argv.slice(2);
const threads = args.includes("--threads") ? Number(args[args.indexOf("--threads") + 1]) : 2;
const name = args.find((a) => !a.startsWith("--") && Number.isNaN(Number(a))) ?? "gpt2-124m";
const s = SHAPES[name];
if (!s) throw new Error(`unknown preset "${name}"; known: ${Object.keys(SHAPES).join(", ")}`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const rows: { traceMs: number; buildMs: number; sessionMs: number; nodes: number; bytes: number }[] = [];
for (let i = 0; i < 3; i++) {
  const t0 = performance.now();
  const { g, loss } = traceGpt(s);
  const traceMs = performance.now() - t0;
  const plan = planTrainStep({ graph: g, loss, optimizer: adamw({ weightDecay: 0.1 }), clipNorm: 1 });
  const t1 = performance.now();
  const prog = await Program.open(plan.main.model, { threads });
  const sessionMs = performance.now() - t1;
  await prog.dispose();
  rows.push({ traceMs, buildMs: plan.buildMs, sessionMs, nodes: plan.main.nodes, bytes: plan.main.model.length });
}
const pick = (k: "traceMs" | "buildMs" | "sessionMs") => +median(rows.map((r) => r[k])).toFixed(1);
const total = median(rows.map((r) => r.traceMs + r.buildMs + r.sessionMs));
console.log(
  JSON.stringify({
    bench: "build-time",
    preset: name,
    layers: s.L,
    width: s.C,
    block: s.T,
    threads,
    traceMs: pick("traceMs"),
    buildMs: pick("buildMs"),
    sessionMs: pick("sessionMs"),
    totalMs: +total.toFixed(1),
    onnxNodes: rows[0]?.nodes,
    modelBytes: rows[0]?.bytes,
  }),
);
