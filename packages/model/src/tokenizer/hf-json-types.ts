/** The parts of HF's tokenizer.json that Baton writes and reads (format version "1.0"). */
export interface HfAddedToken {
  id: number;
  content: string;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

export interface HfBpeModel {
  type: "BPE";
  dropout: null;
  unk_token: null;
  continuing_subword_prefix: null | string;
  end_of_word_suffix: null | string;
  fuse_unk: boolean;
  byte_fallback: boolean;
  ignore_merges: boolean;
  vocab: Record<string, number>;
  /** "a b" strings (GPT-2's files) or [a, b] pairs (newer files); both are read. */
  merges: Array<string | [string, string]>;
}

export interface HfTokenizerJson {
  version: string;
  truncation: null;
  padding: null;
  added_tokens: HfAddedToken[];
  normalizer: null;
  pre_tokenizer: null | Record<string, unknown>;
  post_processor: null | Record<string, unknown>;
  decoder: null | Record<string, unknown>;
  model: HfBpeModel;
}

export function hfAddedTokens(tokens: ReadonlyMap<string, number>): HfAddedToken[] {
  return [...tokens]
    .sort((a, b) => a[1] - b[1])
    .map(([content, id]) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    }));
}
