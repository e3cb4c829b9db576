import { describe, it, expect } from "vitest";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateDemoData, readDataset, buildTokenCorpus, LmBatches, chatExample, alpacaToMessages, collectDataset } from "@baton/data";
import type { TextCodec } from "@baton/data";
import { trainBpeTokenizer, trainCharTokenizer } from "./index.ts";

/** The text of a {"text"} JSONL corpus, streamed record by record. */
async function* texts(path: string): AsyncGenerator<string> {
  for await (const r of readDataset(path, { format: "jsonl-text" })) yield r.text + "\n";
}

describe("tokenizers on the demo data", () => {
  it("a char vocabulary from the general corpus encodes every demo file, and the corpus batches", async () => {
    const dir = await mkdtemp(join(tmpdir(), "demo-tok-"));
    await generateDemoData(dir, { seed: 1, scale: 0.25 });
    const char = await trainCharTokenizer(texts(join(dir, "general.train.jsonl")));
    const codec: TextCodec = char; // the model's tokenizers fit the data package's codec shape
    expect(char.vocabSize).toBeLessThan(60);
    const corpus = await buildTokenCorpus({ train: [join(dir, "domain.train.jsonl")], val: [join(dir, "domain.val.jsonl")], tokenizer: codec, dir: join(dir, "tokens") });
    const batch = new LmBatches(corpus, { batchSize: 4, blockSize: 64 }).train(1, 0);
    expect(Math.max(...batch.x)).toBeLessThan(char.vocabSize);
    corpus.close();
    const { records } = await collectDataset(join(dir, "instruct.test.jsonl"), { format: "alpaca" });
    for (const r of records) {
      const ex = chatExample(char, alpacaToMessages(r));
      expect(char.decode(ex.ids)).toContain(r.output + "<|endoftext|>");
    }
  });

  it("byte-level BPE learns the general corpus' words in seconds", async () => {
    const dir = await mkdtemp(join(tmpdir(), "demo-bpe-"));
    await generateDemoData(dir, { seed: 1 });
    const t0 = performance.now();
    const bpe = await trainBpeTokenizer(texts(join(dir, "general.train.jsonl")), { vocabSize: 1024 });
    console.log(`byte-level BPE on general.train.jsonl (~420 KB) to 1024 tokens: ${(performance.now() - t0).toFixed(0)} ms`);
    const sentence = "the old farmer carried the basket by the river.";
    expect(bpe.encode(sentence).length).toBeLessThan(sentence.length / 3);
    expect(bpe.decode(bpe.encode(sentence))).toBe(sentence);
  });
});
