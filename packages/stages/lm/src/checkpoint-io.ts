// Reading and writing the model inside a stage's checkpoint folder: the HF GPT-2 layout of
// @baton/model (config.json, model.safetensors, tokenizer.json, tokenizer_config.json), plus
// stage-report.json, the curves, samples and dataset counts the run report is built from.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BatonError, type CheckpointManifest, redactor } from "@baton/contracts";
import {
  type F32Tensor,
  type GptConfig,
  gptTensorSpecs,
  loadHfFolder,
  type ScoreHead,
  saveHfFolder,
  type Tokenizer,
} from "@baton/model";
import type { Store } from "@baton/store";
import type { StageReport } from "./stage-report.ts";

export const STAGE_REPORT_FILE = "stage-report.json";

export interface LoadedModel {
  config: GptConfig;
  weights: Map<string, Float32Array>;
  tokenizer: Tokenizer;
  tokenizerConfig?: Record<string, unknown>;
  /** a reward model's head (GPT2ForSequenceClassification) */
  score?: ScoreHead;
}

/** Loads the model of a checkpoint folder; a folder that is not a GPT checkpoint is a fatal error. */
export async function loadModel(dir: string, where: string): Promise<LoadedModel> {
  try {
    const f = await loadHfFolder(dir);
    const weights = new Map<string, Float32Array>();
    for (const [name, t] of f.tensors) weights.set(name, t.data);
    return {
      config: f.config,
      weights,
      tokenizer: f.tokenizer,
      tokenizerConfig: f.tokenizerConfig,
      ...(f.score ? { score: f.score } : {}),
    };
  } catch (err) {
    throw BatonError.fatal(
      "CHECKPOINT_MISSING",
      `${where} is not a GPT checkpoint this stage can start from: ${(err as Error).message}`,
    );
  }
}

/** Writes the model into a checkpoint folder (the relay adds manifest.json). */
export async function saveModel(dir: string, m: LoadedModel): Promise<void> {
  const tensors = new Map<string, F32Tensor>();
  for (const spec of gptTensorSpecs(m.config)) {
    const data = m.weights.get(spec.name);
    if (!data) throw BatonError.fatal("INTERNAL", `saving ${dir}: weight ${spec.name} is missing`);
    tensors.set(spec.name, { shape: spec.shape, data });
  }
  await saveHfFolder(dir, {
    config: m.config,
    tensors,
    tokenizer: m.tokenizer,
    tokenizerConfig: m.tokenizerConfig,
    ...(m.score ? { score: m.score } : {}),
  });
}

export async function writeStageReport(dir: string, report: StageReport): Promise<void> {
  // stored with the checkpoint and read by people: its strings (errors, samples) go through the one redactor
  await writeFile(join(dir, STAGE_REPORT_FILE), JSON.stringify(redactor().strings(report), null, 1));
}

/** The stage report of a committed checkpoint in the store (verified against its manifest), or null when it has none. */
export async function storedStageReport(
  store: Store,
  uri: string,
  manifest: CheckpointManifest,
): Promise<StageReport | null> {
  const file = manifest.files.find((f) => f.path === STAGE_REPORT_FILE);
  if (!file) return null;
  const folder = uri.endsWith("/") ? uri : `${uri}/`;
  const bytes = await store.getBytes(store.keyOf(folder) + STAGE_REPORT_FILE, {
    sha256: file.sha256,
    size: file.size,
    what: `${folder}${STAGE_REPORT_FILE}`,
  });
  return JSON.parse(new TextDecoder().decode(bytes)) as StageReport;
}

export async function readStageReport(dir: string): Promise<StageReport | null> {
  try {
    return JSON.parse(await readFile(join(dir, STAGE_REPORT_FILE), "utf8")) as StageReport;
  } catch {
    return null;
  }
}
