/**
 * GPT-2's byte-level scheme: every byte maps to one printable unicode character, so any string is a
 * sequence of vocabulary symbols and there is no unknown token.
 */

/** GPT-2's pre-tokenisation regex (also HF's ByteLevel pre-tokenizer with use_regex). */
export const GPT2_PRETOKENIZE = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** byte -> unicode char, as in GPT-2's `bytes_to_unicode`. */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const direct: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) direct.push(b);
  for (let b = 0xa1; b <= 0xac; b++) direct.push(b);
  for (let b = 0xae; b <= 0xff; b++) direct.push(b);
  const map = new Array<string>(256);
  for (const b of direct) map[b] = String.fromCharCode(b);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (map[b] === undefined) map[b] = String.fromCharCode(256 + n++);
  }
  return map;
})();

export const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

const utf8 = new TextEncoder();

export function pretokenize(text: string): string[] {
  return text.match(GPT2_PRETOKENIZE) ?? [];
}

export function utf8Bytes(text: string): Uint8Array {
  return utf8.encode(text);
}

/** The byte-level symbol string of a piece of text ("Ġworld" for " world"). */
export function toByteLevel(text: string): string {
  let out = "";
  for (const b of utf8.encode(text)) out += BYTE_TO_CHAR[b];
  return out;
}
