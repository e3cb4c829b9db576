// Train-step throughput of GPT-shaped models: ms/step (median of 5 after 2 warm-up steps), tokens/s,
// model FLOP/s against the MatMul ceiling, time outside onnxruntime, build and session times.
// pnpm exec tsx packages/engine/bench/train-step.ts [preset ...] [--threads N] [--steps N] [--dump DIR] [--unfused] [--parallel]
import { compileInference, Graph } from "../src/index.ts";
import { compileGpt, flopsPerToken, SHAPES } from "./gpt-shape.ts";

const args = process.argv.slice(2);
const opt = (k: string, d: string) => {
  const i = args.indexOf(k);
  return i >= 0 ? (args.splice(i, 2)[1] as string) : d;
};
const threads = Number(opt("--threads", "2"));
const steps = Number(opt("--steps", "5"));
const dump = opt("--dump", "");
/** Whether the flag was given; it is taken out of the argument list either way. */
const takeFlag = (name: string): boolean => {
  const i = args.indexOf(name);
  if (i >= 0) args.splice(i, 1);
  return i >= 0;
};
const parallel = takeFlag("--parallel");
const unfused = takeFlag("--unfused");
const presets = args.length ? args : ["nanogpt-baby"];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

// The MatMul ceiling (1024^3) is timed between train steps, so the fraction compares like with like
// on a shared, noisy machine.
const mg = new Graph();
const ceiling = await compileInference({
  graph: mg,
  outputs: { c: mg.input("a", [1024, 1024]).matmul(mg.input("b", [1024, 1024])) },
  threads,
});
const mfeeds = { a: new Float32Array(1024 * 1024).fill(0.5), b: new Float32Array(1024 * 1024).fill(0.25) };
/** [wall GFLOP/s, GFLOP per CPU-second]: the second stays meaningful when other work preempts us */
const ceilingGflops = async (): Promise<[number, number]> => {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await ceiling.run(mfeeds);
  const c = process.cpuUsage(c0);
  return [(2 * 1024 ** 3) / (performance.now() - t0) / 1e6, (2 * 1024 ** 3) / ((c.user + c.system) / 1000) / 1e6];
};
await ceilingGflops();

for (const name of presets) {
  const s = SHAPES[name];
  if (!s) throw new Error(`unknown preset "${name}"; known: ${Object.keys(SHAPES).join(", ")}`);
  const { step, traceMs } = await compileGpt(s, {
    threads,
    unfused,
    ...(dump ? { optimizedModelFilePath: `${dump}/${name}.optimized.onnx` } : {}),
    ...(parallel ? { executionMode: "parallel" as const, interOpThreads: 2 } : {}),
  });
  const N = s.B * s.T;
  const tokens = BigInt64Array.from({ length: N }, (_, i) => BigInt((i * 7) % s.V));
  const targets = BigInt64Array.from({ length: N }, (_, i) => BigInt((i * 7 + 1) % s.V));
  const walls: number[] = [];
  const outside: number[] = [];
  const cpu: number[] = [];
  const ceilings: number[] = [];
  const ceilingsCpu: number[] = [];
  let loss = 0;
  for (let t = 1; t <= steps + 2; t++) {
    const ort0 = step.ortMs;
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    loss = (await step.run({ tokens, targets }, { lr: 1e-3, step: t })).loss;
    const wall = performance.now() - t0;
    const c1 = process.cpuUsage(c0);
    if (t > 2) {
      for (let k = 0; k < 2; k++) {
        const [w, c] = await ceilingGflops();
        ceilings.push(w);
        ceilingsCpu.push(c);
      }
      cpu.push((c1.user + c1.system) / 1000);
      walls.push(wall);
      outside.push(wall - (step.ortMs - ort0));
    }
  }
  const ms = median(walls);
  const tokensPerSec = (N / ms) * 1000;
  console.log(
    JSON.stringify({
      bench: "train-step",
      preset: name,
      threads,
      fused: !unfused,
      executionMode: parallel ? "parallel" : "sequential",
      params: step.layout.count,
      msPerStep: +ms.toFixed(2),
      tokensPerSec: Math.round(tokensPerSec),
      modelGflops: +((tokensPerSec * flopsPerToken(s)) / 1e9).toFixed(1),
      ceilingGflops: +median(ceilings).toFixed(1),
      fractionOfCeiling: +((tokensPerSec * flopsPerToken(s)) / 1e9 / median(ceilings)).toFixed(3),
      cpuMsPerStep: +median(cpu).toFixed(2),
      // per CPU-second: robust to preemption on a shared machine (spin-waiting threads count too)
      modelGflopsPerCpuSec: +((N * flopsPerToken(s)) / median(cpu) / 1e6).toFixed(1),
      ceilingGflopsPerCpuSec: +median(ceilingsCpu).toFixed(1),
      fractionOfCeilingByCpu: +((N * flopsPerToken(s)) / median(cpu) / 1e6 / median(ceilingsCpu)).toFixed(3),
      outsideOrtMs: +median(outside).toFixed(3),
      outsideOrtFraction: +(median(outside) / ms).toFixed(4),
      traceMs: +traceMs.toFixed(1),
      buildMs: +step.timings.buildMs.toFixed(1),
      sessionMs: +step.timings.sessionMs.toFixed(1),
      initMs: +step.timings.initMs.toFixed(1),
      onnxNodes: step.timings.onnxNodes,
      modelBytes: step.timings.modelBytes,
      loss: +loss.toFixed(4),
    }),
  );
  await step.dispose();
}
