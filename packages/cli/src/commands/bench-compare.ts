// `baton bench compare <preset>`: Baton's pretraining and PyTorch's nanoGPT-equivalent loop
// (packages/model/src/trainer/baseline/nanogpt_equivalent.py) on the same model, data and
// hyper-parameters, run alternately round after round in one invocation, so both sides see the same
// machine and load. Each run is one `bench pretrain` measurement (bench-pretrain.ts) or one run of
// the script; this file only maps the preset onto the script's arguments, orders the runs, and
// summarises them: medians and ranges, per-round ratios, peak RSS, and the loss of each side after
// the same number of steps.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { NANOGPT_EQUIVALENT_SCRIPT, type PreparedPretraining } from "@baton/model";
import { CliError, integerFlag, numberFlag, parseCommandArgs } from "../args.ts";
import { type PretrainBenchResult, pretrainBench } from "./bench-pretrain.ts";
import { onnxruntimeVersion, ratios, type Spread, spread } from "./bench-stats.ts";
import { HYPER_FLAGS, prepareFromFlags } from "./train.ts";

/** The corpus of the nanoGPT runs, in the repository: the default --data. */
export const DEFAULT_DATA = fileURLToPath(
  new URL("../../../../tests/fixtures/data/tinyshakespeare.txt", import.meta.url),
);
const DEFAULT_ITERS = 200;
const DEFAULT_EVAL_BATCHES = 20;

export const COMPARE_USAGE = `usage: baton bench compare <preset> [--iters ${DEFAULT_ITERS}] [--rounds 3] [--threads 1,2] [--torch-threads 1,2] [--json] [training options]

Trains the preset with Baton and with PyTorch's nanoGPT-equivalent loop
(packages/model/src/trainer/baseline/nanogpt_equivalent.py) on the same text, model (the same
vocabulary size, so the same parameter count) and hyper-parameters, alternately: each round runs
Baton and PyTorch at each thread count, one at a time. Reports, for each side and thread count, the
median and range of ms/iter (median step of a run, evaluation and the first two steps excluded) and
tokens/s, peak RSS; the ratio of Baton's best to PyTorch's best, and at equal threads, round by round;
threads and BLAS of each side; the machine, Node and the load; and the loss of each side after the
same steps: the whole validation split, every token once, from round 1 (and --eval-batches batches
from every run). Character-level text only (the script's tokenizer).

  --data FILE          one text file (default: the repository's tests/fixtures/data/tinyshakespeare.txt)
  --iters N            steps per run (default ${DEFAULT_ITERS}); the lr decays over them on both sides
  --eval-batches N     batches of the end-of-run estimate (default ${DEFAULT_EVAL_BATCHES})
  --rounds N           rounds (default 3)
  --threads L          Baton's onnxruntime intra-op threads, comma-separated (default 1,2)
  --torch-threads L    torch.set_num_threads values, comma-separated (default 1,2)
  --python PATH        the python with torch (default /usr/bin/python3); without torch only Baton's
                       side is measured, and the report says why
  --loss-tolerance X   the largest whole-split loss difference called equal (default 0.05 nats)
  --json               print one JSON object
  and the training options of \`baton bench pretrain\` (--batch-size, --lr, --seed, ...)`;

const { threads: _threads, preset: _preset, iters: _iters, "eval-batches": _evalBatches, ...TRAIN_FLAGS } = HYPER_FLAGS;
const FLAGS = {
  ...TRAIN_FLAGS,
  iters: { type: "string" },
  "eval-batches": { type: "string" },
  rounds: { type: "string" },
  threads: { type: "string" },
  "torch-threads": { type: "string" },
  python: { type: "string" },
  "loss-tolerance": { type: "string" },
  json: { type: "boolean" },
} as const;

export interface CompareArgs {
  preset: string;
  data: string;
  iters: number;
  evalBatches: number;
  rounds: number;
  batonThreads: number[];
  torchThreads: number[];
  python: string;
  lossTolerance: number;
  json: boolean;
  help: boolean;
  /** the values handed to prepareFromFlags (the training options as given, plus preset and data) */
  train: Record<string, unknown>;
}

/** "1,2" -> [1, 2]: distinct integers >= 1, in the order given. */
export function threadList(name: string, value: string | undefined, fallback: number[]): number[] {
  if (value === undefined) return fallback;
  const list = value.split(",").map((t) => integerFlag(name, t.trim(), 1, 1));
  if (new Set(list).size !== list.length) throw new CliError(`--${name} lists a thread count twice: "${value}"`);
  return list;
}

