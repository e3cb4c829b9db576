// Named model shapes with the training hyper-parameters their reference runs use, so
// `baton train pretrain --preset nanogpt-baby` reproduces nanoGPT's run without more flags. The one
// table of pretraining configurations: `baton train pretrain --preset X`, `baton bench pretrain
// --preset X` and a recipe's pretrain step with `preset: X` all start from the same row, and a
// pretrain step without one starts from the "pretrain-default" row.
import { DEFAULT_GPT_CONFIG, type GptConfig } from "./checkpoint/gpt-config.ts";
import type { GptModelConfig } from "./gpt/config.ts";

/** Training defaults of a preset; every field can be overridden from the command line. */
export interface TrainDefaults {
  batchSize: number;
  iters: number;
  /** peak learning rate after warmup, cosine-decayed to minLr by decayIters */
  lr: number;
  minLr: number;
  warmupIters: number;
  decayIters: number;
  beta1: number;
  beta2: number;
  weightDecay: number;
  clipNorm: number;
  accumSteps: number;
  evalInterval: number;
  evalBatches: number;
}

export interface Preset {
  name: string;
  summary: string;
  /** the model without its vocabulary size, which comes from the tokenizer */
  model: Omit<GptModelConfig, "vocabSize"> & { vocabSize?: number };
  train: TrainDefaults;
}

const gpt2 = (
  shape: Pick<GptConfig, "nLayer" | "nHead" | "nEmbd" | "blockSize">,
  over: Partial<GptConfig> = {},
): Preset["model"] => ({
  ...DEFAULT_GPT_CONFIG,
  ...shape,
  ...over,
});

// nanoGPT's config/train_shakespeare_char.py: lr 1e-3 -> 1e-4, warmup 100, beta2 0.99 (small
// batches), weight decay 0.1 (its default), clip 1.0, bias False.
const NANOGPT_CHAR: TrainDefaults = {
  batchSize: 64,
  iters: 5000,
  lr: 1e-3,
  minLr: 1e-4,
  warmupIters: 100,
  decayIters: 5000,
  beta1: 0.9,
  beta2: 0.99,
  weightDecay: 0.1,
  clipNorm: 1.0,
  accumSteps: 1,
  evalInterval: 250,
  evalBatches: 200,
};

export const PRESETS: Record<string, Preset> = {
  tiny: {
    name: "tiny",
    summary: "2 layers, 2 heads, 32 wide, block 16: for tests (seconds on a laptop)",
    model: gpt2({ nLayer: 2, nHead: 2, nEmbd: 32, blockSize: 16 }),
    train: {
      ...NANOGPT_CHAR,
      batchSize: 8,
      iters: 200,
      lr: 3e-3,
      minLr: 3e-4,
      warmupIters: 10,
      decayIters: 200,
      evalInterval: 50,
      evalBatches: 4,
    },
  },
  "pretrain-default": {
    name: "pretrain-default",
    summary:
      "2 layers, 4 heads, 64 wide, block 64: the pretrain stage's defaults (a small corpus in minutes on 2 cores)",
    model: gpt2({ nLayer: 2, nHead: 4, nEmbd: 64, blockSize: 64 }),
    // a small corpus learns fast at a high peak rate; dropout only slows it (the default 0)
    train: {
      ...NANOGPT_CHAR,
      batchSize: 16,
      iters: 400,
      lr: 3e-3,
      minLr: 1e-4,
      warmupIters: 30,
      decayIters: 400,
      evalInterval: 100,
      evalBatches: 4,
    },
  },
  "nanogpt-baby": {
    name: "nanogpt-baby",
    summary: "4 layers, 4 heads, 128 wide, block 64, no bias: nanoGPT's CPU Shakespeare run",
    model: gpt2({ nLayer: 4, nHead: 4, nEmbd: 128, blockSize: 64 }, { bias: false, dropout: 0 }),
    // the README's CPU command: --batch_size=12 --max_iters=2000 --lr_decay_iters=2000 --dropout=0.0 --eval_iters=20
    train: { ...NANOGPT_CHAR, batchSize: 12, iters: 2000, decayIters: 2000, evalBatches: 20 },
  },
  "nanogpt-shakespeare-char": {
    name: "nanogpt-shakespeare-char",
    summary: "6 layers, 6 heads, 384 wide, block 256, dropout 0.2: nanoGPT's train_shakespeare_char",
    model: gpt2({ nLayer: 6, nHead: 6, nEmbd: 384, blockSize: 256 }, { bias: false, dropout: 0.2 }),
    train: NANOGPT_CHAR,
  },
  "gpt2-124m": {
    name: "gpt2-124m",
    summary: "12 layers, 12 heads, 768 wide, block 1024, GPT-2's vocabulary: GPT-2 small",
    model: gpt2({ nLayer: 12, nHead: 12, nEmbd: 768, blockSize: 1024 }, { vocabSize: 50257 }),
    // nanoGPT's train_gpt2.py (its 40 accumulation steps are 5 x 8 GPUs)
    train: {
      ...NANOGPT_CHAR,
      batchSize: 12,
      iters: 600_000,
      lr: 6e-4,
      minLr: 6e-5,
      warmupIters: 2000,
      decayIters: 600_000,
      beta2: 0.95,
      accumSteps: 40,
      evalInterval: 2000,
    },
  },
};

export class PresetError extends Error {
  override name = "PresetError";
}

/** The preset called `name`; an unknown name is an error listing the known ones. */
export function getPreset(name: string): Preset {
  const p = PRESETS[name];
  if (!p) {
    const rows = Object.values(PRESETS).map((q) => `  ${q.name.padEnd(26)} ${q.summary}`);
    throw new PresetError(`unknown preset "${name}"; known presets:\n${rows.join("\n")}`);
  }
  return p;
}

/** The names of the presets, in table order. */
export const PRESET_NAMES: readonly string[] = Object.keys(PRESETS);

/** What a run may change of a preset's model: its shape, dropout and biases (the rest is the architecture). */
export type ModelOverrides = Partial<Pick<GptConfig, "nLayer" | "nHead" | "nEmbd" | "blockSize" | "dropout" | "bias">>;

/**
 * The preset's model for a tokenizer with `vocabSize` ids (a preset's own vocab size wins if larger),
 * with `over` replacing its shape; the CLI's flags and a recipe step's config.model both come here.
 */
export function presetModel(preset: Preset, vocabSize: number, over: ModelOverrides = {}): GptModelConfig {
  const v = Math.max(vocabSize, preset.model.vocabSize ?? 0);
  const defined = Object.fromEntries(Object.entries(over).filter(([, value]) => value !== undefined));
  return { ...preset.model, ...defined, vocabSize: v };
}
