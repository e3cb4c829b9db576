// `baton export onnx`: a trained model folder as a serving stack loads it, laid out as transformers.js
// and HF Optimum expect:
//   <out>/onnx/model.onnx          the decoder with a KV cache and dynamic axes (onnx-decoder.ts)
//   <out>/config.json              HF GPT-2 config (use_cache: true)
//   <out>/generation_config.json   greedy by default; bos / eos / pad ids, the context length
//   <out>/tokenizer.json           the model's tokenizer; a char tokenizer gets an unk_token
//   <out>/tokenizer_config.json    special tokens (and the chat template, when the model has one)
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gptConfigToHf } from "../checkpoint/gpt-config.ts";
import { loadHfFolder } from "../checkpoint/hf-gpt2.ts";
import { exportDecoderOnnx } from "./onnx-decoder.ts";

export interface ExportedFolder {
  dir: string;
  files: string[];
  /** Bytes of onnx/model.onnx. */
  modelBytes: number;
}

export async function exportServingFolder(checkpointDir: string, outDir: string): Promise<ExportedFolder> {
  const folder = await loadHfFolder(checkpointDir);
  const { config, tokenizer } = folder;
  const params = new Map([...folder.tensors].map(([k, v]) => [k, v.data]));
  const model = exportDecoderOnnx(config, params);
  const special = tokenizer.special;
  const text = tokenizer.specialText;

  const hfJson = tokenizer.toHfJson();
  // HF tokenizers drop a character they have no id for (a BPE model with unk_token null) without a
  // word; with an unk_token it becomes that token, as Baton's own encoder would refuse it loudly.
  // Our char tokenizers reserve no <unk>: the pad token, which the model never learns to emit, stands in.
  const unk = tokenizer.kind === "char" && hfJson.model.unk_token === null ? text.pad : undefined;
  const tokenizerJson = unk === undefined ? hfJson : { ...hfJson, model: { ...hfJson.model, unk_token: unk } };
  const files: Record<string, string | Uint8Array> = {
    "onnx/model.onnx": model,
    "config.json": json({ ...gptConfigToHf(config, special), use_cache: true, pad_token_id: special.pad }),
    "generation_config.json": json({
      bos_token_id: special.bos,
      eos_token_id: special.eos,
      pad_token_id: special.pad,
      max_length: config.blockSize,
      do_sample: false,
      use_cache: true,
    }),
    "tokenizer.json": JSON.stringify(tokenizerJson),
    "tokenizer_config.json": json({
      tokenizer_class: "PreTrainedTokenizerFast",
      ...folder.tokenizerConfig,
      bos_token: text.bos,
      eos_token: text.eos,
      pad_token: text.pad,
      ...(unk !== undefined && { unk_token: unk }),
      model_max_length: config.blockSize,
      clean_up_tokenization_spaces: false,
    }),
  };
  await mkdir(join(outDir, "onnx"), { recursive: true });
  for (const [path, content] of Object.entries(files)) await writeFile(join(outDir, path), content);
  return { dir: outDir, files: Object.keys(files), modelBytes: model.length };
}

const json = (v: unknown): string => `${JSON.stringify(v, null, 2)}\n`;
