// `baton train pretrain`: a preset, some text, a tokenizer -> an HF-style model folder. Stops cleanly
// on Ctrl-C / SIGTERM with a resume snapshot in <out>/_resume; `--resume` continues it exactly.
import { rm } from "node:fs/promises";
import { join } from "node:path";
import {
  folderSnapshots,
  PRESET_NAMES,
  PresetError,
  type PretrainOverrides,
  preparePretraining,
  saveModelFolder,
  type TrainEvent,
  TrainingInterrupted,
  trainLanguageModel,
} from "@baton/model";
import { CliError, numberFlag, parseCommandArgs } from "../args.ts";

const USAGE = `usage: baton train pretrain --preset <name> --data <file> [--data <file> ...] --out <dir> [options]

  --preset NAME          ${PRESET_NAMES.join(" | ")}
                         (sets every default below; a recipe's pretrain step takes the same names as preset:)
  --data FILE            text file or {"text"} JSONL (repeatable); EOS after each document
  --val FILE             held-out text (default: the last 10% of --data)
  --tokenizer T          char | bpe | path/to/tokenizer.json (default char)
  --vocab-size N         BPE vocabulary size (default 4096)
  --out DIR              where the model folder goes (config.json, model.safetensors, tokenizer.json, ...)
  --iters N  --batch-size N  --block-size N  --lr X  --min-lr X  --warmup N  --decay-iters N
  --beta2 X  --weight-decay X  --grad-clip X  --accum N  --dropout X
  --eval-interval N      steps between evaluations (0 = only at the end)
  --eval-batches N       batches per evaluation
  --seed N  --threads N  (default 1337, 2)
  --snapshot-every N     resume snapshot interval in steps (default 250)
  --resume               continue from the newest snapshot in <out>/_resume
  --json                 progress as JSON lines on stdout`;

/** Flags shared with `baton bench pretrain`. */
export const HYPER_FLAGS = {
  preset: { type: "string" },
  data: { type: "string", multiple: true },
  val: { type: "string", multiple: true },
  tokenizer: { type: "string" },
  "vocab-size": { type: "string" },
  iters: { type: "string" },
  "batch-size": { type: "string" },
  "block-size": { type: "string" },
  lr: { type: "string" },
  "min-lr": { type: "string" },
  warmup: { type: "string" },
  "decay-iters": { type: "string" },
  beta2: { type: "string" },
  "weight-decay": { type: "string" },
  "grad-clip": { type: "string" },
  accum: { type: "string" },
  dropout: { type: "string" },
  "eval-interval": { type: "string" },
  "eval-batches": { type: "string" },
  seed: { type: "string" },
  threads: { type: "string" },
  json: { type: "boolean" },
} as const;

type HyperValues = {
  [K in keyof typeof HYPER_FLAGS]?: (typeof HYPER_FLAGS)[K] extends { multiple: true }
    ? string[]
    : (typeof HYPER_FLAGS)[K]["type"] extends "boolean"
      ? boolean
      : string;
};

export function overridesFrom(v: HyperValues): PretrainOverrides {
  const o: PretrainOverrides = {};
  const num = (flag: keyof HyperValues, key: keyof PretrainOverrides, min: number, integer = false) => {
    const raw = v[flag];
    if (raw === undefined) return;
    const n = numberFlag(flag, raw as string, 0, min);
    if (integer && !Number.isInteger(n)) throw new CliError(`--${flag} must be an integer, got "${raw}"`);
    o[key] = n;
  };
  num("iters", "iters", 0, true);
  num("batch-size", "batchSize", 1, true);
  num("block-size", "blockSize", 1, true);
  num("lr", "lr", 0);
  num("min-lr", "minLr", 0);
  num("warmup", "warmupIters", 0, true);
  num("decay-iters", "decayIters", 0, true);
  num("beta2", "beta2", 0);
  num("weight-decay", "weightDecay", 0);
  num("grad-clip", "clipNorm", 0);
  num("accum", "accumSteps", 1, true);
  num("dropout", "dropout", 0);
  num("eval-interval", "evalInterval", 0, true);
  num("eval-batches", "evalBatches", 0, true);
  num("seed", "seed", 0, true);
  num("threads", "threads", 1, true);
  return o;
}

