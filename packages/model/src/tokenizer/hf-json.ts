import { readFile, writeFile } from "node:fs/promises";
import { ByteLevelBpeTokenizer } from "./bpe-tokenizer.ts";
import { CharTokenizer } from "./char-tokenizer.ts";
import { resolveSpecialTokens } from "./special-tokens.ts";
import type { Tokenizer } from "./tokenizer.ts";
import { TokenizerError } from "./tokenizer.ts";

/**
 * Reads HF tokenizer.json: Baton's char level (BPE, no merges, no pre-tokenizer, Fuse decoder) and
 * GPT-2 style byte-level BPE (ours or GPT-2's own). Anything else is refused with the field named.
 */
export function tokenizerFromHfJson(json: unknown, where = "tokenizer.json"): Tokenizer {
  if (!isObject(json)) throw new TokenizerError(`${where}: expected a JSON object, got ${typeName(json)}`);
  const model = json["model"];
  if (!isObject(model)) throw new TokenizerError(`${where}: /model is missing; not an HF tokenizer.json`);
  if (model["type"] !== "BPE") {
    throw new TokenizerError(
      `${where}: /model/type is ${JSON.stringify(model["type"])}; Baton reads BPE models only (byte-level BPE or its char-level format)`,
    );
  }
  if (json["normalizer"] != null) {
    throw new TokenizerError(
      `${where}: /normalizer is ${JSON.stringify((json["normalizer"] as Record<string, unknown>)["type"])}; Baton's tokenizers have no normalizer, so this file would encode differently here`,
    );
  }
  const vocabJson = model["vocab"];
  if (!isObject(vocabJson)) throw new TokenizerError(`${where}: /model/vocab must be an object of token -> id`);
  const vocab = new Map<string, number>();
  for (const [t, id] of Object.entries(vocabJson)) {
    if (typeof id !== "number" || !Number.isInteger(id) || id < 0)
      throw new TokenizerError(
        `${where}: /model/vocab/${JSON.stringify(t)} must be a non-negative integer id, got ${JSON.stringify(id)}`,
      );
    vocab.set(t, id);
  }
  const added = new Map<string, number>();
  const addedJson = json["added_tokens"] ?? [];
  if (!Array.isArray(addedJson)) throw new TokenizerError(`${where}: /added_tokens must be an array`);
  addedJson.forEach((t: unknown, i) => {
    if (!isObject(t) || typeof t["content"] !== "string" || typeof t["id"] !== "number") {
      throw new TokenizerError(`${where}: /added_tokens/${i} needs "content" (string) and "id" (number)`);
    }
    added.set(t["content"], t["id"]);
  });
  const merges = parseMerges(model["merges"], where);
  const pre = json["pre_tokenizer"];
  const preType = isObject(pre) ? pre["type"] : null;

  if (preType === "ByteLevel") {
    if (isObject(pre) && pre["add_prefix_space"] === true) {
      throw new TokenizerError(
        `${where}: /pre_tokenizer/add_prefix_space is true; Baton's byte-level BPE encodes without a prefix space (GPT-2's setting)`,
      );
    }
    return new ByteLevelBpeTokenizer(vocab, merges, added, where);
  }
  const decoderType = isObject(json["decoder"]) ? (json["decoder"] as Record<string, unknown>)["type"] : null;
  if (pre == null && merges.length === 0 && decoderType === "Fuse") {
    const special = resolveSpecialTokens(added, where);
    return new CharTokenizer(vocab, added, special);
  }
  throw new TokenizerError(
    `${where}: /pre_tokenizer is ${JSON.stringify(preType)} with ${merges.length} merges and decoder ${JSON.stringify(decoderType)}; ` +
      `Baton reads byte-level BPE (pre_tokenizer ByteLevel) or its char-level format (no pre_tokenizer, no merges, Fuse decoder)`,
  );
}

function parseMerges(value: unknown, where: string): Array<[string, string]> {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new TokenizerError(`${where}: /model/merges must be an array`);
  return value.map((m: unknown, i): [string, string] => {
    if (typeof m === "string") {
      const parts = m.split(" ");
      if (parts.length === 2) return [parts[0]!, parts[1]!];
    } else if (Array.isArray(m) && m.length === 2 && typeof m[0] === "string" && typeof m[1] === "string") {
      return [m[0], m[1]];
    }
    throw new TokenizerError(
      `${where}: /model/merges/${i} must be "left right" or ["left", "right"], got ${JSON.stringify(m)}`,
    );
  });
}

export async function loadTokenizer(path: string): Promise<Tokenizer> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new TokenizerError(`${path}: cannot read the tokenizer file (${(e as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new TokenizerError(`${path}: not valid JSON (${(e as Error).message}); expected an HF tokenizer.json`);
  }
  return tokenizerFromHfJson(json, path);
}

export async function saveTokenizer(tokenizer: Tokenizer, path: string): Promise<void> {
  await writeFile(path, JSON.stringify(tokenizer.toHfJson()));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function typeName(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "an array" : typeof v;
}
