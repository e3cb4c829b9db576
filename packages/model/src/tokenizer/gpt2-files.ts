import { readFile } from "node:fs/promises";
import { ByteLevelBpeTokenizer } from "./bpe-tokenizer.ts";
import { TokenizerError } from "./tokenizer.ts";

/** Tokens that are special wherever they appear in a GPT-2-style vocab.json. */
const KNOWN_SPECIAL = ["<|endoftext|>", "<|bos|>", "<|pad|>", "<|system|>", "<|user|>", "<|assistant|>", "<|end|>"];

/**
 * GPT-2's original tokenizer files (vocab.json + merges.txt), which many published folders ship
 * instead of tokenizer.json.
 */
export async function loadGpt2TokenizerFiles(vocabPath: string, mergesPath: string): Promise<ByteLevelBpeTokenizer> {
  let vocabJson: unknown;
  try {
    vocabJson = JSON.parse(await readFile(vocabPath, "utf8"));
  } catch (e) {
    throw new TokenizerError(`${vocabPath}: cannot read a token -> id JSON object (${(e as Error).message})`);
  }
  if (typeof vocabJson !== "object" || vocabJson === null)
    throw new TokenizerError(`${vocabPath}: expected a JSON object of token -> id`);
  const vocab = new Map<string, number>();
  for (const [t, id] of Object.entries(vocabJson)) {
    if (typeof id !== "number") throw new TokenizerError(`${vocabPath}: id of ${JSON.stringify(t)} must be a number`);
    vocab.set(t, id);
  }
  const merges: Array<[string, string]> = [];
  const lines = (await readFile(mergesPath, "utf8")).split("\n");
  lines.forEach((line, i) => {
    if (line.startsWith("#version") || line.trim() === "") return;
    const parts = line.split(" ");
    if (parts.length !== 2)
      throw new TokenizerError(`${mergesPath}:${i + 1}: expected "left right", got ${JSON.stringify(line)}`);
    merges.push([parts[0]!, parts[1]!]);
  });
  const added = new Map<string, number>();
  for (const t of KNOWN_SPECIAL) {
    const id = vocab.get(t);
    if (id !== undefined) added.set(t, id);
  }
  return new ByteLevelBpeTokenizer(vocab, merges, added, vocabPath);
}
