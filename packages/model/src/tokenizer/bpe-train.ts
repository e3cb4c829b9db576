import { BYTE_TO_CHAR, pretokenize, utf8Bytes } from "./byte-level.ts";
import { BATON_SPECIAL_TEXT, SPECIAL_TOKEN_NAMES, SpecialTokenSplitter } from "./special-tokens.ts";
import { boundaryStreamEncoder, TokenizerError } from "./tokenizer.ts";

/**
 * Byte-level BPE training, GPT-2 style. Vocabulary: the 7 special tokens (ids 0..6), the 256 byte
 * symbols (ids 7..262, in byte order), then one token per merge. Each merge joins the most frequent
 * adjacent pair over the corpus' pre-token counts (ties go to the smaller pair of ids, so training is
 * deterministic). Pair counts are updated incrementally and kept in a lazy max-heap, so a few MB train
 * in seconds.
 */
export interface BpeTrainResult {
  vocab: Map<string, number>;
  merges: Array<[string, string]>;
  added: Map<string, number>;
}

const PAIR_BASE = 1 << 20; // pair key = a * PAIR_BASE + b; ids stay below 2^20

export async function trainBpe(
  chunks: Iterable<string> | AsyncIterable<string>,
  options: { vocabSize: number; minFrequency?: number },
): Promise<BpeTrainResult> {
  const { vocabSize } = options;
  const minFrequency = options.minFrequency ?? 2;
  const base = SPECIAL_TOKEN_NAMES.length + 256;
  if (!Number.isInteger(vocabSize) || vocabSize < base || vocabSize >= PAIR_BASE) {
    throw new TokenizerError(
      `byte-level BPE: vocabSize ${vocabSize} must be an integer in ${base}..${PAIR_BASE - 1} (7 special tokens + 256 bytes + merges)`,
    );
  }

  // 1. Count pre-tokens, streaming: memory is the number of distinct pre-tokens.
  const added = new Map<string, number>();
  for (const name of SPECIAL_TOKEN_NAMES) added.set(BATON_SPECIAL_TEXT[name], added.size);
  const splitter = new SpecialTokenSplitter(added);
  const counts = new Map<string, number>();
  let total = 0;
  const count = (text: string): number[] => {
    for (const piece of splitter.split(text)) {
      if (typeof piece === "number") continue; // special tokens are never merged
      for (const word of pretokenize(piece)) {
        counts.set(word, (counts.get(word) ?? 0) + 1);
        total++;
      }
    }
    return [];
  };
  const stream = boundaryStreamEncoder(count);
  for await (const chunk of chunks) stream.push(chunk);
  stream.flush();
  if (total === 0)
    throw new TokenizerError("byte-level BPE: the corpus is empty; give it some text to learn merges from");

  // 2. Words as symbol-id arrays.
  const tokens: string[] = [...added.keys()];
  for (let b = 0; b < 256; b++) tokens.push(BYTE_TO_CHAR[b]!);
  const vocab = new Map<string, number>(tokens.map((t, i) => [t, i]));
  const words: Int32Array[] = [];
  const freqs: number[] = [];
  for (const [word, f] of counts) {
    const bytes = utf8Bytes(word);
    const symbols = new Int32Array(bytes.length);
    for (let i = 0; i < bytes.length; i++) symbols[i] = SPECIAL_TOKEN_NAMES.length + bytes[i]!;
    words.push(symbols);
    freqs.push(f);
  }
  counts.clear();

  // 3. Pair counts and where each pair occurs (word indices; may hold stale entries, checked on use).
  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, number[]>();
  const heap = new PairHeap();
  for (let w = 0; w < words.length; w++) {
    const s = words[w]!;
    for (let i = 0; i + 1 < s.length; i++) {
      const key = s[i]! * PAIR_BASE + s[i + 1]!;
      pairCount.set(key, (pairCount.get(key) ?? 0) + freqs[w]!);
      let list = pairWords.get(key);
      if (!list) pairWords.set(key, (list = []));
      if (list[list.length - 1] !== w) list.push(w);
    }
  }
  for (const [key, c] of pairCount) heap.push(c, key);

  // 4. Merge until the vocabulary is full or no pair is frequent enough.
  const merges: Array<[string, string]> = [];
  const visited = new Int32Array(words.length).fill(-1);
  while (vocab.size < vocabSize) {
    const top = heap.pop();
    if (!top) break;
    const [c, key] = top;
    if (pairCount.get(key) !== c) continue; // stale heap entry
    if (c < minFrequency) break;
    const a = Math.floor(key / PAIR_BASE);
    const b = key % PAIR_BASE;
    const merged = tokens[a]! + tokens[b]!;
    // Two merges can spell the same string ("a"+"bc", "ab"+"c"): they share one id, as in HF.
    let id = vocab.get(merged);
    if (id === undefined) {
      id = tokens.length;
      tokens.push(merged);
      vocab.set(merged, id);
    }
    merges.push([tokens[a]!, tokens[b]!]);

    const changed = new Set<number>();
    const list = pairWords.get(key) ?? [];
    pairWords.delete(key);
    for (const w of list) {
      if (visited[w] === merges.length) continue;
      visited[w] = merges.length;
      const s = words[w]!;
      const f = freqs[w]!;
      let has = false;
      for (let i = 0; i + 1 < s.length; i++) if (s[i] === a && s[i + 1] === b) has = true;
      if (!has) continue;
      addPairs(s, -f, pairCount, changed);
      const next: number[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
          next.push(id);
          i++;
        } else next.push(s[i]!);
      }
      const ns = Int32Array.from(next);
      words[w] = ns;
      addPairs(ns, f, pairCount, changed);
      for (let i = 0; i + 1 < ns.length; i++) {
        if (ns[i] !== id && ns[i + 1] !== id) continue;
        const k = ns[i]! * PAIR_BASE + ns[i + 1]!;
        let l = pairWords.get(k);
        if (!l) pairWords.set(k, (l = []));
        if (l[l.length - 1] !== w) l.push(w);
      }
    }
    pairCount.delete(key);
    for (const k of changed) {
      const n = pairCount.get(k) ?? 0;
      if (n <= 0) pairCount.delete(k);
      else if (k !== key) heap.push(n, k);
    }
  }
  return { vocab, merges, added };
}

