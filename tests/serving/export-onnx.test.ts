// `baton export onnx`: the exported folder of a trained checkpoint, loaded by plain onnxruntime-node
// as a serving stack loads an HF Optimum GPT-2 (input_ids, attention_mask, position_ids,
// past_key_values.N.key/value in; logits, present.N.key/value out), continues prompts with exactly
// the tokens greedy sampling (`baton sample --temperature 0`) gives: batch 1 and batch 4, two prompt
// lengths, and a batch of both lengths left-padded; and so does @huggingface/transformers (transformers.js,
// local files only, greedy) through its text-generation pipeline and its generate().

import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  charTokenizerFromChars,
  DEFAULT_GPT_CONFIG,
  exportServingFolder,
  gptTensorSpecs,
  loadModelFolder,
  type ModelFolder,
  pastKeyValueName,
  presentKeyValueName,
  Sampler,
  saveModelFolder,
} from "@baton/model";
import { AutoModelForCausalLM, AutoTokenizer, pipeline, env as transformersEnv } from "@huggingface/transformers";
import * as ort from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli } from "../e2e/cluster.ts";

const TEXT = fileURLToPath(new URL("../fixtures/data/tinyshakespeare.txt", import.meta.url));
const NEW_TOKENS = 8;

/** Greedy continuation of `prompts` (token ids; shorter ones left-padded) through the exported decoder. */
async function greedyOnnx(
  session: ort.InferenceSession,
  m: ModelFolder,
  prompts: number[][],
  steps: number,
): Promise<number[][]> {
  const { nLayer, nHead: H, nEmbd, vocabSize: V } = m.config;
  const D = nEmbd / H;
  const B = prompts.length;
  const T0 = Math.max(...prompts.map((p) => p.length));
  const pad = m.tokenizer.special.pad;
  const mask: number[][] = prompts.map((p) => [...Array(T0 - p.length).fill(0), ...p.map(() => 1)]);
  let ids: number[][] = prompts.map((p) => [...Array(T0 - p.length).fill(pad), ...p]);
  let positions: number[][] = mask.map((row) =>
    row.map((_, j) => Math.max(0, j - (T0 - row.filter((x) => x === 1).length))),
  );
  const past: Record<string, ort.Tensor> = {};
  for (let l = 0; l < nLayer; l++)
    for (const kind of ["key", "value"] as const)
      past[pastKeyValueName(l, kind)] = new ort.Tensor("float32", new Float32Array(0), [B, H, 0, D]);
  const out: number[][] = prompts.map(() => []);
  for (let s = 0; s < steps; s++) {
    const T = ids[0]!.length;
    const i64 = (rows: number[][]) =>
      new ort.Tensor("int64", BigInt64Array.from(rows.flat().map(BigInt)), [B, rows[0]!.length]);
    const r = await session.run({
      input_ids: i64(ids),
      attention_mask: i64(mask),
      position_ids: i64(positions),
      ...past,
    });
    const logits = r.logits!.data as Float32Array; // [B, T, V]
    expect(r.logits!.dims).toEqual([B, T, V]);
    const next = prompts.map((_, b) => {
      const row = logits.subarray((b * T + T - 1) * V, (b * T + T) * V);
      let best = 0;
      for (let v = 1; v < V; v++) if (row[v]! > row[best]!) best = v;
      return best;
    });
    next.forEach((t, b) => out[b]!.push(t));
    for (let l = 0; l < nLayer; l++)
      for (const kind of ["key", "value"] as const) past[pastKeyValueName(l, kind)] = r[presentKeyValueName(l, kind)]!;
    ids = next.map((t) => [t]);
    positions = positions.map((row) => [row[row.length - 1]! + 1]);
    mask.forEach((row) => row.push(1));
  }
  return out;
}

