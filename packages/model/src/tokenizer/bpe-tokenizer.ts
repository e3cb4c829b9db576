import { trainBpe } from "./bpe-train.ts";
import { BYTE_TO_CHAR, CHAR_TO_BYTE, pretokenize, utf8Bytes } from "./byte-level.ts";
import type { HfTokenizerJson } from "./hf-json-types.ts";
import { hfAddedTokens } from "./hf-json-types.ts";
import type { SpecialTokenIds, SpecialTokenText } from "./special-tokens.ts";
import { resolveSpecialTokens, SpecialTokenSplitter } from "./special-tokens.ts";
import type { StreamEncoder, Tokenizer } from "./tokenizer.ts";
import { boundaryStreamEncoder, TokenizerError } from "./tokenizer.ts";

const WORD_CACHE_LIMIT = 200_000;
const utf8Decoder = new TextDecoder("utf-8");

/** Byte-level BPE (GPT-2 style): our own trained tokenizers and GPT-2's tokenizer.json alike. */
export class ByteLevelBpeTokenizer implements Tokenizer {
  readonly kind = "byte-bpe" as const;
  readonly vocabSize: number;
  readonly special: SpecialTokenIds;
  readonly specialText: SpecialTokenText;
  private readonly idOf: Map<string, number>;
  private readonly tokenOf: string[] = [];
  /** (left id, right id) -> rank; the merged id is looked up by string. */
  private readonly rank = new Map<number, number>();
  private readonly byteId = new Int32Array(256);
  private readonly added: Map<string, number>;
  private readonly addedIds: Set<number>;
  private readonly splitter: SpecialTokenSplitter;
  private readonly cache = new Map<string, number[]>();
  private readonly mergesList: Array<[string, string]>;

  constructor(
    vocab: ReadonlyMap<string, number>,
    merges: ReadonlyArray<[string, string]>,
    added: ReadonlyMap<string, number>,
    where = "tokenizer",
  ) {
    this.idOf = new Map(vocab);
    for (const [t, id] of added) if (!this.idOf.has(t)) this.idOf.set(t, id);
    for (const [t, id] of this.idOf) this.tokenOf[id] = t;
    this.vocabSize = this.tokenOf.length;
    for (let i = 0; i < this.vocabSize; i++) {
      if (this.tokenOf[i] === undefined)
        throw new TokenizerError(
          `${where}: id ${i} has no token; vocabulary ids must be dense 0..${this.vocabSize - 1}`,
        );
    }
    for (let b = 0; b < 256; b++) {
      const id = this.idOf.get(BYTE_TO_CHAR[b]!);
      if (id === undefined)
        throw new TokenizerError(
          `${where}: byte-level BPE vocabulary lacks the symbol for byte ${b} (${JSON.stringify(BYTE_TO_CHAR[b])}); not a GPT-2 style byte-level vocabulary`,
        );
      this.byteId[b] = id;
    }
    merges.forEach(([l, r], i) => {
      const a = this.idOf.get(l);
      const b = this.idOf.get(r);
      if (a === undefined || b === undefined || !this.idOf.has(l + r)) {
        throw new TokenizerError(
          `${where}: merge ${i} ${JSON.stringify(`${l} ${r}`)} uses a token missing from the vocabulary`,
        );
      }
      const key = a * 0x100000 + b;
      if (!this.rank.has(key)) this.rank.set(key, i);
    });
    this.mergesList = merges.map(([l, r]) => [l, r]);
    this.added = new Map(added);
    this.addedIds = new Set(added.values());
    this.splitter = new SpecialTokenSplitter(added);
    const special = resolveSpecialTokens(this.added, where);
    this.special = special.ids;
    this.specialText = special.text;
  }

  encode(text: string): number[] {
    const ids: number[] = [];
    for (const piece of this.splitter.split(text)) {
      if (typeof piece === "number") ids.push(piece);
      else for (const word of pretokenize(piece)) for (const id of this.encodeWord(word)) ids.push(id);
    }
    return ids;
  }

  private encodeWord(word: string): number[] {
    const hit = this.cache.get(word);
    if (hit) return hit;
    let symbols = Array.from(utf8Bytes(word), (b) => this.byteId[b]!);
    // Apply the lowest-ranked merge present, leftmost first, until none applies (GPT-2 / HF order).
    while (symbols.length > 1) {
      let bestRank = Infinity;
      let bestAt = -1;
      for (let i = 0; i + 1 < symbols.length; i++) {
        const r = this.rank.get(symbols[i]! * 0x100000 + symbols[i + 1]!);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          bestAt = i;
        }
      }
      if (bestAt < 0) break;
      const a = symbols[bestAt]!;
      const b = symbols[bestAt + 1]!;
      const merged = this.idOf.get(this.tokenOf[a]! + this.tokenOf[b]!)!;
      const next: number[] = [];
      for (let i = 0; i < symbols.length; i++) {
        if (i + 1 < symbols.length && symbols[i] === a && symbols[i + 1] === b) {
          next.push(merged);
          i++;
        } else next.push(symbols[i]!);
      }
      symbols = next;
    }
    if (this.cache.size >= WORD_CACHE_LIMIT) this.cache.clear();
    this.cache.set(word, symbols);
    return symbols;
  }

  decode(ids: ArrayLike<number>, options: { skipSpecial?: boolean } = {}): string {
    const bytes: number[] = [];
    let out = "";
    const flush = () => {
      if (bytes.length === 0) return;
      out += utf8Decoder.decode(Uint8Array.from(bytes));
      bytes.length = 0;
    };
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const token = this.tokenOf[id];
      if (token === undefined)
        throw new TokenizerError(
          `byte-level BPE: id ${id} at position ${i} is outside the vocabulary 0..${this.vocabSize - 1}`,
        );
      if (this.addedIds.has(id)) {
        if (options.skipSpecial) continue;
        flush();
        out += token;
        continue;
      }
      for (const ch of token) {
        const b = CHAR_TO_BYTE.get(ch);
        if (b === undefined)
          throw new TokenizerError(
            `byte-level BPE: token ${id} ${JSON.stringify(token)} has a character outside the byte map`,
          );
        bytes.push(b);
      }
    }
    flush();
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
    const byteLevel = { add_prefix_space: false, trim_offsets: true, use_regex: true };
    const vocab: Record<string, number> = {};
    for (let id = 0; id < this.tokenOf.length; id++) vocab[this.tokenOf[id]!] = id;
    return {
      version: "1.0",
      truncation: null,
      padding: null,
      added_tokens: hfAddedTokens(this.added),
      normalizer: null,
      pre_tokenizer: { type: "ByteLevel", ...byteLevel },
      post_processor: null,
      decoder: { type: "ByteLevel", ...byteLevel },
      model: {
        type: "BPE",
        dropout: null,
        unk_token: null,
        continuing_subword_prefix: "",
        end_of_word_suffix: "",
        fuse_unk: false,
        byte_fallback: false,
        ignore_merges: false,
        vocab,
        merges: this.mergesList.map(([l, r]) => `${l} ${r}`),
      },
    };
  }
}

/** Trains a byte-level BPE tokenizer on a corpus read in chunks. */
export async function trainBpeTokenizer(
  chunks: Iterable<string> | AsyncIterable<string>,
  options: { vocabSize: number; minFrequency?: number },
): Promise<ByteLevelBpeTokenizer> {
  const { vocab, merges, added } = await trainBpe(chunks, options);
  return new ByteLevelBpeTokenizer(vocab, merges, added, "trained byte-level BPE");
}
