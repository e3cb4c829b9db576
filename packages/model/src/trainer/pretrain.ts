// Everything between "a preset and some text files" and trainLanguageModel: the tokenizer (trained
// from the corpus or loaded), the token corpus on disk with its 90/10 split, the batches, and the
// trainer options from the preset's defaults plus overrides. `baton train pretrain` and `baton bench
// pretrain` share it; the pretrain stage reads its data through stage-lm but builds its model from
// the same preset row with the same presetModel, so the two can not drift apart.
import { createHash } from "node:crypto";
import { buildTokenCorpus, corpusTexts, LmBatches, type TokenCorpus } from "@baton/data";
import type { GptModelConfig } from "../gpt/config.ts";
import { getPreset, type Preset, presetModel, type TrainDefaults } from "../presets.ts";
import { loadTokenizer } from "../tokenizer/hf-json.ts";
import { parseTokenizerSpec, trainTokenizer } from "../tokenizer/index.ts";
import type { Tokenizer } from "../tokenizer/tokenizer.ts";
import type { TrainLanguageModelOptions } from "./train.ts";

/** "char", "bpe" / "bpe:<vocabSize>" (byte-level BPE), or the path of a tokenizer.json. */
export type TokenizerChoice = "char" | "bpe" | (string & {});

const TRAINED = /^(char|bpe(:\d+)?)$/;

/** Trains the named tokenizer on the corpus (@baton/data's corpusTexts), or loads a tokenizer.json. */
export async function prepareTokenizer(
  choice: TokenizerChoice,
  data: string[],
  opts: { vocabSize?: number } = {},
): Promise<Tokenizer> {
  if (!TRAINED.test(choice)) return loadTokenizer(choice);
  const spec = parseTokenizerSpec(choice);
  return trainTokenizer(
    spec.kind === "bpe" && opts.vocabSize !== undefined ? { ...spec, vocabSize: opts.vocabSize } : spec,
    corpusTexts(data),
  );
}

/** The token files in workDir are reused while the tokenizer (and the sources' sha256) stay the same. */
const tokenizerKey = (t: Tokenizer): string => createHash("sha256").update(JSON.stringify(t.toHfJson())).digest("hex");

export interface PretrainOverrides extends Partial<TrainDefaults> {
  dropout?: number;
  blockSize?: number;
  seed?: number;
  threads?: number;
}

export interface PreparedPretraining {
  preset: Preset;
  model: GptModelConfig;
  tokenizer: Tokenizer;
  corpus: TokenCorpus;
  /** the options for trainLanguageModel, before snapshots, signal and progress */
  options: TrainLanguageModelOptions;
  hyper: TrainDefaults;
}

/**
 * Tokenises `data` into `workDir` and fills the trainer's options from the preset's defaults,
 * overridden field by field. Errors (empty or binary file, corpus shorter than a block, unknown
 * preset) come from the place that owns each rule and name the file or the preset.
 */
export async function preparePretraining(p: {
  preset: string;
  data: string[];
  val?: string[];
  tokenizer: TokenizerChoice | Tokenizer;
  vocabSize?: number;
  workDir: string;
  overrides?: PretrainOverrides;
}): Promise<PreparedPretraining> {
  const preset = getPreset(p.preset);
  const o = p.overrides ?? {};
  const hyper: TrainDefaults = { ...preset.train };
  for (const k of Object.keys(hyper) as (keyof TrainDefaults)[]) if (o[k] !== undefined) hyper[k] = o[k] as number;
  if (o.iters !== undefined && o.decayIters === undefined) hyper.decayIters = Math.max(hyper.warmupIters, o.iters); // decay over the run, as nanoGPT's lr_decay_iters = max_iters
  const tokenizer =
    typeof p.tokenizer === "object"
      ? p.tokenizer
      : await prepareTokenizer(p.tokenizer, p.data, p.vocabSize === undefined ? {} : { vocabSize: p.vocabSize });
  const model = presetModel(preset, tokenizer.vocabSize, { dropout: o.dropout, blockSize: o.blockSize });
  const corpus = await buildTokenCorpus({
    train: p.data,
    ...(p.val ? { val: p.val } : {}),
    tokenizer,
    dir: p.workDir,
    cacheKey: tokenizerKey(tokenizer),
  });
  const batches = new LmBatches(corpus, { batchSize: hyper.batchSize, blockSize: model.blockSize });
  const options: TrainLanguageModelOptions = {
    model,
    data: batches,
    batchSize: hyper.batchSize,
    iters: hyper.iters,
    schedule: { lr: hyper.lr, minLr: hyper.minLr, warmupIters: hyper.warmupIters, decayIters: hyper.decayIters },
    optimizer: { beta1: hyper.beta1, beta2: hyper.beta2, weightDecay: hyper.weightDecay },
    clipNorm: hyper.clipNorm,
    accumSteps: hyper.accumSteps,
    eval: { every: hyper.evalInterval, batches: hyper.evalBatches },
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
    ...(o.threads !== undefined ? { threads: o.threads } : {}),
  };
  return { preset, model, tokenizer, corpus, options, hyper };
}
