// Dropout-mask cost: the integer hash (src/random.ts) against the float64 sine hash it replaced
// (kept below as the reference), on one attention-probability shape, runs interleaved A/B.
// pnpm exec tsx packages/engine/bench/random.ts [--shape 16,6,256,256] [--rounds 7] [--threads 1]
import { cpuUsage } from "node:process";
import { numel } from "../src/dtype.ts";
import { Emitter } from "../src/lower.ts";
import { encodeModel } from "../src/onnx/model.ts";
import { rngKey } from "../src/random.ts";
import { Program } from "../src/runner.ts";
import { Graph } from "../src/tensor.ts";

const args = process.argv.slice(2);
const opt = (k: string, d: string) => (args.includes(k) ? (args[args.indexOf(k) + 1] as string) : d);
const shape = opt("--shape", "16,6,256,256").split(",").map(Number);
const rounds = Number(opt("--rounds", "7"));
const threads = Number(opt("--threads", "1"));
const n = numel(shape);

/** The previous generator: fract(sin(i * 12.9898 + s) * 43758.5453), twice, float64, then Cast and Less. */
function sineHashModel(): Uint8Array {
  const em: Emitter = new Emitter(undefined, () => em.declareInput("rng.seed", "float64", []));
  const f64 = (v: number) => em.constant(Float64Array.of(v), []);
  const iota = em.emit("Range", [f64(0), f64(n), f64(1)]);
  const s = em.emit("Add", [em.rngSeed(), f64(78.233)]);
  const fract = (x: string) => em.emit("Sub", [x, em.emit("Floor", [x])]);
  const round = (x: string) =>
    fract(em.emit("Mul", [em.emit("Sin", [em.emit("Add", [em.emit("Mul", [x, f64(12.9898)]), s])]), f64(43758.5453)]));
  const h2 = round(em.emit("Add", [em.emit("Mul", [round(iota), f64(1e4)]), iota]));
  const u = em.emit("Cast", [em.emit("Reshape", [h2, em.ints(shape)])], { to: 1 });
  em.nameOutput(em.emit("Less", [u, em.constant(Float32Array.of(0.9), [])]), "keep");
  return encodeModel(em.graph("sine", [{ name: "keep", dtype: "bool", dims: shape }]));
}

function intHashModel(): Uint8Array {
  const g = new Graph();
  const keep = g.bernoulli(shape, 0.9);
  const em: Emitter = new Emitter(undefined, () => em.declareInput("rng.seed", "int64", []));
  em.nameOutput(em.lower([keep])[0] as string, "keep");
  return encodeModel(em.graph("int", [{ name: "keep", dtype: "bool", dims: shape }]));
}

const variants = [
  {
    name: "sine-f64",
    program: await Program.open(sineHashModel(), { threads }),
    seed: (r: number) => Program.tensor({ data: Float64Array.of(r * 17.3), dims: [] }),
  },
  {
    name: "int32-hash",
    program: await Program.open(intHashModel(), { threads }),
    seed: (r: number) => Program.tensor({ data: BigInt64Array.of(rngKey(1, r)), dims: [] }),
  },
];
const out = Program.tensor({ data: new Uint8Array(n), dims: shape });
const times = new Map(variants.map((v) => [v.name, { wall: [] as number[], cpu: [] as number[] }]));
for (let r = 0; r <= rounds; r++) {
  for (const v of variants) {
    const c0 = cpuUsage();
    const t0 = performance.now();
    await v.program.run({ "rng.seed": v.seed(r) }, { keep: out });
    const wall = performance.now() - t0;
    const c = cpuUsage(c0);
    if (r > 0) {
      times.get(v.name)?.wall.push(wall);
      times.get(v.name)?.cpu.push((c.user + c.system) / 1000);
    }
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const load = (await import("node:os")).loadavg()[0];
for (const [name, t] of times) {
  const wall = median(t.wall);
  const cpu = median(t.cpu);
  console.log(
    JSON.stringify({
      bench: "random",
      variant: name,
      shape,
      elements: n,
      threads,
      msWall: +wall.toFixed(1),
      msCpu: +cpu.toFixed(1),
      nsCpuPerElement: +((cpu * 1e6) / n).toFixed(2),
      rounds,
      loadAvg1m: load,
    }),
  );
}
