import type { HfTokenizerJson } from "./hf-json-types.ts";
import type { SpecialTokenIds, SpecialTokenText } from "./special-tokens.ts";

/** A tokenizer the model, the trainer and the data pipeline share. Ids are 0 .. vocabSize-1. */
export interface Tokenizer {
  readonly kind: "char" | "byte-bpe";
  /** Number of ids (max id + 1), special tokens included: the model's V. */
  readonly vocabSize: number;
  readonly special: SpecialTokenIds;
  readonly specialText: SpecialTokenText;
  /** Special-token text inside `text` (e.g. "<|user|>") becomes its single id, as HF tokenizers do. */
  encode(text: string): number[];
  decode(ids: ArrayLike<number>, options?: { skipSpecial?: boolean }): string;
  /** Same ids as `encode` of the concatenated pushes; for corpora read in chunks. */
  createStreamEncoder(): StreamEncoder;
  idToToken(id: number): string | undefined;
  tokenToId(token: string): number | undefined;
  /** The HF `tokenizer.json` object. */
  toHfJson(): HfTokenizerJson;
}

export interface StreamEncoder {
  push(text: string): number[];
  flush(): number[];
}

/** Every tokenizer failure: the message says what, where and what to do. */
export class TokenizerError extends Error {
  override name = "TokenizerError";
}

const WS = /\s/u;

/**
 * A stream encoder that only encodes up to the last "non-space then space" boundary of its buffer.
 * Why that boundary is safe: no GPT-2 pre-token and no special token contains a non-space character
 * followed by a space, so the text before it tokenises the same whatever follows.
 */
export function boundaryStreamEncoder(encode: (text: string) => number[], maxBuffer = 1 << 20): StreamEncoder {
  let buffer = "";
  return {
    push(text: string): number[] {
      buffer += text;
      let cut = -1;
      for (let i = buffer.length - 1; i > 0; i--) {
        if (WS.test(buffer[i]!) && !WS.test(buffer[i - 1]!)) {
          cut = i;
          break;
        }
      }
      // A huge run with no boundary (binary-like text) is cut anyway rather than held in memory.
      if (cut < 0 && buffer.length > maxBuffer) cut = buffer.length;
      if (cut <= 0) return [];
      const head = buffer.slice(0, cut);
      buffer = buffer.slice(cut);
      return encode(head);
    },
    flush(): number[] {
      const rest = buffer;
      buffer = "";
      return rest.length > 0 ? encode(rest) : [];
    },
  };
}
