import type { TextCodec } from "./codec.ts";

/**
 * A minimal char-level codec for this package's tests (the real tokenizers live in @baton/model, which
 * depends on this package). Special tokens at 0..6 as in Baton's own tokenizers.
 */
export function testCodec(alphabet: string): TextCodec {
  const specials = ["<|bos|>", "<|endoftext|>", "<|pad|>", "<|system|>", "<|user|>", "<|assistant|>", "<|end|>"];
  const tokens = [...specials, ...new Set(alphabet)];
  const id = new Map(tokens.map((t, i) => [t, i]));
  const pattern = new RegExp(specials.map((s) => s.replace(/[|]/g, "\\|")).join("|"), "g");
  const encode = (text: string): number[] => {
    const out: number[] = [];
    let last = 0;
    const chars = (s: string) => {
      for (const c of s) {
        const i = id.get(c);
        if (i === undefined) throw new Error(`test codec: unknown char ${JSON.stringify(c)}`);
        out.push(i);
      }
    };
    for (const m of text.matchAll(pattern)) {
      chars(text.slice(last, m.index));
      out.push(id.get(m[0])!);
      last = m.index + m[0].length;
    }
    chars(text.slice(last));
    return out;
  };
  return {
    vocabSize: tokens.length,
    special: { bos: 0, eos: 1, pad: 2 },
    specialText: { bos: specials[0]!, eos: specials[1]!, pad: specials[2]! },
    encode,
    decode: (ids, options) => Array.from(ids, (i) => (options?.skipSpecial && i < 7 ? "" : tokens[i]!)).join(""),
    createStreamEncoder: () => {
      let buf = "";
      return {
        push: (t: string) => {
          buf += t;
          const cut = buf.lastIndexOf(" ");
          if (cut <= 0) return [];
          const head = buf.slice(0, cut);
          buf = buf.slice(cut);
          return encode(head);
        },
        flush: () => {
          const r = encode(buf);
          buf = "";
          return r;
        },
      };
    },
  };
}
