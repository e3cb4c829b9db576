// Flushing denormals to zero (SessionConfig.denormalAsZero) against keeping them, on a GPT train
// step and on a causal softmax alone. onnxruntime sets the calling thread's mode once per process,
// from the first session, so each variant runs in its own child process; rounds alternate the two.
// pnpm exec tsx packages/engine/bench/denormals.ts [preset] [--rounds N] [--steps N] [--threads N]
import { execFileSync } from "node:child_process";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { compileInference, Graph } from "../src/index.ts";
import { compileGpt, SHAPES } from "./gpt-shape.ts";

const args = process.argv.slice(2);
const opt = (k: string, d: string) => (args.includes(k) ? (args[args.indexOf(k) + 1] as string) : d);
const name = args.find((a) => !a.startsWith("--") && SHAPES[a]) ?? "nanogpt-baby";
const threads = Number(opt("--threads", "2"));
const steps = Number(opt("--steps", "10"));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

if (args.includes("--child")) {
  const denormalAsZero = opt("--child", "flush") === "flush";
  const s = SHAPES[name]!;
  // the causal softmax of one attention layer: half of every row masked by -1e9, as in training
  const shape = [s.B, s.H, s.T, s.T];
  const x = new Float32Array(shape.reduce((a, b) => a * b, 1)).map((_, i) =>
    i % s.T > Math.floor(i / s.T) % s.T ? -1e9 : Math.sin(i),
  );
  const g = new Graph();
  const softmax = await compileInference({
    graph: g,
    outputs: { y: g.input("x", shape).softmax(-1) },
    threads,
    denormalAsZero,
  });
  const sm: number[] = [];
  for (let r = 0; r < 60; r++) {
    const t0 = performance.now();
    await softmax.run({ x });
    if (r >= 10) sm.push(performance.now() - t0);
  }
  const { step } = await compileGpt(s, { threads, denormalAsZero });
  const N = s.B * s.T;
  const tokens = BigInt64Array.from({ length: N }, (_, i) => BigInt((i * 7) % s.V));
  const targets = BigInt64Array.from({ length: N }, (_, i) => BigInt((i * 7 + 1) % s.V));
  const ms: number[] = [];
  let loss = 0;
  for (let t = 1; t <= steps + 2; t++) {
    const t0 = performance.now();
    loss = (await step.run({ tokens, targets }, { lr: 1e-3, step: t })).loss;
    if (t > 2) ms.push(performance.now() - t0);
  }
  console.log(JSON.stringify({ msPerStep: median(ms), softmaxMs: median(sm), loss }));
  process.exit(0);
}

const rounds = Number(opt("--rounds", "5"));
const self = fileURLToPath(import.meta.url);
const runs: Record<"flush" | "keep", { msPerStep: number; softmaxMs: number; loss: number }[]> = {
  flush: [],
  keep: [],
};
const loads: number[] = [];
for (let r = 0; r < rounds; r++) {
  for (const v of ["flush", "keep"] as const) {
    const out = execFileSync(
      process.execPath,
      [...process.execArgv, self, name, "--child", v, "--threads", String(threads), "--steps", String(steps)],
      { encoding: "utf8" },
    );
    runs[v].push(JSON.parse(out.trim().split("\n").at(-1) as string));
  }
  loads.push(+(loadavg()[0] as number).toFixed(2));
}
const ratio = runs.keep.map((k, i) => k.msPerStep / (runs.flush[i] as { msPerStep: number }).msPerStep);
for (const v of ["flush", "keep"] as const) {
  const x = runs[v];
  console.log(
    JSON.stringify({
      bench: "denormals",
      preset: name,
      threads,
      steps,
      variant: v,
      msPerStep: +median(x.map((r) => r.msPerStep)).toFixed(2),
      runs: x.map((r) => +r.msPerStep.toFixed(2)),
      softmaxMs: +median(x.map((r) => r.softmaxMs)).toFixed(3),
      loss: x[0]?.loss,
    }),
  );
}
console.log(
  JSON.stringify({
    bench: "denormals",
    keepOverFlush: +median(ratio).toFixed(3),
    perRound: ratio.map((x) => +x.toFixed(3)),
    loadAvg1m: loads,
  }),
);
