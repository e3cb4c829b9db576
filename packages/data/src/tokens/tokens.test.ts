import { mkdtemp, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { testCodec } from "../test-codec.ts";
import { LmBatches, toInt64 } from "./batches.ts";
import { buildTokenCorpus, corpusTexts } from "./corpus.ts";

const ALPHABET = "abcdefghijklmnopqrstuvwxyz .,\n0123456789";

async function dir(): Promise<string> {
  return mkdtemp(join(tmpdir(), "tok-"));
}

describe("token corpus", () => {
  it("writes documents with EOS between them, splits train/val, and keeps the batch a pure function of (seed, step)", async () => {
    const d = await dir();
    const codec = testCodec(ALPHABET);
    const docs = Array.from({ length: 300 }, (_, i) => `document ${i} says hello, world.`);
    await writeFile(join(d, "c.jsonl"), docs.map((text) => JSON.stringify({ text })).join("\n"));
    const corpus = await buildTokenCorpus({ train: [join(d, "c.jsonl")], tokenizer: codec, dir: join(d, "tokens") });
    const total = docs.reduce((n, t) => n + t.length + 1, 0);
    expect(corpus.train.length + corpus.val.length).toBe(total);
    expect(corpus.train.length).toBe(Math.floor(total * 0.9));
    expect(corpus.documents.train).toBe(300);
    expect(codec.decode(corpus.train.read(0, docs[0]!.length + 1))).toBe(`${docs[0]}<|endoftext|>`);
    expect(corpus.datasets[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect((await stat(join(d, "tokens", "train.tokens"))).size).toBe(total * 2); // uint16 on disk

    const batches = new LmBatches(corpus, { batchSize: 4, blockSize: 16 });
    const a = batches.train(7, 123);
    expect(a.x).toHaveLength(64);
    expect(batches.train(7, 123)).toEqual(a); // pure: resume reads the same batch
    expect(batches.train(7, 124).x).not.toEqual(a.x);
    expect(batches.train(8, 123).x).not.toEqual(a.x);
    for (let r = 0; r < 4; r++)
      expect(a.y.subarray(r * 16, r * 16 + 15)).toEqual(a.x.subarray(r * 16 + 1, r * 16 + 16)); // y is x shifted by one
    expect(batches.val(0)).toEqual(batches.val(0));
    expect(toInt64([1, 2])).toEqual(new BigInt64Array([1n, 2n]));
    corpus.close();
  });

  it("draws windows evenly over the corpus", async () => {
    const d = await dir();
    const codec = testCodec(ALPHABET);
    await writeFile(join(d, "c.txt"), "abcdefghij".repeat(2000));
    const corpus = await buildTokenCorpus({ train: [join(d, "c.txt")], tokenizer: codec, dir: d, valFraction: 0.5 });
    const batches = new LmBatches(corpus, { batchSize: 8, blockSize: 4 });
    const counts = new Array<number>(10).fill(0);
    for (let s = 0; s < 500; s++)
      for (const id of batches.train(1, s).x.filter((_, i) => i % 4 === 0)) counts[id - 7]! += 1;
    for (const c of counts) expect(c).toBeGreaterThan(300); // 4000 draws over 10 start letters: ~400 each
    corpus.close();
  });

  it("takes separate val sources, and several train sources in order", async () => {
    const d = await dir();
    const codec = testCodec(ALPHABET);
    await writeFile(join(d, "a.txt"), "first file text");
    await writeFile(join(d, "b.jsonl"), '{"text":"second"}\n{"text":"third"}\n');
    await writeFile(join(d, "v.txt"), "held out text, long enough for a block");
    const corpus = await buildTokenCorpus({
      train: [join(d, "a.txt"), join(d, "b.jsonl")],
      val: [join(d, "v.txt")],
      tokenizer: codec,
      dir: d,
    });
    expect(codec.decode(corpus.train.read(0, corpus.train.length))).toBe(
      "first file text<|endoftext|>second<|endoftext|>third<|endoftext|>",
    );
    expect(corpus.val.length).toBe(39);
    expect(corpus.datasets.map((x) => x.format)).toEqual(["text", "jsonl-text", "text"]);
    corpus.close();
    const pieces: string[] = [];
    for await (const t of corpusTexts([join(d, "a.txt"), join(d, "b.jsonl")])) pieces.push(t);
    expect(pieces.join("")).toBe("first file text\nsecond\nthird\n");
  });

  it("refuses a corpus shorter than one block, supervised records, and an empty corpus", async () => {
    const d = await dir();
    const codec = testCodec(ALPHABET);
    await writeFile(join(d, "short.txt"), "tiny corpus here");
    const corpus = await buildTokenCorpus({ train: [join(d, "short.txt")], tokenizer: codec, dir: d });
    expect(() => new LmBatches(corpus, { batchSize: 2, blockSize: 64 })).toThrow(
      /the train split has 15 tokens, fewer than one block of 64 \+ 1/,
    );
    corpus.close();
    await writeFile(join(d, "pc.jsonl"), '{"prompt":"a","completion":"b"}\n');
    await expect(buildTokenCorpus({ train: [join(d, "pc.jsonl")], tokenizer: codec, dir: d })).rejects.toThrow(
      /pc\.jsonl:1: a language-model corpus takes text files or \{"text"\} JSONL, not prompt-completion records/,
    );
    await writeFile(join(d, "empty.txt"), "");
    await expect(buildTokenCorpus({ train: [join(d, "empty.txt")], tokenizer: codec, dir: d })).rejects.toThrow(
      /empty\.txt: the text file is empty/,
    );
  });

  it("reuses token files for the same sources and tokenizer key, and only then", async () => {
    const d = await dir();
    const codec = testCodec(ALPHABET);
    const src = join(d, "c.txt");
    await writeFile(src, "some corpus text, long enough. ".repeat(20));
    const build = (cacheKey?: string) =>
      buildTokenCorpus({ train: [src], tokenizer: codec, dir: join(d, "t"), ...(cacheKey && { cacheKey }) });
    const first = await build("tok-a");
    expect(first.reused).toBe(false);
    const tokens = first.train.read(0, first.train.length);
    first.close();
    const second = await build("tok-a");
    expect(second.reused).toBe(true);
    expect(second.train.read(0, second.train.length)).toEqual(tokens);
    expect(second.datasets).toEqual(first.datasets);
    second.close();
    for (const other of [() => build("tok-b"), () => build()]) {
      const c = await other();
      expect(c.reused).toBe(false);
      c.close();
    }
    await writeFile(src, "changed corpus text, long enough. ".repeat(20));
    const changed = await build("tok-a");
    expect(changed.reused).toBe(false);
    expect(changed.train.length).not.toBe(first.train.length);
    changed.close();
  });
});
