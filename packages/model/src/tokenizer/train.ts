import { trainBpeTokenizer } from "./bpe-tokenizer.ts";
import { trainCharTokenizer } from "./char-tokenizer.ts";
import type { Tokenizer } from "./tokenizer.ts";
import { TokenizerError } from "./tokenizer.ts";

/** What a command line or a stage config names: "char", or "bpe" with a vocabulary size. */
export type TokenizerSpec = { kind: "char" } | { kind: "bpe"; vocabSize: number };

/** Parses "char" | "bpe" | "bpe:<vocabSize>" (bpe defaults to 4096). */
export function parseTokenizerSpec(text: string): TokenizerSpec {
  if (text === "char") return { kind: "char" };
  const m = /^bpe(?::(\d+))?$/.exec(text);
  if (m) return { kind: "bpe", vocabSize: m[1] ? Number(m[1]) : 4096 };
  throw new TokenizerError(
    `unknown tokenizer ${JSON.stringify(text)}; use "char", "bpe" or "bpe:<vocabSize>" (e.g. bpe:2048)`,
  );
}

/** Trains the named tokenizer on a corpus read in chunks (e.g. `corpusTexts(uris)` from @baton/data). */
export function trainTokenizer(
  spec: TokenizerSpec,
  chunks: Iterable<string> | AsyncIterable<string>,
): Promise<Tokenizer> {
  return spec.kind === "char" ? trainCharTokenizer(chunks) : trainBpeTokenizer(chunks, { vocabSize: spec.vocabSize });
}
