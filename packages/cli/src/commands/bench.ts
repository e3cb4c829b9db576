// `baton bench pretrain`: train a preset for N iterations on a corpus and print one JSON line with
// tokens/s, the median ms per iteration (evaluation excluded), losses, parameters, threads and peak
// RSS, plus the machine and its load so numbers from a shared machine can be read for what they are.
// `baton bench rollout` (the sampler against PyTorch) is in bench-rollout.ts.
import { rm } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { Evaluator, type PreparedPretraining, pooledLoss, type TrainResult, trainLanguageModel } from "@baton/model";
import { CliError, parseCommandArgs } from "../args.ts";
import { ROLLOUT_USAGE, runRolloutBench } from "./bench-rollout.ts";
import { HYPER_FLAGS, prepareFromFlags } from "./train.ts";

const USAGE = `usage: baton bench pretrain --preset <name> --data <file> [--tokenizer char] [--iters N] [--json] [training options]

Trains the preset for --iters steps (default: the preset's), evaluates once at the end over
--eval-batches validation batches, and reports tokensPerSec (from the median step time), msPerIter,
trainLoss, valLoss, params, threads and peakRssMb, and valLoss20Range: the lowest and highest mean
of 20 consecutive evaluation batches (how far a 20-batch estimate such as nanoGPT's can move).
Takes the training options of \`baton train pretrain\`, and:

  --whole-val    also report valLossWholeSplit, the mean loss over every validation token (exact,
                 where valLoss samples windows; one forward pass per batch of windows)`;

const BENCH_FLAGS = { ...HYPER_FLAGS, "whole-val": { type: "boolean" } } as const;

/** Lowest and highest mean of 20 consecutive batches among the final evaluation's (null below 20). */
function range20(r: TrainResult): [number, number] | null {
  const batches = r.evals.at(-1)?.valBatches ?? [];
  const groups: number[] = [];
  for (let g = 0; g + 20 <= batches.length; g += 20) groups.push(pooledLoss(batches.slice(g, g + 20)));
  return groups.length ? [+Math.min(...groups).toFixed(4), +Math.max(...groups).toFixed(4)] : null;
}

/** The exact loss over the whole validation split, from a forward-only program of the trained weights. */
async function wholeSplitLoss(prep: PreparedPretraining, r: TrainResult, threads: number): Promise<number> {
  const ev = await Evaluator.compile(prep.model, { batch: prep.hyper.batchSize, seq: prep.model.blockSize, threads });
  try {
    return +(await ev.wholeSplitLoss(r.params, prep.corpus.val)).toFixed(4);
  } finally {
    await ev.dispose();
  }
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === "--help" || sub === "-h") {
    console.log(`${USAGE}\n\n${ROLLOUT_USAGE}`);
    return sub === undefined ? 2 : 0;
  }
  if (sub === "rollout") return runRolloutBench(rest);
  if (sub !== "pretrain") throw new CliError(`unknown benchmark "${sub}"; available: pretrain, rollout\n\n${USAGE}\n\n${ROLLOUT_USAGE}`);
  const { values: v } = parseCommandArgs(rest, BENCH_FLAGS, USAGE, false);
  if (v.help) {
    console.log(USAGE);
    return 0;
  }
  const workDir = join(tmpdir(), `baton-bench-${process.pid}`);
  const load0 = loadavg()[0] as number;
  const prep = await prepareFromFlags(v, USAGE, workDir);
  try {
    const evalBatches = prep.hyper.evalBatches;
    const r = await trainLanguageModel({ ...prep.options, eval: { every: 0, batches: evalBatches, keepBatches: true }, progressBar: !v.json && process.stderr.isTTY });
    const m = r.metrics;
    const sorted = r.stepMs.slice(2).sort((a, b) => a - b);
    const threads = prep.options.threads ?? 2;
    const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024); // training's peak, before the extra evaluation
    const detail = { valLoss20Range: range20(r), ...(v["whole-val"] ? { valLossWholeSplit: await wholeSplitLoss(prep, r, threads) } : {}) };
    const result = {
      bench: "pretrain",
      preset: prep.preset.name,
      tokensPerSec: Math.round(m.tokensPerSec),
      msPerIter: +m.msPerIter.toFixed(2),
      msPerIterP10: +(sorted[Math.floor(sorted.length * 0.1)] ?? NaN).toFixed(2),
      msPerIterP90: +(sorted[Math.floor(sorted.length * 0.9)] ?? NaN).toFixed(2),
      trainLoss: +m.trainLoss.toFixed(4),
      valLoss: +m.valLoss.toFixed(4),
      evalBatches,
      ...detail,
      params: m.params,
      iters: m.steps,
      batchSize: prep.hyper.batchSize,
      blockSize: prep.model.blockSize,
      vocabSize: prep.model.vocabSize,
      threads,
      peakRssMb,
      wallSec: +(m.wallMs / 1000).toFixed(1),
      cpu: cpus()[0]?.model ?? "unknown",
      cores: cpus().length,
      loadAvgStart: +load0.toFixed(2),
      loadAvgEnd: +(loadavg()[0] as number).toFixed(2),
    };
    if (v.json) console.log(JSON.stringify(result));
    else for (const [k, val] of Object.entries(result)) console.log(`${k.padEnd(14)} ${val}`);
    return 0;
  } finally {
    prep.corpus.close();
    await rm(workDir, { recursive: true, force: true });
  }
}