describe("baton export onnx", () => {
  let dir: string;
  let model: ModelFolder;
  let session: ort.InferenceSession;
  let sampler: Sampler;
  const greedy = async (prompt: number[]) =>
    (await sampler.generate(prompt, { temperature: 0, maxTokens: NEW_TOKENS })).tokens;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "baton-export-"));
    const train = await cli(
      [
        "train",
        "pretrain",
        "--preset",
        "tiny",
        "--data",
        TEXT,
        "--tokenizer",
        "char",
        "--iters",
        "600",
        "--out",
        join(dir, "model"),
      ],
      {},
    );
    expect(train.code, train.stderr).toBe(0);
    const exported = await cli(["export", "onnx", join(dir, "model"), "--out", join(dir, "serving")], {});
    expect(exported.code, exported.stderr).toBe(0);
    model = await loadModelFolder(join(dir, "model"));
    session = await ort.InferenceSession.create(join(dir, "serving", "onnx", "model.onnx"));
    sampler = await Sampler.create(model.config, model.params, { threads: 1 });
  }, 120_000);
  afterAll(async () => {
    await sampler?.dispose();
    await session?.release();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("is laid out as transformers.js expects, with HF Optimum's input and output names", async () => {
    const files = await Promise.all(
      ["config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json"].map(
        async (f) => JSON.parse(await readFile(join(dir, "serving", f), "utf8")) as Record<string, any>,
      ),
    );
    const [config, generation, tokenizer, tokenizerConfig] = files as [
      Record<string, any>,
      Record<string, any>,
      Record<string, any>,
      Record<string, any>,
    ];
    expect(config).toMatchObject({
      model_type: "gpt2",
      n_layer: model.config.nLayer,
      n_head: model.config.nHead,
      n_embd: model.config.nEmbd,
      vocab_size: model.config.vocabSize,
      use_cache: true,
    });
    expect(generation).toMatchObject({
      eos_token_id: model.tokenizer.special.eos,
      bos_token_id: model.tokenizer.special.bos,
      do_sample: false,
    });
    // a char tokenizer gets an unk_token that is one of its own tokens
    expect(tokenizer.model.unk_token).toBe(model.tokenizer.specialText.pad);
    expect(tokenizer.model.vocab[tokenizer.model.unk_token]).toBe(model.tokenizer.special.pad);
    expect(tokenizerConfig).toMatchObject({
      unk_token: model.tokenizer.specialText.pad,
      eos_token: model.tokenizer.specialText.eos,
      model_max_length: model.config.blockSize,
    });
    const cache = (name: (l: number, k: "key" | "value") => string) =>
      Array.from({ length: model.config.nLayer }, (_, l) => [name(l, "key"), name(l, "value")]).flat();
    expect(session.inputNames).toEqual(["input_ids", "attention_mask", "position_ids", ...cache(pastKeyValueName)]);
    expect(session.outputNames).toEqual(["logits", ...cache(presentKeyValueName)]);
    expect(cache(pastKeyValueName)[0]).toBe("past_key_values.0.key");
  });

  it.each([
    ["batch 1, a 3-token prompt", ["ROM"]],
    ["batch 1, an 8-token prompt", ["KING RIC"]],
    ["batch 4, 3-token prompts", ["ROM", "The", "And", "Wha"]],
    ["batch 4, 8-token prompts", ["KING RIC", "First Ci", "My lord,", "To be, o"]],
    ["batch 4, both lengths, left-padded", ["ROM", "First Ci", "And", "My lord,"]],
  ])("%s: exactly the tokens of greedy sampling", { timeout: 60_000 }, async (_name, texts) => {
    const prompts = texts.map((t) => model.tokenizer.encode(t));
    expect(new Set(prompts.map((p) => p.length)).size).toBeLessThanOrEqual(2);
    const expected = await Promise.all(prompts.map(greedy));
    expect(await greedyOnnx(session, model, prompts, NEW_TOKENS)).toEqual(expected);
    // the continuations are not all one token: the comparison says something
    expect(
      new Set(expected.flat()).size,
      JSON.stringify(expected.map((t) => model.tokenizer.decode(t))),
    ).toBeGreaterThan(1);
  });

  describe("loaded by @huggingface/transformers, offline", () => {
    beforeAll(() => {
      transformersEnv.allowRemoteModels = false; // local files only: nothing is fetched from a hub
      transformersEnv.localModelPath = dir;
    });

    it("the text-generation pipeline continues a prompt with greedy sampling's tokens (two prompt lengths)", {
      timeout: 60_000,
    }, async () => {
      const generate = await pipeline("text-generation", "serving", { dtype: "fp32" });
      for (const text of ["ROM", "KING RIC"]) {
        const tokens = await greedy(model.tokenizer.encode(text));
        const [out] = (await generate(text, { max_new_tokens: NEW_TOKENS, do_sample: false })) as {
          generated_text: string;
        }[];
        expect(out?.generated_text, text).toBe(text + model.tokenizer.decode(tokens));
      }
      await generate.dispose();
    });

    it("generate() gives greedy sampling's tokens for batch 1 and batch 4", { timeout: 60_000 }, async () => {
      const tokenizer = await AutoTokenizer.from_pretrained("serving");
      const lm = await AutoModelForCausalLM.from_pretrained("serving", { dtype: "fp32" });
      for (const texts of [
        ["ROM"],
        ["KING RIC"],
        ["ROM", "The", "And", "Wha"],
        ["KING RIC", "First Ci", "My lord,", "To be, o"],
      ]) {
        const prompts = texts.map((t) => model.tokenizer.encode(t));
        expect(texts.map((t) => tokenizer.encode(t, { add_special_tokens: false }))).toEqual(prompts);
        const inputs = tokenizer(texts, { add_special_tokens: false });
        const out = (await lm.generate({ ...inputs, max_new_tokens: NEW_TOKENS, do_sample: false })) as {
          tolist(): bigint[][];
        };
        const continued = out.tolist().map((row, b) => row.slice(prompts[b]!.length).map(Number));
        expect(continued, texts.join(" | ")).toEqual(await Promise.all(prompts.map(greedy)));
      }
      await lm.dispose();
    });
  });

  it("a model without biases and with its own LM head exports as exactly too", { timeout: 60_000 }, async () => {
    const tokenizer = charTokenizerFromChars([..."abcdefghij ."]);
    const config = {
      ...DEFAULT_GPT_CONFIG,
      nLayer: 2,
      nHead: 2,
      nEmbd: 16,
      blockSize: 24,
      vocabSize: tokenizer.vocabSize,
      bias: false,
      tieWordEmbeddings: false,
    };
    let seed = 7; // seeded weights, large enough that the next token is never a near tie
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
    const params = new Map(
      gptTensorSpecs(config).map((t) => [
        t.name,
        Float32Array.from({ length: t.shape.reduce((a, b) => a * b, 1) }, () =>
          t.name.includes("ln_") ? 1 + 0.1 * random() : 0.5 * random(),
        ),
      ]),
    );
    const own: ModelFolder = { config, params, tokenizer };
    await saveModelFolder(join(dir, "untied"), own);
    await exportServingFolder(join(dir, "untied"), join(dir, "untied-serving"));
    const untied = await ort.InferenceSession.create(join(dir, "untied-serving", "onnx", "model.onnx"));
    const reference = await Sampler.create(config, params, { threads: 1 });
    try {
      const prompts = ["ab", "cafe.", "j", "dig a"].map((t) => tokenizer.encode(t));
      const expected = await Promise.all(
        prompts.map(async (p) => (await reference.generate(p, { temperature: 0, maxTokens: NEW_TOKENS })).tokens),
      );
      expect(await greedyOnnx(untied, own, prompts, NEW_TOKENS)).toEqual(expected);
      expect(new Set(expected.flat()).size).toBeGreaterThan(1);
    } finally {
      await reference.dispose();
      await untied.release();
    }
  });
});