function addPairs(s: Int32Array, delta: number, pairCount: Map<number, number>, changed: Set<number>): void {
  for (let i = 0; i + 1 < s.length; i++) {
    const k = s[i]! * PAIR_BASE + s[i + 1]!;
    pairCount.set(k, (pairCount.get(k) ?? 0) + delta);
    changed.add(k);
  }
}

/** Max-heap on (count desc, key asc): the tie-break makes training deterministic. */
class PairHeap {
  private counts: number[] = [];
  private keys: number[] = [];

  push(count: number, key: number): void {
    this.counts.push(count);
    this.keys.push(key);
    let i = this.counts.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  pop(): [number, number] | undefined {
    const n = this.counts.length;
    if (n === 0) return undefined;
    const top: [number, number] = [this.counts[0]!, this.keys[0]!];
    this.swap(0, n - 1);
    this.counts.pop();
    this.keys.pop();
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let best = i;
      if (l < n - 1 && this.before(l, best)) best = l;
      if (r < n - 1 && this.before(r, best)) best = r;
      if (best === i) break;
      this.swap(i, best);
      i = best;
    }
    return top;
  }

  private before(i: number, j: number): boolean {
    const ci = this.counts[i]!;
    const cj = this.counts[j]!;
    return ci > cj || (ci === cj && this.keys[i]! < this.keys[j]!);
  }

  private swap(i: number, j: number): void {
    [this.counts[i], this.counts[j]] = [this.counts[j]!, this.counts[i]!];
    [this.keys[i], this.keys[j]] = [this.keys[j]!, this.keys[i]!];
  }
}
