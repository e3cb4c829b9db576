import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { preparePretraining } from "./pretrain.ts";

const root = await mkdtemp(join(tmpdir(), "baton-pretrain-"));
afterAll(() => rm(root, { recursive: true, force: true }));

async function corpus(name: string, bytes: string | Uint8Array): Promise<string> {
  const path = join(root, name);
  await writeFile(path, bytes);
  return path;
}

const prepare = (data: string, preset = "tiny") =>
  preparePretraining({ preset, data: [data], tokenizer: "char", workDir: join(root, `tokens-${Math.random()}`) });

describe("preparePretraining: bad input is a clear error", () => {
  it("names the unknown preset and lists the known ones", async () => {
    await expect(prepare(await corpus("ok.txt", "hello world ".repeat(50)), "gpt5")).rejects.toThrow(
      /unknown preset "gpt5"; known presets:[\s\S]*nanogpt-baby[\s\S]*nanogpt-shakespeare-char[\s\S]*gpt2-124m/,
    );
  });
  it("refuses an empty corpus, a binary file and a corpus shorter than one block, naming the file or the numbers", async () => {
    await expect(prepare(await corpus("empty.txt", ""))).rejects.toThrow(/empty\.txt: .*empty/);
    await expect(
      prepare(await corpus("tool.txt", new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0, 2, 1, 0]))),
    ).rejects.toThrow(/tool\.txt: a NUL byte .*binary file/);
    // tiny's block is 16: 12 characters + EOS give a 90/10 split far below 16 + 1 tokens
    await expect(prepare(await corpus("short.txt", "to be or not"))).rejects.toThrow(/fewer than one block of 16 \+ 1/);
  });
  it("fills the trainer's options from the preset, overridden field by field", async () => {
    const p = await preparePretraining({
      preset: "nanogpt-baby",
      data: [await corpus("text.txt", "the quick brown fox jumps over the lazy dog. ".repeat(200))],
      tokenizer: "char",
      workDir: join(root, "tokens-ok"),
      overrides: { iters: 300, lr: 2e-3 },
    });
    expect(p.model).toMatchObject({
      nLayer: 4,
      nHead: 4,
      nEmbd: 128,
      blockSize: 64,
      bias: false,
      dropout: 0,
      vocabSize: p.tokenizer.vocabSize,
    });
    expect(p.options).toMatchObject({
      batchSize: 12,
      iters: 300,
      clipNorm: 1,
      optimizer: { beta1: 0.9, beta2: 0.99, weightDecay: 0.1 },
    });
    // a shorter run decays over its own length, as nanoGPT's lr_decay_iters = max_iters
    expect(p.options.schedule).toEqual({ lr: 2e-3, minLr: 1e-4, warmupIters: 100, decayIters: 300 });
    p.corpus.close();
  });
});

describe("preparePretraining: tokenizer and token corpus from @baton/data", () => {
  it("reuses the token files of the same tokenizer and sources, and rebuilds them for another tokenizer", async () => {
    const data = [await corpus("reuse.txt", "she sells sea shells by the sea shore. ".repeat(100))];
    const workDir = join(root, "tokens-reuse");
    const first = await preparePretraining({ preset: "tiny", data, tokenizer: "char", workDir });
    first.corpus.close();
    const again = await preparePretraining({ preset: "tiny", data, tokenizer: "char", workDir });
    expect(first.corpus.reused).toBe(false);
    expect(again.corpus.reused).toBe(true);
    expect(again.corpus.train.length).toBe(first.corpus.train.length);
    again.corpus.close();
    const bpe = await preparePretraining({ preset: "tiny", data, tokenizer: "bpe:300", workDir });
    expect(bpe.corpus.reused).toBe(false);
    expect(bpe.tokenizer.vocabSize).toBeLessThanOrEqual(300);
    expect(bpe.corpus.train.length).toBeLessThan(first.corpus.train.length); // merges make fewer tokens
    bpe.corpus.close();
  });
});
