import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { trainBpeTokenizer } from "../tokenizer/bpe-tokenizer.ts";
import { trainCharTokenizer } from "../tokenizer/char-tokenizer.ts";
import type { GptConfig } from "./gpt-config.ts";
import { DEFAULT_GPT_CONFIG, gptConfigFromHf, gptConfigToHf } from "./gpt-config.ts";
import { f16ToF32, f32ToF16 } from "./half.ts";
import type { F32Tensor } from "./hf-gpt2.ts";
import { gptTensorSpecs, loadHfFolder, saveHfFolder } from "./hf-gpt2.ts";
import type { SafeTensor } from "./safetensors.ts";
import { writeSafetensors } from "./safetensors.ts";

const config: GptConfig = { ...DEFAULT_GPT_CONFIG, nLayer: 2, nHead: 2, nEmbd: 8, blockSize: 16, vocabSize: 40 };

function randomTensors(c: GptConfig, seed = 1): Map<string, F32Tensor> {
  let s = seed;
  const rnd = () => (s = (Math.imul(s, 48271) + 11) % 2147483647) / 2147483647 - 0.5;
  return new Map(
    gptTensorSpecs(c).map((spec) => [
      spec.name,
      { shape: spec.shape, data: Float32Array.from({ length: spec.shape.reduce((a, b) => a * b, 1) }, rnd) },
    ]),
  );
}

async function tmp(): Promise<string> {
  return mkdtemp(join(tmpdir(), "hf-"));
}

describe("gptTensorSpecs", () => {
  it("lists HF GPT-2 names with Conv1D [in, out] layouts, and lm_head only when untied", () => {
    const specs = new Map(gptTensorSpecs(config).map((s) => [s.name, s.shape]));
    expect(specs.get("transformer.wte.weight")).toEqual([40, 8]);
    expect(specs.get("transformer.wpe.weight")).toEqual([16, 8]);
    expect(specs.get("transformer.h.1.attn.c_attn.weight")).toEqual([8, 24]);
    expect(specs.get("transformer.h.1.attn.c_attn.bias")).toEqual([24]);
    expect(specs.get("transformer.h.0.mlp.c_fc.weight")).toEqual([8, 32]);
    expect(specs.get("transformer.h.0.mlp.c_proj.weight")).toEqual([32, 8]);
    expect(specs.get("transformer.ln_f.bias")).toEqual([8]);
    expect(specs.size).toBe(2 + 2 * 12 + 2);
    expect(specs.has("lm_head.weight")).toBe(false);
    expect(gptTensorSpecs({ ...config, tieWordEmbeddings: false }).at(-1)).toEqual({
      name: "lm_head.weight",
      shape: [40, 8],
    });
    expect(gptTensorSpecs({ ...config, bias: false }).some((s) => s.name.endsWith(".bias"))).toBe(false);
  });
});