export function parseCompareArgs(argv: string[]): CompareArgs {
  const { values: v, positionals } = parseCommandArgs(argv, FLAGS, COMPARE_USAGE);
  const help = !!v.help;
  if (!help && positionals.length !== 1)
    throw new CliError(
      `bench compare takes one preset name, got ${positionals.length ? positionals.join(" ") : "none"}\n\n${COMPARE_USAGE}`,
    );
  if (v.data && v.data.length > 1)
    throw new CliError("--data: bench compare takes one text file (the PyTorch script reads one)");
  if (v.val) throw new CliError("--val: bench compare splits --data 90/10 on both sides, as nanoGPT does");
  if (v.tokenizer !== undefined && v.tokenizer !== "char")
    throw new CliError(`--tokenizer: bench compare is character-level on both sides, got "${v.tokenizer}"`);
  const iters = integerFlag("iters", v.iters, DEFAULT_ITERS, 3);
  const evalBatches = integerFlag("eval-batches", v["eval-batches"], DEFAULT_EVAL_BATCHES, 1);
  const data = resolve(v.data?.[0] ?? DEFAULT_DATA);
  const {
    rounds: _r,
    threads: _t,
    "torch-threads": _tt,
    python: _p,
    "loss-tolerance": _l,
    json: _j,
    help: _h,
    ...train
  } = v;
  return {
    preset: positionals[0] ?? "",
    data,
    iters,
    evalBatches,
    rounds: integerFlag("rounds", v.rounds, 3, 1),
    batonThreads: threadList("threads", v.threads, [1, 2]),
    torchThreads: threadList("torch-threads", v["torch-threads"], [1, 2]),
    python: v.python ?? "/usr/bin/python3",
    lossTolerance: numberFlag("loss-tolerance", v["loss-tolerance"], 0.05, 0),
    json: !!v.json,
    help,
    train: {
      ...train,
      preset: positionals[0],
      data: [data],
      tokenizer: "char",
      iters: String(iters),
      "eval-batches": String(evalBatches),
    },
  };
}

/** The preset as the script's key=value arguments: the same model, data, schedule and optimizer. */
export function torchArgs(
  prep: Pick<PreparedPretraining, "model" | "hyper" | "options">,
  o: { data: string; threads: number; whole: boolean },
): string[] {
  const { model: m, hyper: h } = prep;
  if (h.accumSteps !== 1)
    throw new CliError(
      `bench compare: the PyTorch script takes no gradient accumulation; this preset accumulates ${h.accumSteps} micro-batches (give --accum 1)`,
    );
  if (!m.tieWordEmbeddings)
    throw new CliError("bench compare: the PyTorch script ties the embeddings; this model does not");
  const args: Record<string, string | number> = {
    data: o.data,
    n_layer: m.nLayer,
    n_head: m.nHead,
    n_embd: m.nEmbd,
    block_size: m.blockSize,
    vocab: m.vocabSize,
    bias: m.bias ? 1 : 0,
    dropout: m.dropout,
    batch_size: h.batchSize,
    max_iters: h.iters,
    lr: h.lr,
    min_lr: h.minLr,
    warmup: h.warmupIters,
    lr_decay_iters: h.decayIters,
    beta1: h.beta1,
    beta2: h.beta2,
    weight_decay: h.weightDecay,
    grad_clip: h.clipNorm,
    eval_interval: 0,
    eval_iters: h.evalBatches,
    seed: prep.options.seed ?? 1337,
    threads: o.threads,
    whole: o.whole ? 1 : 0,
  };
  return Object.entries(args).map(([k, v]) => `${k}=${v}`);
}

/** What nanogpt_equivalent.py prints (the fields read here). */
export interface TorchRun {
  torch: string;
  blas: string;
  blasLibrary: string[];
  mkldnn: boolean;
  threads: number;
  flash: boolean;
  params: number;
  iters: number;
  msPerIter: number;
  tokensPerSec: number;
  trainLoss: number;
  valLoss: number;
  valLossWholeSplit: number | null;
  lastLoss: number;
  peakRssMb: number;
}

/** Runs the script to the end; its last stdout line is the result. */
function runTorch(python: string, args: string[]): Promise<TorchRun> {
  return new Promise((done, fail) => {
    const child = spawn(python, [NANOGPT_EQUIVALENT_SCRIPT, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString()));
    child.stderr.on("data", (b: Buffer) => (err = (err + b.toString()).slice(-4000)));
    child.once("error", fail);
    child.once("exit", (code, signal) => {
      const last = out.trim().split("\n").at(-1) ?? "";
      if (code === 0 && last.startsWith("{")) return done(JSON.parse(last) as TorchRun);
      fail(
        new Error(
          `${python} ${NANOGPT_EQUIVALENT_SCRIPT} ${args.join(" ")}: ${signal ?? `exit code ${code}`}: ${err.trim().split("\n").at(-1) ?? ""}`,
        ),
      );
    });
  });
}

