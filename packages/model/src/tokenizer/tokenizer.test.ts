import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import hf from "tokenizers";
import { describe, expect, it } from "vitest";
import type { Tokenizer } from "./index.ts";
import {
  BATON_SPECIAL_TEXT,
  loadTokenizer,
  saveTokenizer,
  TokenizerError,
  tokenizerFromHfJson,
  trainBpeTokenizer,
  trainCharTokenizer,
} from "./index.ts";

/** A seeded English-like corpus, so the test needs no files. */
function corpus(sentences: number, seed = 7): string {
  let s = seed >>> 0;
  const rnd = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const words = [
    "the",
    "a",
    "cat",
    "dog",
    "sat",
    "ran",
    "on",
    "under",
    "mat",
    "tree",
    "quickly",
    "it's",
    "we'll",
    "42",
    "3.14",
    "naïve",
    "café",
    "über",
    "!",
    "?",
    "--",
  ];
  const out: string[] = [];
  for (let i = 0; i < sentences; i++) {
    const n = 3 + Math.floor(rnd() * 8);
    const ws: string[] = [];
    const syllables = ["ka", "lo", "mi", "tren", "ost", "ul", "vy", "spar", "en", "dor"];
    for (let j = 0; j < n; j++) {
      // Half known words, half made-up ones, so there are thousands of distinct pre-tokens to merge.
      if (rnd() < 0.5) ws.push(words[Math.floor(rnd() * words.length)]!);
      else
        ws.push(
          Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => syllables[Math.floor(rnd() * syllables.length)]).join(
            "",
          ),
        );
    }
    out.push(ws.join(" ") + (rnd() < 0.2 ? ".\n\n" : ". "));
  }
  return out.join("");
}

const SAMPLE = "Hello  world!\n\n  it's 2024 — naïve café, über 🎉\t<|user|>hi<|end|>\n<|assistant|>ok<|endoftext|>";

async function hfCheck(tok: Tokenizer, text: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "tok-"));
  const path = join(dir, "tokenizer.json");
  await saveTokenizer(tok, path);
  const ref = hf.Tokenizer.fromFile(path);
  const enc = await ref.encode(text);
  expect(enc.getIds()).toEqual(tok.encode(text));
  expect(await ref.decode(tok.encode(text), false)).toBe(tok.decode(tok.encode(text)));
  expect(ref.getVocabSize(true)).toBe(tok.vocabSize);
}

describe("char tokenizer", () => {
  it("reserves the special tokens at 0..6, round-trips text and loads in HF tokenizers with the same ids", async () => {
    const text = SAMPLE.replace(/<\|[a-z]+\|>/g, "");
    const tok = await trainCharTokenizer([text.slice(0, 10), text.slice(10)]);
    expect(tok.special).toEqual({ bos: 0, eos: 1, pad: 2, system: 3, user: 4, assistant: 5, end: 6 });
    expect(tok.vocabSize).toBe(7 + new Set(text).size); // a Set of a string holds its code points
    expect(tok.decode(tok.encode(SAMPLE))).toBe(SAMPLE);
    expect(tok.encode("<|user|>")).toEqual([4]);
    expect(tok.decode(tok.encode(SAMPLE), { skipSpecial: true })).toBe(text);
    await hfCheck(tok, SAMPLE);
  });

  it("names an unknown character, its code point and offset", async () => {
    const tok = await trainCharTokenizer(["abc "]);
    expect(() => tok.encode("ab<|end|>cz")).toThrow(/character "z" \(U\+007A\) at offset 10 is not in the vocabulary/);
  });

  it("refuses an empty corpus", async () => {
    await expect(trainCharTokenizer([""])).rejects.toThrow(/corpus is empty/);
  });
});

describe("byte-level BPE", () => {
  it("trains on a MB-scale corpus in seconds, reaches the vocab size and matches HF tokenizers", async () => {
    const text = corpus(40_000); // ~1.4 MB
    const t0 = performance.now();
    const chunks = text.match(/[\s\S]{1,65536}/g)!;
    const tok = await trainBpeTokenizer(chunks, { vocabSize: 1024 });
    const ms = performance.now() - t0;
    console.log(`byte-level BPE: trained ${(text.length / 1e6).toFixed(2)} MB to 1024 tokens in ${ms.toFixed(0)} ms`);
    expect(tok.vocabSize).toBe(1024);
    expect(tok.decode(tok.encode(SAMPLE))).toBe(SAMPLE);
    const ids = tok.encode(text.slice(0, 20_000));
    expect(ids.length).toBeLessThan(20_000 / 2.5); // merges compress: the corpus' words become few tokens
    await hfCheck(tok, SAMPLE + text.slice(0, 5000));
  });

  it("round-trips arbitrary unicode and control bytes", async () => {
    const tok = await trainBpeTokenizer([corpus(500)], { vocabSize: 300 });
    const weird = "\u0000\u0001\u007f ÿ 中文 🤖🤖 \r\n\t  tail ";
    expect(tok.decode(tok.encode(weird))).toBe(weird);
  });

  it("encodes a stream of chunks exactly as the whole text", async () => {
    const tok = await trainBpeTokenizer([corpus(2000)], { vocabSize: 400 });
    const text = corpus(300, 99) + SAMPLE;
    const stream = tok.createStreamEncoder();
    const ids: number[] = [];
    for (let i = 0; i < text.length; i += 37) ids.push(...stream.push(text.slice(i, i + 37)));
    ids.push(...stream.flush());
    expect(ids).toEqual(tok.encode(text));
  });

  it("reloads from tokenizer.json with identical ids", async () => {
    const tok = await trainBpeTokenizer([corpus(2000)], { vocabSize: 500 });
    const again = tokenizerFromHfJson(JSON.parse(JSON.stringify(tok.toHfJson())));
    const text = corpus(200, 3);
    expect(again.encode(text)).toEqual(tok.encode(text));
    expect(again.special.eos).toBe(1);
    expect(again.specialText.eos).toBe(BATON_SPECIAL_TEXT.eos);
  });

  it("refuses a bad vocab size", async () => {
    await expect(trainBpeTokenizer(["abc"], { vocabSize: 100 })).rejects.toThrow(
      /vocabSize 100 must be an integer in 263/,
    );
  });
});

describe("tokenizer.json errors", () => {
  it("names the file and the field it does not accept", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tok-"));
    const bad = join(dir, "tokenizer.json");
    await writeFile(bad, "{not json");
    await expect(loadTokenizer(bad)).rejects.toThrow(new RegExp(`${bad}: not valid JSON`));
    expect(() => tokenizerFromHfJson({ model: { type: "WordPiece", vocab: {} } }, "x.json")).toThrow(
      /x.json: \/model\/type is "WordPiece"/,
    );
    expect(() =>
      tokenizerFromHfJson(
        { model: { type: "BPE", vocab: { a: 0 }, merges: [] }, pre_tokenizer: { type: "Whitespace" } },
        "y.json",
      ),
    ).toThrow(TokenizerError);
    expect(() =>
      tokenizerFromHfJson(
        { model: { type: "BPE", vocab: { a: 0 }, merges: [] }, decoder: { type: "Fuse" }, added_tokens: [] },
        "z.json",
      ),
    ).toThrow(/z.json: no end-of-text token/);
  });
});
