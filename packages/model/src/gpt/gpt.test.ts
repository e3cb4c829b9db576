import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compileInference, Graph } from "@baton/engine";
import { afterAll, describe, expect, it } from "vitest";
import { gptConfigToHf } from "../checkpoint/gpt-config.ts";
import { gptTensorSpecs } from "../checkpoint/hf-gpt2.ts";
import { type SafeTensor, writeSafetensors } from "../checkpoint/safetensors.ts";
import { Sampler } from "../sample.ts";
import { charTokenizerFromChars } from "../tokenizer/char-tokenizer.ts";
import { loadModelFolder, saveModelFolder } from "../trainer/folder.ts";
import type { GptModelConfig } from "./config.ts";
import { traceLogits } from "./graphs.ts";
import { declareGptParams } from "./params.ts";
import { referenceLogits } from "./reference.ts";

const dirs: string[] = [];
const tempDir = async () => {
  const d = await mkdtemp(join(tmpdir(), "baton-gpt-"));
  dirs.push(d);
  return d;
};
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const tokenizer = charTokenizerFromChars([..."abcdefghij klmnop"]);
const config = (over: Partial<GptModelConfig> = {}): GptModelConfig => ({
  arch: "gpt2",
  nLayer: 2,
  nHead: 2,
  nEmbd: 16,
  blockSize: 12,
  vocabSize: tokenizer.vocabSize,
  layerNormEps: 1e-5,
  activation: "gelu_new",
  tieWordEmbeddings: true,
  bias: true,
  dropout: 0,
  ...over,
});

/** Random weights for every tensor (biases and norms included, so every path is exercised). */
function randomParams(cfg: GptModelConfig, seed: number): Map<string, Float32Array> {
  let s = seed;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296) * 2 - 1;
  return new Map(
    gptTensorSpecs(cfg).map((t) => {
      const n = t.shape.reduce((a, b) => a * b, 1);
      const norm = /ln_(1|2|f)\.weight$/.test(t.name);
      return [t.name, Float32Array.from({ length: n }, () => (norm ? 1 + 0.2 * rnd() : 0.3 * rnd()))];
    }),
  );
}

async function engineLogits(
  cfg: GptModelConfig,
  params: ReadonlyMap<string, Float32Array>,
  tokens: number[],
): Promise<Float32Array> {
  const { g, outputs } = traceLogits(cfg, { batch: 1, seq: tokens.length });
  const prog = await compileInference({ graph: g, outputs, threads: 1 });
  prog.loadParams(params);
  const out = await prog.run({ tokens: BigInt64Array.from(tokens, BigInt) });
  await prog.dispose();
  return out.logits as Float32Array; // [1, T, V]
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
};

/** An HF-style GPT-2 folder as published checkpoints store it: bare names, attention-mask buffers, no Baton keys. */
async function writePublishedFolder(
  dir: string,
  cfg: GptModelConfig,
  params: Map<string, Float32Array>,
): Promise<void> {
  const tensors = new Map<string, SafeTensor>();
  for (const s of gptTensorSpecs(cfg))
    tensors.set(s.name.replace(/^transformer\./, ""), { dtype: "F32", shape: s.shape, data: params.get(s.name)! });
  for (let l = 0; l < cfg.nLayer; l++) {
    const T = cfg.blockSize;
    tensors.set(`h.${l}.attn.bias`, { dtype: "F32", shape: [1, 1, T, T], data: new Float32Array(T * T).fill(1) });
  }
  await writeSafetensors(join(dir, "model.safetensors"), tensors, { metadata: { format: "pt" } });
  const hf = gptConfigToHf(cfg, tokenizer.special);
  delete hf.bias;
  delete hf.dropout;
  await writeFile(join(dir, "config.json"), JSON.stringify(hf));
  await writeFile(join(dir, "tokenizer.json"), JSON.stringify(tokenizer.toHfJson()));
}

describe("GPT graphs", () => {
  it("declares exactly the HF GPT-2 tensors of gptTensorSpecs, with and without biases and tying", () => {
    for (const over of [{}, { bias: false }, { tieWordEmbeddings: false }]) {
      const cfg = config(over);
      const g = new Graph();
      declareGptParams(g, cfg);
      expect([...g.params.values()].map((p) => [p.name, p.shape])).toEqual(
        gptTensorSpecs(cfg).map((s) => [s.name, s.shape]),
      );
      // weight decay on matrices and embeddings only, as nanoGPT
      expect([...g.params.values()].filter((p) => p.decay).every((p) => p.shape.length === 2)).toBe(true);
    }
  });

  it("matches a plain float64 GPT-2 forward pass on an imported folder, and export + re-import gives the same logits", async () => {
    for (const over of [{}, { tieWordEmbeddings: false }]) {
      const cfg = config(over);
      const published = await tempDir();
      await writePublishedFolder(published, cfg, randomParams(cfg, 11));
      const imported = await loadModelFolder(published);
      expect(imported.config.bias).toBe(true);
      const tokens = tokenizer.encode("hello pond");
      const logits = await engineLogits(imported.config, imported.params, tokens);
      const ref = referenceLogits(imported.config, imported.params, tokens).flat();
      expect(maxAbsDiff(logits, ref)).toBeLessThan(1e-4);

      const exported = await tempDir();
      await saveModelFolder(exported, imported);
      const again = await loadModelFolder(exported);
      expect(again.config).toEqual(imported.config);
      for (const [k, v] of imported.params)
        expect(Buffer.from(again.params.get(k)!.buffer).equals(Buffer.from(v.buffer))).toBe(true);
      expect(again.tokenizer.encode("hello pond")).toEqual(tokens);
      expect(
        Buffer.from((await engineLogits(again.config, again.params, tokens)).buffer).equals(Buffer.from(logits.buffer)),
      ).toBe(true);
    }
  });

  it("the KV-cache decoder gives the full-sequence logits at every position", async () => {
    const cfg = config({ bias: false });
    const params = randomParams(cfg, 5);
    const tokens = tokenizer.encode("abc def ghij");
    expect(tokens).toHaveLength(cfg.blockSize); // fills the whole cache
    const full = await engineLogits(cfg, params, tokens);
    const sampler = await Sampler.create(cfg, params, { threads: 1 });
    const stepwise = await sampler.logitsAlong(tokens);
    await sampler.dispose();
    const V = cfg.vocabSize;
    stepwise.forEach((row, t) => expect(maxAbsDiff(row, full.subarray(t * V, (t + 1) * V))).toBeLessThan(1e-4));
  });

  it("refuses the Llama-style options it does not build yet, saying what to use", () => {
    expect(() => traceLogits(config({ norm: "rms" }), { batch: 1 })).toThrow(
      /norm "rms" is the Llama-style block, which is not built yet; use norm: "layer"/,
    );
    expect(() => traceLogits(config({ activation: "gelu" }), { batch: 1 })).toThrow(/gelu_new/);
  });
});
