/**
 * Special tokens. Our own tokenizers reserve all seven at ids 0..6; an imported tokenizer keeps its own
 * ids and may lack the chat-role tokens (GPT-2 has only <|endoftext|>).
 */
export const SPECIAL_TOKEN_NAMES = ["bos", "eos", "pad", "system", "user", "assistant", "end"] as const;
export type SpecialTokenName = (typeof SPECIAL_TOKEN_NAMES)[number];

/** The strings Baton's own tokenizers use. EOS is GPT-2's, so GPT-2 tooling treats it as EOS too. */
export const BATON_SPECIAL_TEXT: Readonly<Record<SpecialTokenName, string>> = {
  bos: "<|bos|>",
  eos: "<|endoftext|>",
  pad: "<|pad|>",
  system: "<|system|>",
  user: "<|user|>",
  assistant: "<|assistant|>",
  end: "<|end|>",
};

export interface SpecialTokenIds {
  bos: number;
  eos: number;
  pad: number;
  system?: number;
  user?: number;
  assistant?: number;
  end?: number;
}

export interface SpecialTokenText {
  bos: string;
  eos: string;
  pad: string;
  system?: string;
  user?: string;
  assistant?: string;
  end?: string;
}

/** Other names imported tokenizers give the same roles (first match wins). */
const ALIASES: Record<SpecialTokenName, string[]> = {
  bos: ["<|bos|>", "<s>", "<bos>", "<|begin_of_text|>"],
  eos: ["<|endoftext|>", "</s>", "<eos>", "<|eos|>", "<|end_of_text|>"],
  pad: ["<|pad|>", "<pad>", "[PAD]"],
  system: ["<|system|>"],
  user: ["<|user|>"],
  assistant: ["<|assistant|>"],
  end: ["<|end|>"],
};

/**
 * Finds the special tokens among a tokenizer's added tokens. EOS is required (a stream of documents
 * needs a separator); BOS and PAD fall back to EOS, as GPT-2 does.
 */
export function resolveSpecialTokens(
  added: ReadonlyMap<string, number>,
  where: string,
): { ids: SpecialTokenIds; text: SpecialTokenText } {
  const find = (name: SpecialTokenName): [string, number] | undefined => {
    for (const alias of ALIASES[name]) {
      const id = added.get(alias);
      if (id !== undefined) return [alias, id];
    }
    return undefined;
  };
  const eos = find("eos");
  if (!eos) {
    throw new Error(
      `${where}: no end-of-text token among added_tokens (looked for ${ALIASES.eos.join(", ")}); ` +
        `add one as a special added token`,
    );
  }
  const bos = find("bos") ?? eos;
  const pad = find("pad") ?? eos;
  const ids: SpecialTokenIds = { bos: bos[1], eos: eos[1], pad: pad[1] };
  const text: SpecialTokenText = { bos: bos[0], eos: eos[0], pad: pad[0] };
  for (const name of ["system", "user", "assistant", "end"] as const) {
    const hit = find(name);
    if (hit) {
      ids[name] = hit[1];
      text[name] = hit[0];
    }
  }
  return { ids, text };
}

/**
 * Splits text on special-token strings (longest first), as HF does before pre-tokenisation.
 * Returns plain-text pieces and special ids in order.
 */
export class SpecialTokenSplitter {
  private readonly pattern: RegExp | undefined;
  constructor(private readonly tokens: ReadonlyMap<string, number>) {
    const alternatives = [...tokens.keys()]
      .sort((a, b) => b.length - a.length)
      .map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
    this.pattern = alternatives.length > 0 ? new RegExp(alternatives.join("|"), "g") : undefined;
  }

  split(text: string): Array<string | number> {
    if (!this.pattern) return text.length > 0 ? [text] : [];
    const out: Array<string | number> = [];
    let last = 0;
    for (const m of text.matchAll(this.pattern)) {
      if (m.index > last) out.push(text.slice(last, m.index));
      out.push(this.tokens.get(m[0])!);
      last = m.index + m[0].length;
    }
    if (last < text.length) out.push(text.slice(last));
    return out;
  }
}
