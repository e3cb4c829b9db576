import type { HfTokenizerJson } from "./hf-json-types.ts";
import { hfAddedTokens } from "./hf-json-types.ts";
import type { SpecialTokenIds, SpecialTokenText } from "./special-tokens.ts";
import { BATON_SPECIAL_TEXT, SPECIAL_TOKEN_NAMES, SpecialTokenSplitter } from "./special-tokens.ts";
import type { StreamEncoder, Tokenizer } from "./tokenizer.ts";
import { boundaryStreamEncoder, TokenizerError } from "./tokenizer.ts";

/**
 * Character-level tokenizer: one id per code point of the corpus. Saved as an HF BPE model with no
 * merges, no pre-tokenizer and a Fuse decoder, which HF tokenizers loads and runs the same way.
 */
export class CharTokenizer implements Tokenizer {
  readonly kind = "char" as const;
  readonly vocabSize: number;
  readonly special: SpecialTokenIds;
  readonly specialText: SpecialTokenText;
  private readonly idOf: Map<string, number>;
  private readonly tokenOf: string[];
  private readonly specialIds: Set<number>;
  private readonly splitter: SpecialTokenSplitter;

  /** `vocab`: token -> id, dense from 0; `added`: the special tokens (also in vocab). */
  constructor(
    vocab: ReadonlyMap<string, number>,
    added: ReadonlyMap<string, number>,
    special: { ids: SpecialTokenIds; text: SpecialTokenText },
  ) {
    this.idOf = new Map(vocab);
    this.tokenOf = [];
    for (const [t, id] of vocab) this.tokenOf[id] = t;
    this.vocabSize = this.tokenOf.length;
    for (let i = 0; i < this.vocabSize; i++) {
      if (this.tokenOf[i] === undefined)
        throw new TokenizerError(`char tokenizer: id ${i} has no token; ids must be dense 0..${this.vocabSize - 1}`);
    }
    this.special = special.ids;
    this.specialText = special.text;
    this.specialIds = new Set(added.values());
    this.splitter = new SpecialTokenSplitter(added);
  }

  encode(text: string): number[] {
    const ids: number[] = [];
    let offset = 0; // UTF-16 offset in `text`, for the error message
    for (const piece of this.splitter.split(text)) {
      if (typeof piece === "number") {
        ids.push(piece);
        offset += this.tokenOf[piece]!.length;
        continue;
      }
      for (const ch of piece) {
        const id = this.idOf.get(ch);
        if (id === undefined || this.specialIds.has(id)) {
          const cp = ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
          throw new TokenizerError(
            `char tokenizer: character ${JSON.stringify(ch)} (U+${cp}) at offset ${offset} ` +
              `is not in the vocabulary (${this.vocabSize} tokens, built from the training corpus); ` +
              `retrain the tokenizer on text that contains it, or clean the input`,
          );
        }
        ids.push(id);
        offset += ch.length;
      }
    }
    return ids;
  }

  decode(ids: ArrayLike<number>, options: { skipSpecial?: boolean } = {}): string {
    let out = "";
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const token = this.tokenOf[id];
      if (token === undefined)
        throw new TokenizerError(
          `char tokenizer: id ${id} at position ${i} is outside the vocabulary 0..${this.vocabSize - 1}`,
        );
      if (options.skipSpecial && this.specialIds.has(id)) continue;
      out += token;
    }
    return out;
  }

  createStreamEncoder(): StreamEncoder {
    return boundaryStreamEncoder((t) => this.encode(t));
  }

  idToToken(id: number): string | undefined {
    return this.tokenOf[id];
  }

  tokenToId(token: string): number | undefined {
    return this.idOf.get(token);
  }

  toHfJson(): HfTokenizerJson {
    const added = new Map([...this.specialIds].map((id) => [this.tokenOf[id]!, id]));
    return {
      version: "1.0",
      truncation: null,
      padding: null,
      added_tokens: hfAddedTokens(added),
      normalizer: null,
      pre_tokenizer: null,
      post_processor: null,
      decoder: { type: "Fuse" },
      model: {
        type: "BPE",
        dropout: null,
        unk_token: null,
        continuing_subword_prefix: null,
        end_of_word_suffix: null,
        fuse_unk: false,
        byte_fallback: false,
        ignore_merges: false,
        vocab: Object.fromEntries(this.tokenOf.map((t, id) => [t, id])),
        merges: [],
      },
    };
  }
}

/**
 * Builds a char vocabulary from a corpus read in chunks (memory = the distinct characters only):
 * ids 0..6 are the special tokens, then the corpus characters in code-point order.
 */
export async function trainCharTokenizer(chunks: Iterable<string> | AsyncIterable<string>): Promise<CharTokenizer> {
  const seen = new Set<string>();
  for await (const chunk of chunks) for (const ch of chunk) seen.add(ch);
  if (seen.size === 0)
    throw new TokenizerError("char tokenizer: the corpus is empty; give it at least one character of text");
  const chars = [...seen].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
  return charTokenizerFromChars(chars);
}

export function charTokenizerFromChars(chars: readonly string[]): CharTokenizer {
  const vocab = new Map<string, number>();
  const added = new Map<string, number>();
  const ids = {} as SpecialTokenIds;
  const text = {} as SpecialTokenText;
  for (const name of SPECIAL_TOKEN_NAMES) {
    const t = BATON_SPECIAL_TEXT[name];
    vocab.set(t, vocab.size);
    added.set(t, vocab.get(t)!);
    ids[name] = vocab.get(t)!;
    text[name] = t;
  }
  for (const ch of chars) if (!vocab.has(ch)) vocab.set(ch, vocab.size);
  return new CharTokenizer(vocab, added, { ids, text });
}
