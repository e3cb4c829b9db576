// `baton bench pretrain`: train a preset for N iterations on a corpus and print one JSON line with
// tokens/s, the median ms per iteration (evaluation excluded), losses, parameters, threads and peak
// RSS, plus the machine and its load so numbers from a shared machine can be read for what they are.
// The measurement itself is bench-pretrain.ts; `baton bench compare` (training against PyTorch) is in
// bench-compare.ts, `baton bench rollout` (the sampler against PyTorch) in bench-rollout.ts.
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CliError, parseCommandArgs } from "../args.ts";
import { COMPARE_USAGE, runCompareBench } from "./bench-compare.ts";
import { pretrainBench } from "./bench-pretrain.ts";
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

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === "--help" || sub === "-h") {
    console.log(`${USAGE}\n\n${COMPARE_USAGE}\n\n${ROLLOUT_USAGE}`);
    return sub === undefined ? 2 : 0;
  }
  if (sub === "rollout") return runRolloutBench(rest);
  if (sub === "compare") return runCompareBench(rest);
  if (sub !== "pretrain")
    throw new CliError(
      `unknown benchmark "${sub}"; available: pretrain, compare, rollout\n\n${USAGE}\n\n${COMPARE_USAGE}\n\n${ROLLOUT_USAGE}`,
    );
  const { values: v } = parseCommandArgs(rest, BENCH_FLAGS, USAGE, false);
  if (v.help) {
    console.log(USAGE);
    return 0;
  }
  const workDir = join(tmpdir(), `baton-bench-${process.pid}`);
  const prep = await prepareFromFlags(v, USAGE, workDir);
  try {
    const result = await pretrainBench(prep, {
      wholeVal: !!v["whole-val"],
      progressBar: !v.json && process.stderr.isTTY,
    });
    if (v.json) console.log(JSON.stringify(result));
    else for (const [k, val] of Object.entries(result)) console.log(`${k.padEnd(14)} ${val}`);
    return 0;
  } finally {
    prep.corpus.close();
    await rm(workDir, { recursive: true, force: true });
  }
}
