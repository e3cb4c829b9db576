import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TextCodec } from "@baton/data";
import {
  alpacaToMessages,
  buildTokenCorpus,
  chatExample,
  collectDataset,
  corpusTexts,
  generateDemoData,
  LmBatches,
} from "@baton/data";
import { describe, expect, it } from "vitest";
import { parseTokenizerSpec, TokenizerError, trainTokenizer } from "./index.ts";

const texts = (path: string) => corpusTexts([path]);

describe("tokenizers on the demo data", () => {
  it("a char vocabulary from the general corpus encodes every demo file, and the corpus batches", async () => {
    const dir = await mkdtemp(join(tmpdir(), "demo-tok-"));
    await generateDemoData(dir, { seed: 1, scale: 0.25 });
    const char = await trainTokenizer(parseTokenizerSpec("char"), texts(join(dir, "general.train.jsonl")));
    const codec: TextCodec = char; // the model's tokenizers fit the data package's codec shape
    expect(char.vocabSize).toBeLessThan(60);
    const corpus = await buildTokenCorpus({
      train: [join(dir, "domain.train.jsonl")],
      val: [join(dir, "domain.val.jsonl")],
      tokenizer: codec,
      dir: join(dir, "tokens"),
    });
    const batch = new LmBatches(corpus, { batchSize: 4, blockSize: 64 }).train(1, 0);
    expect(Math.max(...batch.x)).toBeLessThan(char.vocabSize);
    corpus.close();
    const { records } = await collectDataset(join(dir, "instruct.test.jsonl"), { format: "alpaca" });
    for (const r of records) {
      const ex = chatExample(char, alpacaToMessages(r));
      expect(char.decode(ex.ids)).toContain(`${r.output}<|endoftext|>`);
    }
  });

  it("byte-level BPE learns the general corpus' words in seconds", async () => {
    const dir = await mkdtemp(join(tmpdir(), "demo-bpe-"));
    await generateDemoData(dir, { seed: 1 });
    const t0 = performance.now();
    const bpe = await trainTokenizer(parseTokenizerSpec("bpe:1024"), texts(join(dir, "general.train.jsonl")));
    // A small grammar runs out of pairs seen twice before 1024: training stops there, as HF's does.
    expect(bpe.vocabSize).toBeGreaterThan(600);
    expect(bpe.vocabSize).toBeLessThanOrEqual(1024);
    console.log(
      `byte-level BPE on general.train.jsonl (~420 KB) to 1024 tokens: ${(performance.now() - t0).toFixed(0)} ms`,
    );
    const sentence = "the old farmer carried the basket by the river.";
    expect(bpe.encode(sentence).length).toBeLessThan(sentence.length / 3);
    expect(bpe.decode(bpe.encode(sentence))).toBe(sentence);
  });

  it("parses tokenizer names and refuses unknown ones", () => {
    expect(parseTokenizerSpec("bpe")).toEqual({ kind: "bpe", vocabSize: 4096 });
    expect(() => parseTokenizerSpec("wordpiece")).toThrow(TokenizerError);
    expect(() => parseTokenizerSpec("wordpiece")).toThrow(
      /unknown tokenizer "wordpiece"; use "char", "bpe" or "bpe:<vocabSize>"/,
    );
  });
});
