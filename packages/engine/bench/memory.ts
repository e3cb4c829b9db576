// Peak resident memory of a train step with nanoGPT's dropout, for one set of session options
// (the peak is per process: run one variant per process and compare the lines).
// pnpm exec tsx packages/engine/bench/memory.ts nanogpt-shakespeare-char [--batch 16] [--dropout 0.2]
//   [--threads 1] [--arena | --no-arena] [--mem-pattern | --no-mem-pattern] [--steps 2]
// Without a memory flag the engine's default applies (compile.ts memoryOptions: lean from 1 GiB).
import { resourceUsage } from "node:process";
import { compileGpt, SHAPES } from "./gpt-shape.ts";

const args = process.argv.slice(2);
const opt = (k: string, d: string) => (args.includes(k) ? (args[args.indexOf(k) + 1] as string) : d);
const name = args[0] ?? "nanogpt-shakespeare-char";
const preset = SHAPES[name];
if (!preset) throw new Error(`unknown preset ${name}; known: ${Object.keys(SHAPES).join(", ")}`);
const s = { ...preset, B: Number(opt("--batch", String(preset.B))) };
const dropout = Number(opt("--dropout", "0.2"));
const steps = Number(opt("--steps", "2"));
const flag = (on: string, off: string) => (args.includes(on) ? true : args.includes(off) ? false : undefined);
const session = {
  threads: Number(opt("--threads", "1")),
  memoryArena: flag("--arena", "--no-arena"),
  memoryPattern: flag("--mem-pattern", "--no-mem-pattern"),
};
const mb = () => Math.round(resourceUsage().maxRSS / 1024);
const { step } = await compileGpt(s, { ...session, dropout });
const afterCompile = mb();
const N = s.B * s.T;
const tokens = BigInt64Array.from({ length: N }, (_, i) => BigInt((i * 7) % s.V));
const targets = BigInt64Array.from({ length: N }, (_, i) => BigInt((i * 7 + 1) % s.V));
const cpu0 = process.cpuUsage();
for (let t = 1; t <= steps; t++) await step.run({ tokens, targets }, { lr: 1e-3, step: t });
const cpu = process.cpuUsage(cpu0);
console.log(
  JSON.stringify({
    bench: "memory",
    preset: name,
    B: s.B,
    dropout,
    ...session,
    memory: session.memoryArena === undefined && session.memoryPattern === undefined ? "default" : "explicit",
    steps,
    peakRssMB: mb(),
    rssAfterCompileMB: afterCompile,
    cpuSPerStep: +((cpu.user + cpu.system) / 1e6 / steps).toFixed(2),
  }),
);
