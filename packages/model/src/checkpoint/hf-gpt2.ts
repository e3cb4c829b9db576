import { access, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { loadGpt2TokenizerFiles } from "../tokenizer/gpt2-files.ts";
import { loadTokenizer } from "../tokenizer/hf-json.ts";
import type { Tokenizer } from "../tokenizer/tokenizer.ts";
import type { GptConfig } from "./gpt-config.ts";
import { CheckpointError, gptConfigFromHf, gptConfigToHf, validateGptConfig } from "./gpt-config.ts";
import { bf16ToF32, f16ToF32 } from "./half.ts";
import type { SafeTensor } from "./safetensors.ts";
import { readSafetensors, writeSafetensors } from "./safetensors.ts";

/** A float32 tensor: row-major `data` of `shape`. */
export interface F32Tensor {
  shape: number[];
  data: Float32Array;
}

export interface TensorSpec {
  name: string;
  shape: number[];
}

/**
 * The model's parameters, named and laid out as HF GPT-2 (GPT2LMHeadModel) stores them. Conv1D weights
 * are [in, out], so a linear layer is y = x @ W + b. The model uses these names for its parameters, so a
 * checkpoint needs no renaming.
 */
export function gptTensorSpecs(config: GptConfig): TensorSpec[] {
  validateGptConfig(config);
  const { nLayer: L, nEmbd: C, blockSize: T, vocabSize: V, bias } = config;
  const specs: TensorSpec[] = [
    { name: "transformer.wte.weight", shape: [V, C] },
    { name: "transformer.wpe.weight", shape: [T, C] },
  ];
  const norm = (prefix: string) => {
    specs.push({ name: `${prefix}.weight`, shape: [C] });
    if (bias) specs.push({ name: `${prefix}.bias`, shape: [C] });
  };
  const linear = (prefix: string, inF: number, outF: number) => {
    specs.push({ name: `${prefix}.weight`, shape: [inF, outF] });
    if (bias) specs.push({ name: `${prefix}.bias`, shape: [outF] });
  };
  for (let i = 0; i < L; i++) {
    const h = `transformer.h.${i}`;
    norm(`${h}.ln_1`);
    linear(`${h}.attn.c_attn`, C, 3 * C); // q, k, v concatenated on the output axis
    linear(`${h}.attn.c_proj`, C, C);
    norm(`${h}.ln_2`);
    linear(`${h}.mlp.c_fc`, C, 4 * C);
    linear(`${h}.mlp.c_proj`, 4 * C, C);
  }
  norm("transformer.ln_f");
  if (!config.tieWordEmbeddings) specs.push({ name: "lm_head.weight", shape: [V, C] });
  return specs;
}

/** The bias tensors HF GPT-2 has that a `bias: false` model lacks (saved as zeros, dropped on load). */
function biasSpecs(config: GptConfig): TensorSpec[] {
  const withBias = gptTensorSpecs({ ...config, bias: true });
  const names = new Set(gptTensorSpecs(config).map((s) => s.name));
  return withBias.filter((s) => !names.has(s.name));
}

/** Lists every missing, unexpected or wrongly shaped tensor; throws once with all of them. */
function checkAgainstSpecs(tensors: ReadonlyMap<string, F32Tensor>, specs: TensorSpec[], where: string): void {
  const problems: string[] = [];
  const expected = new Map(specs.map((s) => [s.name, s.shape]));
  for (const s of specs) {
    const t = tensors.get(s.name);
    if (!t) problems.push(`${s.name}: missing (expected [${s.shape.join(",")}])`);
    else if (t.shape.length !== s.shape.length || t.shape.some((d, i) => d !== s.shape[i])) {
      problems.push(`${s.name}: expected [${s.shape.join(",")}], got [${t.shape.join(",")}]`);
    } else if (t.data.length !== s.shape.reduce((a, b) => a * b, 1)) {
      problems.push(`${s.name}: shape [${s.shape.join(",")}] but ${t.data.length} values`);
    }
  }
  for (const name of tensors.keys())
    if (!expected.has(name)) problems.push(`${name}: not a parameter of this GPT config`);
  if (problems.length > 0) {
    throw new CheckpointError(`${where}: ${problems.length} tensor problem(s):\n  ${problems.join("\n  ")}`);
  }
}

/**
 * A reward (or value) model's head, as HF GPT2ForSequenceClassification stores it: `score.weight`
 * [num_labels = 1, n_embd], no bias, read at the last token of a sequence. `rewardBias` is added to
 * every score (kept in config.json): it centres the scores of the reference responses on 0.
 */
export interface ScoreHead {
  weight: Float32Array; // [1, C]
  rewardBias: number;
}

export const SCORE_WEIGHT = "score.weight";

export interface HfFolder {
  config: GptConfig;
  /** present for a GPT2ForSequenceClassification folder (a reward model) */
  score?: ScoreHead;
  /** Keyed by the names of `gptTensorSpecs(config)`, in that order. */
  tensors: Map<string, F32Tensor>;
  tokenizer: Tokenizer;
  /** tokenizer_config.json as found (chat_template, special tokens), if the folder has one. */
  tokenizerConfig?: Record<string, unknown>;
}

/**
 * Writes config.json, model.safetensors, tokenizer.json and tokenizer_config.json: a folder HF
 * transformers loads as GPT2LMHeadModel + PreTrainedTokenizerFast. Checks everything before writing.
 */
export async function saveHfFolder(
  dir: string,
  folder: {
    config: GptConfig;
    tensors: ReadonlyMap<string, F32Tensor>;
    tokenizer: Tokenizer;
    tokenizerConfig?: Record<string, unknown>;
    score?: ScoreHead;
  },
): Promise<void> {
  const { config, tensors, tokenizer, score } = folder;
  validateGptConfig(config, dir);
  checkAgainstSpecs(tensors, gptTensorSpecs(config), dir);
  if (tokenizer.vocabSize > config.vocabSize) {
    throw new CheckpointError(
      `${dir}: the tokenizer has ${tokenizer.vocabSize} ids but the model's vocabSize is ${config.vocabSize}; the model must cover every id`,
    );
  }
  const out = new Map<string, SafeTensor>();
  for (const s of gptTensorSpecs(config)) {
    const t = tensors.get(s.name)!;
    out.set(s.name, { dtype: "F32", shape: s.shape, data: t.data });
  }
  for (const s of biasSpecs(config))
    out.set(s.name, { dtype: "F32", shape: s.shape, data: new Float32Array(s.shape.reduce((a, b) => a * b, 1)) });
  let hfConfig = gptConfigToHf(config, tokenizer.special);
  if (score) {
    if (score.weight.length !== config.nEmbd)
      throw new CheckpointError(
        `${dir}: ${SCORE_WEIGHT} has ${score.weight.length} values, expected [1, ${config.nEmbd}]`,
      );
    if (!Number.isFinite(score.rewardBias))
      throw new CheckpointError(`${dir}: reward_bias must be a finite number, got ${score.rewardBias}`);
    out.set(SCORE_WEIGHT, { dtype: "F32", shape: [1, config.nEmbd], data: score.weight });
    hfConfig = {
      ...hfConfig,
      architectures: ["GPT2ForSequenceClassification"],
      num_labels: 1,
      pad_token_id: tokenizer.special.pad,
      reward_bias: score.rewardBias,
    };
  }
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "config.json"), `${JSON.stringify(hfConfig, null, 2)}\n`);
  await writeSafetensors(join(dir, "model.safetensors"), out, { metadata: { format: "pt" } });
  await writeFile(join(dir, "tokenizer.json"), JSON.stringify(tokenizer.toHfJson()));
  const tokenizerConfig = folder.tokenizerConfig ?? {
    tokenizer_class: "PreTrainedTokenizerFast",
    bos_token: tokenizer.specialText.bos,
    eos_token: tokenizer.specialText.eos,
    pad_token: tokenizer.specialText.pad,
    model_max_length: config.blockSize,
  };
  await writeFile(join(dir, "tokenizer_config.json"), `${JSON.stringify(tokenizerConfig, null, 2)}\n`);
}

