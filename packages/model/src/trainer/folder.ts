// A trained model on disk: the HF folder (config.json, model.safetensors, tokenizer.json,
// tokenizer_config.json) that HF transformers and `baton sample` read, plus optimizer.safetensors and
// trainer_state.json so a later stage can continue the optimizer and read how training went.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type F32Tensor, gptTensorSpecs, loadHfFolder, saveHfFolder } from "../checkpoint/hf-gpt2.ts";
import { type SafeTensor, writeSafetensors } from "../checkpoint/safetensors.ts";
import type { GptModelConfig } from "../gpt/config.ts";
import type { Tokenizer } from "../tokenizer/tokenizer.ts";

export interface ModelFolder {
  config: GptModelConfig;
  /** by HF name, flat float32 (the engine's layout) */
  params: Map<string, Float32Array>;
  tokenizer: Tokenizer;
}

/** Flat engine tensors -> shaped checkpoint tensors (shapes from gptTensorSpecs). */
export function toCheckpointTensors(
  config: GptModelConfig,
  params: ReadonlyMap<string, Float32Array>,
): Map<string, F32Tensor> {
  const out = new Map<string, F32Tensor>();
  for (const s of gptTensorSpecs(config)) {
    const data = params.get(s.name);
    if (!data) throw new Error(`toCheckpointTensors: parameter ${s.name} [${s.shape.join(",")}] is missing`);
    out.set(s.name, { shape: s.shape, data });
  }
  return out;
}

export async function saveModelFolder(
  dir: string,
  m: ModelFolder & { optimizerState?: ReadonlyMap<string, Float32Array>; trainerState?: Record<string, unknown> },
): Promise<void> {
  await saveHfFolder(dir, {
    config: m.config,
    tensors: toCheckpointTensors(m.config, m.params),
    tokenizer: m.tokenizer,
  });
  if (m.optimizerState) {
    const t = new Map<string, SafeTensor>();
    for (const [k, v] of m.optimizerState) t.set(k, { dtype: "F32", shape: [v.length], data: v });
    await writeSafetensors(join(dir, "optimizer.safetensors"), t, { metadata: { format: "baton.adamw" } });
  }
  if (m.trainerState) await writeFile(join(dir, "trainer_state.json"), `${JSON.stringify(m.trainerState, null, 2)}\n`);
}

/** Reads a folder written by saveModelFolder or any HF GPT-2-architecture folder. */
export async function loadModelFolder(dir: string): Promise<ModelFolder> {
  const f = await loadHfFolder(dir);
  const params = new Map<string, Float32Array>();
  for (const [k, v] of f.tensors) params.set(k, v.data);
  return { config: f.config, params, tokenizer: f.tokenizer };
}

export async function readTrainerState(dir: string): Promise<Record<string, unknown> | null> {
  try {
    return JSON.parse(await readFile(join(dir, "trainer_state.json"), "utf8")) as Record<string, unknown>;
  } catch {
    return null;
  }
}