/** Null when `python` imports torch, else why not (the last line of its error). */
export function torchUnavailable(python: string): Promise<string | null> {
  return new Promise((done) => {
    const child = spawn(python, ["-c", "import torch"], { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (b: Buffer) => (err += b.toString()));
    child.once("error", (e) => done(`${python}: ${e.message}`));
    child.once("exit", (code) =>
      done(
        code === 0 ? null : `${python} cannot import torch: ${err.trim().split("\n").at(-1) ?? `exit code ${code}`}`,
      ),
    );
  });
}

/** One run of one side, as the summary reads it. */
export interface SideRun {
  round: number;
  threads: number;
  msPerIter: number;
  tokensPerSec: number;
  trainLoss: number;
  valLoss: number;
  valLossWholeSplit: number | null;
  peakRssMb: number;
  loadAvg: number;
}

export interface SideSummary {
  byThreads: { threads: number; msPerIter: Spread; tokensPerSec: Spread; peakRssMb: number }[];
  /** the thread count with the highest median tokens/s */
  best: { threads: number; tokensPerSec: number; msPerIter: number };
  peakRssMb: number;
  loss: { valLossWholeSplit: number | null; valLoss: number; trainLoss: number };
}

/** Medians and ranges by thread count, the best one, peak RSS and the losses of one side's runs. */
export function summarizeSide(runs: readonly SideRun[]): SideSummary {
  if (runs.length === 0) throw new Error("summarizeSide: no runs");
  const threads = [...new Set(runs.map((r) => r.threads))];
  const byThreads = threads.map((t) => {
    const of = runs.filter((r) => r.threads === t);
    return {
      threads: t,
      msPerIter: spread(of.map((r) => r.msPerIter)),
      tokensPerSec: spread(of.map((r) => r.tokensPerSec)),
      peakRssMb: Math.max(...of.map((r) => r.peakRssMb)),
    };
  });
  const best = byThreads.reduce((a, b) => (b.tokensPerSec.median > a.tokensPerSec.median ? b : a));
  const whole = runs.find((r) => r.valLossWholeSplit !== null)?.valLossWholeSplit ?? null;
  return {
    byThreads,
    best: { threads: best.threads, tokensPerSec: best.tokensPerSec.median, msPerIter: best.msPerIter.median },
    peakRssMb: Math.max(...runs.map((r) => r.peakRssMb)),
    loss: {
      valLossWholeSplit: whole,
      valLoss: spread(runs.map((r) => r.valLoss)).median,
      trainLoss: spread(runs.map((r) => r.trainLoss)).median,
    },
  };
}

const tokensOf = (runs: readonly SideRun[], threads: number) =>
  runs
    .filter((r) => r.threads === threads)
    .sort((a, b) => a.round - b.round)
    .map((r) => r.tokensPerSec);

/** Baton / PyTorch tokens/s round by round: each side's best thread count, and at each shared one. */
export function compareSides(baton: readonly SideRun[], torch: readonly SideRun[]) {
  const [b, t] = [summarizeSide(baton), summarizeSide(torch)];
  const shared = b.byThreads.map((x) => x.threads).filter((n) => t.byThreads.some((y) => y.threads === n));
  return {
    best: {
      batonThreads: b.best.threads,
      torchThreads: t.best.threads,
      ...ratios(tokensOf(baton, b.best.threads), tokensOf(torch, t.best.threads)),
    },
    sameThreads: shared.map((n) => ({ threads: n, ...ratios(tokensOf(baton, n), tokensOf(torch, n)) })),
  };
}

/** Whether the two sides ended at the same loss: the whole-split losses within `tolerance` nats. */
export function lossCheck(baton: number | null, torch: number | null, tolerance: number) {
  if (baton === null || torch === null)
    return { measure: "valLossWholeSplit", baton, torch, diff: null, tolerance, equal: null };
  const diff = +(baton - torch).toFixed(4);
  return { measure: "valLossWholeSplit", baton, torch, diff, tolerance, equal: Math.abs(diff) <= tolerance };
}

/** The order of one round's runs: at each thread count Baton then PyTorch, so the pairs sit side by side. */
export function roundOrder(
  batonThreads: readonly number[],
  torchThreads: readonly number[] | null,
): { side: "baton" | "torch"; threads: number }[] {
  const all = [...new Set([...batonThreads, ...(torchThreads ?? [])])].sort((a, b) => a - b);
  return all.flatMap((threads) => [
    ...(batonThreads.includes(threads) ? [{ side: "baton" as const, threads }] : []),
    ...(torchThreads?.includes(threads) ? [{ side: "torch" as const, threads }] : []),
  ]);
}

const fromBaton = (round: number, r: PretrainBenchResult, load: number): SideRun => ({
  round,
  threads: r.threads,
  msPerIter: r.msPerIter,
  tokensPerSec: r.tokensPerSec,
  trainLoss: r.trainLoss,
  valLoss: r.valLoss,
  valLossWholeSplit: r.valLossWholeSplit ?? null,
  peakRssMb: r.peakRssMb,
  loadAvg: load,
});

const fromTorch = (round: number, r: TorchRun, load: number): SideRun => ({
  round,
  threads: r.threads,
  msPerIter: r.msPerIter,
  tokensPerSec: r.tokensPerSec,
  trainLoss: r.trainLoss,
  valLoss: r.valLoss,
  valLossWholeSplit: r.valLossWholeSplit,
  peakRssMb: r.peakRssMb,
  loadAvg: load,
});

export async function runCompareBench(argv: string[]): Promise<number> {
  const a = parseCompareArgs(argv);
  if (a.help) {
    console.log(COMPARE_USAGE);
    return 0;
  }
  if (!existsSync(a.data)) throw new CliError(`--data: no such file ${a.data}`);
  const workDir = join(tmpdir(), `baton-bench-compare-${process.pid}`);
  const load0 = loadavg();
  const prep = await prepareFromFlags(a.train, COMPARE_USAGE, workDir);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  try {
    const unavailable = await torchUnavailable(a.python);
    if (unavailable) log(`bench compare: ${unavailable}; measuring Baton only`);
    const order = roundOrder(a.batonThreads, unavailable ? null : a.torchThreads);
    const baton: SideRun[] = [];
    const torch: SideRun[] = [];
    let torchInfo: TorchRun | null = null;
    let batonParams = 0;
    for (let round = 1; round <= a.rounds; round++) {
      const wholeDone = { baton: false, torch: false };
      for (const { side, threads } of order) {
        const whole = round === 1 && !wholeDone[side];
        wholeDone[side] = true;
        if (side === "baton") {
          const r = await pretrainBench(prep, { threads, wholeVal: whole });
          batonParams = r.params;
          baton.push(fromBaton(round, r, loadavg()[0] as number));
          log(
            `round ${round}/${a.rounds}  baton ${threads} thr  ${r.msPerIter.toFixed(2)} ms/iter  ${r.tokensPerSec} tokens/s  val ${r.valLoss}${whole ? ` whole ${r.valLossWholeSplit}` : ""}  load ${loadavg()[0]!.toFixed(2)}`,
          );
        } else {
          const r = await runTorch(a.python, torchArgs(prep, { data: a.data, threads, whole }));
          torchInfo ??= r;
          torch.push(fromTorch(round, r, loadavg()[0] as number));
          log(
            `round ${round}/${a.rounds}  torch ${threads} thr  ${r.msPerIter.toFixed(2)} ms/iter  ${r.tokensPerSec} tokens/s  val ${r.valLoss}${whole ? ` whole ${r.valLossWholeSplit}` : ""}  load ${loadavg()[0]!.toFixed(2)}`,
          );
        }
      }
    }
    const batonSide = summarizeSide(baton);
    const torchSide = torchInfo && torch.length ? summarizeSide(torch) : null;
    const r2 = (x: number) => +x.toFixed(2);
    const m = prep.model;
    const h = prep.hyper;
    const report = {
      bench: "compare",
      preset: prep.preset.name,
      data: a.data,
      iters: h.iters,
      rounds: a.rounds,
      seed: prep.options.seed ?? 1337,
      model: {
        nLayer: m.nLayer,
        nHead: m.nHead,
        nEmbd: m.nEmbd,
        blockSize: m.blockSize,
        vocabSize: m.vocabSize,
        bias: m.bias,
        dropout: m.dropout,
      },
      hyper: {
        batchSize: h.batchSize,
        lr: h.lr,
        minLr: h.minLr,
        warmupIters: h.warmupIters,
        decayIters: h.decayIters,
        beta1: h.beta1,
        beta2: h.beta2,
        weightDecay: h.weightDecay,
        clipNorm: h.clipNorm,
        evalBatches: h.evalBatches,
      },
      baton: {
        blas: `MLAS (onnxruntime-node ${onnxruntimeVersion()})`,
        threads: a.batonThreads,
        params: batonParams,
        ...batonSide,
        runs: baton,
      },
      torch:
        torchSide && torchInfo
          ? {
              available: true as const,
              python: a.python,
              torch: torchInfo.torch,
              blas: torchInfo.blas,
              blasLibrary: torchInfo.blasLibrary,
              mkldnn: torchInfo.mkldnn,
              flash: torchInfo.flash,
              threads: a.torchThreads,
              params: torchInfo.params,
              ...torchSide,
              runs: torch,
            }
          : { available: false as const, python: a.python, reason: unavailable ?? "no runs" },
      ratios: torchSide ? compareSides(baton, torch) : null,
      loss: lossCheck(batonSide.loss.valLossWholeSplit, torchSide?.loss.valLossWholeSplit ?? null, a.lossTolerance),
      machine: {
        cpu: cpus()[0]?.model ?? "unknown",
        cores: cpus().length,
        node: process.version,
        loadAvgStart: load0.map(r2),
        loadAvgEnd: loadavg().map(r2),
      },
    };
    if (a.json) console.log(JSON.stringify(report));
    else console.log(formatCompare(report));
    return 0;
  } finally {
    prep.corpus.close();
    await rm(workDir, { recursive: true, force: true });
  }
}

export interface CompareReport {
  preset: string;
  iters: number;
  rounds: number;
  baton: { blas: string } & SideSummary;
  torch:
    | ({ available: true; torch: string; blas: string; blasLibrary: string[]; params: number } & SideSummary)
    | { available: false; reason: string };
  ratios: ReturnType<typeof compareSides> | null;
  loss: ReturnType<typeof lossCheck>;
  machine: { cpu: string; cores: number; node: string; loadAvgStart: number[]; loadAvgEnd: number[] };
}

const range = (s: Spread, digits: number) =>
  `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}-${s.max.toFixed(digits)})`;

/** The readable table: one row per side and thread count, then the ratios, losses, BLAS and machine. */
export function formatCompare(r: CompareReport): string {
  const rows: string[][] = [["side", "threads", "ms/iter median (range)", "tokens/s median (range)", "peak RSS MB"]];
  const side = (name: string, s: SideSummary) => {
    for (const t of s.byThreads)
      rows.push([name, String(t.threads), range(t.msPerIter, 2), range(t.tokensPerSec, 0), String(t.peakRssMb)]);
  };
  side("baton", r.baton);
  if (r.torch.available) side("pytorch", r.torch);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const lines = [
    `bench compare ${r.preset}: ${r.iters} iterations a run, ${r.rounds} round(s), alternating`,
    `machine: ${r.machine.cpu} x ${r.machine.cores}, Node ${r.machine.node}, load ${r.machine.loadAvgStart.join(" ")} -> ${r.machine.loadAvgEnd.join(" ")}`,
    "",
    ...rows.map((row) => row.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ")),
    "",
  ];
  if (r.ratios) {
    lines.push(
      `baton / pytorch tokens/s, best vs best (${r.ratios.best.batonThreads} vs ${r.ratios.best.torchThreads} thr): ${range(r.ratios.best, 2)}x over the rounds`,
    );
    for (const s of r.ratios.sameThreads)
      lines.push(`baton / pytorch tokens/s at ${s.threads} thread(s) each: ${range(s, 2)}x`);
  } else if (!r.torch.available) lines.push(`pytorch: not measured: ${r.torch.reason}`);
  const l = r.loss;
  const verdict =
    l.equal === null
      ? "not compared"
      : l.equal
        ? `equal within ${l.tolerance}`
        : `NOT equal (tolerance ${l.tolerance})`;
  lines.push(
    `whole-split val loss after ${r.iters} steps: baton ${l.baton ?? "-"}, pytorch ${l.torch ?? "-"}${l.diff === null ? "" : `, difference ${l.diff}`}: ${verdict}`,
  );
  lines.push(
    `estimates (median): baton val ${r.baton.loss.valLoss} train ${r.baton.loss.trainLoss}${r.torch.available ? `; pytorch val ${r.torch.loss.valLoss} train ${r.torch.loss.trainLoss}` : ""}`,
  );
  lines.push(
    `BLAS: baton ${r.baton.blas}${r.torch.available ? `; pytorch ${r.torch.torch}, BLAS_INFO=${r.torch.blas} (${r.torch.blasLibrary.join(" ") || "no BLAS library mapped"})` : ""}`,
  );
  return lines.join("\n");
}
