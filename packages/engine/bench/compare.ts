// A/B of train-step variants on one preset, steps interleaved (A, B, A, B, ...) so that a shared,
// noisy machine slows both alike; prints each variant's median ms/step and the ratio to the first.
// pnpm exec tsx packages/engine/bench/compare.ts [preset] [--rounds N] [--variants fused,unfused,threads1,parallel] [--batch B] [--dropout P]
import type { TrainStep } from "../src/index.ts";
import { compileGpt, SHAPES } from "./gpt-shape.ts";

const args = process.argv.slice(2);
const name = args.find((a) => !a.startsWith("--") && SHAPES[a]) ?? "nanogpt-baby";
const rounds = args.includes("--rounds") ? Number(args[args.indexOf("--rounds") + 1]) : 7;
const wanted = (
  args.includes("--variants") ? (args[args.indexOf("--variants") + 1] as string) : "fused,unfused,threads1,parallel"
).split(",");
const preset = SHAPES[name];
if (!preset) throw new Error(`unknown preset ${name}`);
const s = args.includes("--batch") ? { ...preset, B: Number(args[args.indexOf("--batch") + 1]) } : preset;
const dropout = args.includes("--dropout") ? Number(args[args.indexOf("--dropout") + 1]) : 0;
const VARIANTS: Record<string, Parameters<typeof compileGpt>[1]> = {
  fused: { threads: 2 },
  unfused: { threads: 2, unfused: true },
  threads1: { threads: 1 },
  parallel: { threads: 2, executionMode: "parallel", interOpThreads: 2 },
  nospin: { threads: 2, spinning: false },
  arena1: { threads: 1, memoryArena: true, memoryPattern: true },
  lean1: { threads: 1, memoryArena: false, memoryPattern: false },
  arena2: { threads: 2, memoryArena: true, memoryPattern: true },
  lean2: { threads: 2, memoryArena: false, memoryPattern: false },
  noarena1: { threads: 1, memoryArena: false, memoryPattern: true },
};
const steps: [string, TrainStep][] = [];
for (const v of wanted) {
  const cfg = VARIANTS[v];
  if (!cfg) throw new Error(`unknown variant ${v}; known: ${Object.keys(VARIANTS).join(", ")}`);
  steps.push([v, (await compileGpt(s, { ...cfg, dropout })).step]);
}
const N = s.B * s.T;
const tokens = BigInt64Array.from({ length: N }, (_, i) => BigInt((i * 7) % s.V));
const targets = BigInt64Array.from({ length: N }, (_, i) => BigInt((i * 7 + 1) % s.V));
const times = new Map<string, number[]>(steps.map(([v]) => [v, []]));
for (let r = 0; r < rounds + 1; r++) {
  for (const [v, step] of steps) {
    const t0 = performance.now();
    await step.run({ tokens, targets }, { lr: 1e-3, step: r + 1 });
    if (r > 0) times.get(v)?.push(performance.now() - t0);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const base = median(times.get(wanted[0] as string) ?? []);
const load = (await import("node:os")).loadavg()[0];
for (const [v, ts] of times) {
  console.log(
    JSON.stringify({
      bench: "compare",
      preset: name,
      B: s.B,
      dropout,
      variant: v,
      msPerStep: +median(ts).toFixed(2),
      ratioToFirst: +(median(ts) / base).toFixed(3),
      rounds,
      loadAvg1m: load,
    }),
  );
}