const BUFFER = /^h\.\d+\.attn\.(bias|masked_bias)$/; // causal-mask buffers, not parameters

function toF32(name: string, t: SafeTensor, where: string): F32Tensor {
  switch (t.dtype) {
    case "F32":
      return { shape: t.shape, data: t.data as Float32Array };
    case "F16":
      return { shape: t.shape, data: f16ToF32(t.data as Uint16Array) };
    case "BF16":
      return { shape: t.shape, data: bf16ToF32(t.data as Uint16Array) };
    case "F64":
      return { shape: t.shape, data: Float32Array.from(t.data as Float64Array) };
    default:
      throw new CheckpointError(
        `${where}: tensor ${name} is ${t.dtype}; model weights must be a float type (F32, F16, BF16, F64)`,
      );
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/**
 * Imports an HF GPT-2-architecture folder (config.json + model.safetensors + tokenizer.json, or GPT-2's
 * vocab.json + merges.txt). Names may carry the `transformer.` prefix or not; attention-mask buffers and a
 * tied lm_head copy are skipped; F16/BF16/F64 become F32.
 */
export async function loadHfFolder(dir: string): Promise<HfFolder> {
  const configPath = join(dir, "config.json");
  if (!(await exists(configPath)))
    throw new CheckpointError(
      `${dir}: no config.json; an HF model folder needs config.json, model.safetensors and tokenizer.json`,
    );
  let configJson: unknown;
  try {
    configJson = JSON.parse(await readFile(configPath, "utf8"));
  } catch (e) {
    throw new CheckpointError(`${configPath}: not valid JSON (${(e as Error).message})`);
  }
  const config = gptConfigFromHf(configJson, configPath);

  const weightsPath = join(dir, "model.safetensors");
  if (!(await exists(weightsPath))) {
    const hint = (await exists(join(dir, "pytorch_model.bin")))
      ? " (found pytorch_model.bin: convert it to safetensors first)"
      : "";
    throw new CheckpointError(`${dir}: no model.safetensors${hint}`);
  }
  const { tensors: raw } = await readSafetensors(weightsPath);
  const loaded = new Map<string, F32Tensor>();
  const scoreModel = isScoreModel(configJson);
  let score: ScoreHead | undefined;
  for (const [rawName, t] of raw) {
    if (rawName === SCORE_WEIGHT && scoreModel) {
      const w = toF32(rawName, t, weightsPath);
      if (w.shape.length !== 2 || w.shape[0] !== 1 || w.shape[1] !== config.nEmbd)
        throw new CheckpointError(
          `${weightsPath}: ${SCORE_WEIGHT} must be [1, ${config.nEmbd}] (one label), got [${w.shape.join(",")}]`,
        );
      const bias = (configJson as { reward_bias?: unknown }).reward_bias ?? 0;
      if (typeof bias !== "number" || !Number.isFinite(bias))
        throw new CheckpointError(`${configPath}: reward_bias must be a number, got ${JSON.stringify(bias)}`);
      score = { weight: w.data, rewardBias: bias };
      continue;
    }
    const bare = rawName.startsWith("transformer.") ? rawName.slice("transformer.".length) : rawName;
    if (BUFFER.test(bare)) continue;
    if (bare === "lm_head.weight") {
      if (config.tieWordEmbeddings) continue; // HF sometimes stores the tied copy
      loaded.set("lm_head.weight", toF32(rawName, t, weightsPath));
      continue;
    }
    const name = `transformer.${bare}`;
    if (loaded.has(name))
      throw new CheckpointError(
        `${weightsPath}: tensor ${name} appears twice (with and without the "transformer." prefix)`,
      );
    loaded.set(name, toF32(rawName, t, weightsPath));
  }
  for (const s of biasSpecs(config)) {
    const t = loaded.get(s.name);
    if (!t) continue;
    if (t.data.some((v) => v !== 0)) {
      throw new CheckpointError(
        `${weightsPath}: ${s.name} is not zero but config.json says bias: false; remove "bias": false or the bias`,
      );
    }
    loaded.delete(s.name);
  }
  if (scoreModel && !score)
    throw new CheckpointError(
      `${weightsPath}: config.json names GPT2ForSequenceClassification but there is no ${SCORE_WEIGHT}`,
    );
  const specs = gptTensorSpecs(config);
  checkAgainstSpecs(loaded, specs, weightsPath);
  const tensors = new Map(specs.map((s) => [s.name, loaded.get(s.name)!]));

  let tokenizer: Tokenizer;
  if (await exists(join(dir, "tokenizer.json"))) tokenizer = await loadTokenizer(join(dir, "tokenizer.json"));
  else if ((await exists(join(dir, "vocab.json"))) && (await exists(join(dir, "merges.txt")))) {
    tokenizer = await loadGpt2TokenizerFiles(join(dir, "vocab.json"), join(dir, "merges.txt"));
  } else throw new CheckpointError(`${dir}: no tokenizer.json (nor vocab.json + merges.txt)`);
  if (tokenizer.vocabSize > config.vocabSize) {
    throw new CheckpointError(
      `${dir}: the tokenizer has ${tokenizer.vocabSize} ids but config.json vocab_size is ${config.vocabSize}`,
    );
  }
  let tokenizerConfig: Record<string, unknown> | undefined;
  const tcPath = join(dir, "tokenizer_config.json");
  if (await exists(tcPath)) {
    try {
      tokenizerConfig = JSON.parse(await readFile(tcPath, "utf8")) as Record<string, unknown>;
    } catch (e) {
      throw new CheckpointError(`${tcPath}: not valid JSON (${(e as Error).message})`);
    }
  }
  return { config, tensors, tokenizer, ...(tokenizerConfig ? { tokenizerConfig } : {}), ...(score ? { score } : {}) };
}

/** config.json of a one-label sequence classifier: a reward model. */
function isScoreModel(json: unknown): boolean {
  const j = json as { architectures?: unknown; num_labels?: unknown };
  return Array.isArray(j.architectures) && j.architectures.includes("GPT2ForSequenceClassification");
}