describe("HF GPT-2 folders", () => {
  it("saves and reloads config, bit-identical weights, tokenizer and tokenizer_config", async () => {
    const dir = await tmp();
    const tokenizer = await trainCharTokenizer(["hello world, the cat sat."]);
    const tensors = randomTensors(config);
    await saveHfFolder(dir, {
      config,
      tensors,
      tokenizer,
      tokenizerConfig: { chat_template: "{{ x }}", eos_token: "<|endoftext|>" },
    });
    const hfConfig = JSON.parse(await readFile(join(dir, "config.json"), "utf8"));
    expect(hfConfig).toMatchObject({
      model_type: "gpt2",
      n_layer: 2,
      n_head: 2,
      n_embd: 8,
      n_positions: 16,
      vocab_size: 40,
      tie_word_embeddings: true,
      eos_token_id: 1,
      activation_function: "gelu_new",
    });
    const back = await loadHfFolder(dir);
    expect(back.config).toEqual(config);
    expect([...back.tensors.keys()]).toEqual(gptTensorSpecs(config).map((s) => s.name));
    for (const [name, t] of tensors)
      expect(new Uint8Array(back.tensors.get(name)!.data.buffer)).toEqual(new Uint8Array(t.data.buffer));
    expect(back.tokenizer.encode("the cat")).toEqual(tokenizer.encode("the cat"));
    expect(back.tokenizerConfig).toEqual({ chat_template: "{{ x }}", eos_token: "<|endoftext|>" });
  });

  it("imports a folder as HF writes it: no prefix, mask buffers, a tied lm_head copy, F16 weights, vocab.json + merges.txt", async () => {
    const dir = await tmp();
    const bpe = await trainBpeTokenizer(["the cat sat on the mat. the dog sat on the log. ".repeat(20)], {
      vocabSize: 280,
    });
    const c: GptConfig = { ...config, vocabSize: 280 };
    const tensors = randomTensors(c, 5);
    const raw = new Map<string, SafeTensor>();
    for (const [name, t] of tensors)
      raw.set(name.replace(/^transformer\./, ""), { dtype: "F16", shape: t.shape, data: f32ToF16(t.data) });
    for (let i = 0; i < c.nLayer; i++) {
      raw.set(`h.${i}.attn.bias`, { dtype: "F32", shape: [1, 1, 16, 16], data: new Float32Array(256).fill(1) });
      raw.set(`h.${i}.attn.masked_bias`, { dtype: "F32", shape: [], data: new Float32Array([-1e4]) });
    }
    raw.set("lm_head.weight", {
      dtype: "F16",
      shape: [280, 8],
      data: f32ToF16(tensors.get("transformer.wte.weight")!.data),
    });
    await writeSafetensors(join(dir, "model.safetensors"), raw);
    const hf = gptConfigToHf(c);
    delete hf["bias"];
    delete hf["dropout"];
    await writeFile(join(dir, "config.json"), JSON.stringify({ ...hf, n_inner: null, resid_pdrop: 0.1 }));
    const tj = bpe.toHfJson();
    await writeFile(join(dir, "vocab.json"), JSON.stringify(tj.model.vocab));
    await writeFile(join(dir, "merges.txt"), `#version: 0.2\n${(tj.model.merges as string[]).join("\n")}\n`);
    const back = await loadHfFolder(dir);
    expect(back.config).toEqual({ ...c, dropout: 0.1 });
    for (const [name, t] of tensors) expect([...back.tensors.get(name)!.data]).toEqual([...f16ToF32(f32ToF16(t.data))]);
    expect(back.tokenizer.encode("the dog sat")).toEqual(bpe.encode("the dog sat"));
    expect(back.tokenizer.special.eos).toBe(bpe.special.eos);
  });

  it("names the tensor, the expected and the actual shape, and every other problem", async () => {
    const dir = await tmp();
    const tokenizer = await trainCharTokenizer(["abc"]);
    const tensors = randomTensors(config);
    await saveHfFolder(dir, { config, tensors, tokenizer });
    const wrong = randomTensors({ ...config, nEmbd: 8 });
    wrong.set("transformer.h.0.attn.c_attn.weight", { shape: [8, 16], data: new Float32Array(128) });
    wrong.delete("transformer.ln_f.bias");
    wrong.set("transformer.h.0.attn.extra", { shape: [1], data: new Float32Array(1) });
    await expect(saveHfFolder(join(dir, "bad"), { config, tensors: wrong, tokenizer })).rejects.toThrow(
      /3 tensor problem\(s\):\n {2}transformer\.h\.0\.attn\.c_attn\.weight: expected \[8,24\], got \[8,16\]\n {2}transformer\.ln_f\.bias: missing \(expected \[8\]\)\n {2}transformer\.h\.0\.attn\.extra: not a parameter/,
    );
    // A folder whose config disagrees with its weights: the import names the tensor.
    const cfg = JSON.parse(await readFile(join(dir, "config.json"), "utf8"));
    await writeFile(join(dir, "config.json"), JSON.stringify({ ...cfg, n_positions: 32 }));
    await expect(loadHfFolder(dir)).rejects.toThrow(
      /model.safetensors: 1 tensor problem\(s\):\n {2}transformer\.wpe\.weight: expected \[32,8\], got \[16,8\]/,
    );
  });

  it("writes zero biases for a bias-free model, so HF loads it, and drops them again", async () => {
    const dir = await tmp();
    const c = { ...config, bias: false };
    await saveHfFolder(dir, { config: c, tensors: randomTensors(c), tokenizer: await trainCharTokenizer(["xyz"]) });
    const back = await loadHfFolder(dir);
    expect(back.config.bias).toBe(false);
    expect(back.tensors.has("transformer.h.0.attn.c_attn.bias")).toBe(false);
  });

  it("explains a missing file, another architecture and an unsupported config", async () => {
    const dir = await tmp();
    await expect(loadHfFolder(dir)).rejects.toThrow(/no config.json/);
    expect(() => gptConfigFromHf({ model_type: "llama" }, "c.json")).toThrow(
      /c.json: model_type is "llama"; Baton imports GPT-2/,
    );
    expect(() => gptConfigFromHf({ ...gptConfigToHf(config), n_inner: 10 }, "c.json")).toThrow(
      /n_inner is 10; Baton's GPT uses an MLP of 4 \* n_embd = 32/,
    );
    expect(() => gptConfigFromHf({ ...gptConfigToHf(config), n_head: 3 }, "c.json")).toThrow(
      /nEmbd 8 must be divisible by nHead 3/,
    );
    await writeFile(join(dir, "config.json"), JSON.stringify(gptConfigToHf(config)));
    await expect(loadHfFolder(dir)).rejects.toThrow(/no model.safetensors/);
    await rm(dir, { recursive: true });
  });
});