/** Runs preparePretraining, turning its input errors into CliErrors (no stack for a user's mistake). */
export async function prepareFromFlags(v: HyperValues, usage: string, workDir: string) {
  if (!v.preset) throw new CliError(`--preset is required\n\n${usage}`);
  if (!v.data || v.data.length === 0)
    throw new CliError(`--data is required (a text file or {"text"} JSONL)\n\n${usage}`);
  const vocab = v["vocab-size"];
  try {
    return await preparePretraining({
      preset: v.preset,
      data: v.data,
      ...(v.val ? { val: v.val } : {}),
      tokenizer: v.tokenizer ?? "char",
      ...(vocab !== undefined ? { vocabSize: numberFlag("vocab-size", vocab, 4096, 16) } : {}),
      workDir,
      overrides: overridesFrom(v),
    });
  } catch (e) {
    const name = (e as Error).name;
    if (e instanceof PresetError || name === "DatasetError" || name === "TokenizerError" || name === "CheckpointError")
      throw new CliError((e as Error).message);
    throw e;
  }
}

export function jsonLines(e: TrainEvent): void {
  process.stdout.write(`${JSON.stringify(e)}\n`);
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === "--help" || sub === "-h") {
    console.log(USAGE);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== "pretrain")
    throw new CliError(`unknown training kind "${sub}"; this command trains: pretrain\n\n${USAGE}`);
  const { values: v } = parseCommandArgs(
    rest,
    { ...HYPER_FLAGS, out: { type: "string" }, "snapshot-every": { type: "string" }, resume: { type: "boolean" } },
    USAGE,
    false,
  );
  if (v.help) {
    console.log(USAGE);
    return 0;
  }
  if (!v.out) throw new CliError(`--out is required: the folder the model is written to\n\n${USAGE}`);
  const out = v.out;
  const snapshots = folderSnapshots(join(out, "_resume"));
  const existing = await snapshots.load().catch(() => null);
  if (existing && !v.resume)
    throw new CliError(
      `${join(out, "_resume")} holds a resume snapshot at step ${existing.step}; pass --resume to continue it, or choose another --out`,
    );
  if (!existing && v.resume) throw new CliError(`--resume: no snapshot in ${join(out, "_resume")}`);

  const tokensDir = join(out, "_tokens");
  const prep = await prepareFromFlags(v, USAGE, tokensDir);
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const quietText = !v.json && !process.stderr.isTTY;
  try {
    const r = await trainLanguageModel({
      ...prep.options,
      snapshots: { every: numberFlag("snapshot-every", v["snapshot-every"], 250, 1), store: snapshots },
      signal: stop.signal,
      onEvent: (e) => {
        if (v.json) jsonLines(e);
        else if (quietText && e.type === "eval")
          console.log(`step ${e.step}: val loss ${e.valLoss.toFixed(4)}, train loss ${e.trainLoss.toFixed(4)}`);
      },
    });
    const trainerState = {
      preset: prep.preset.name,
      hyper: prep.hyper,
      seed: prep.options.seed ?? 1337,
      metrics: r.metrics,
      evals: r.evals,
      curve: r.curve,
      datasets: prep.corpus.datasets.map((d) => ({ uri: d.uri, sha256: d.sha256, bytes: d.bytes })),
    };
    await saveModelFolder(out, {
      config: prep.model,
      params: r.params,
      tokenizer: prep.tokenizer,
      optimizerState: r.optimizerState,
      trainerState,
    });
    await rm(join(out, "_resume"), { recursive: true, force: true });
    const m = r.metrics;
    const line = `trained ${prep.preset.name} (${m.params.toLocaleString("en")} params) for ${m.steps} steps: val loss ${m.valLoss.toFixed(4)}, train loss ${m.trainLoss.toFixed(4)}, ${Math.round(m.tokensPerSec)} tokens/s, ${(m.wallMs / 1000).toFixed(1)} s -> ${out}`;
    console.error(line);
    return 0;
  } catch (e) {
    if (e instanceof TrainingInterrupted) {
      console.error(`\nstopped at step ${e.step}; continue with the same command and --resume`);
      return 130;
    }
    throw e;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    prep.corpus.close();
    await rm(tokensDir, { recursive: true, force: true });
  }
}
