// Generation for evaluation and the report's before/after samples. Greedy by default (temperature 0)
// so a metric is a function of the weights alone. Without a KV cache each new token re-reads the
// window: for the tiny demo models that costs a millisecond or two per token, and keeps one graph.
import type { LmSession } from "./session.ts";

export interface GenerateOptions {
  maxTokens: number;
  /** Stop when this id is produced (it is included in the result). */
  eos: number;
  /** 0 = greedy (argmax). */
  temperature?: number;
  /** Seeded draw for temperature > 0. */
  seed?: number;
}

export interface Generation {
  /** The new ids, EOS included when it was produced. */
  ids: number[];
  endedWithEos: boolean;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Continues `prompt` (ids) by up to maxTokens ids with the session's current weights. */
export async function generate(session: LmSession, prompt: readonly number[], o: GenerateOptions): Promise<Generation> {
  const T = session.config.blockSize;
  const V = session.config.vocabSize;
  const rand = mulberry32(o.seed ?? 0);
  const ids = [...prompt];
  const out: number[] = [];
  const tokens = new BigInt64Array(T);
  const positions = BigInt64Array.from({ length: T }, (_, i) => BigInt(i));
  for (let i = 0; i < o.maxTokens; i++) {
    const window = ids.slice(-T); // the newest T ids, at positions 0..len-1
    tokens.fill(0n);
    window.forEach((id, j) => (tokens[j] = BigInt(id)));
    const logits = await session.logits(tokens, positions, i === 0);
    const row = logits.subarray((window.length - 1) * V, window.length * V); // [V]
    const next = pick(row, o.temperature ?? 0, rand);
    ids.push(next);
    out.push(next);
    if (next === o.eos) return { ids: out, endedWithEos: true };
  }
  return { ids: out, endedWithEos: false };
}

function pick(row: Float32Array, temperature: number, rand: () => number): number {
  let best = 0;
  for (let v = 1; v < row.length; v++) if ((row[v] as number) > (row[best] as number)) best = v;
  if (temperature <= 0) return best;
  const max = row[best] as number;
  const p = Array.from(row, (x) => Math.exp((x - max) / temperature));
  const total = p.reduce((a, b) => a + b, 0);
  let r = rand() * total;
  for (let v = 0; v < p.length; v++) {
    r -= p[v] as number;
    if (r <= 0) return v;
  }
  return best;
}

/** Greedy text continuation of `prompt` ids, decoded without the final EOS. */
export async function continueText(
  session: LmSession,
  tokenizer: { decode(ids: number[]): string; special: { eos: number } },
  prompt: readonly number[],
  maxTokens: number,
): Promise<{ text: string; endedWithEos: boolean }> {
  const g = await generate(session, prompt, { maxTokens, eos: tokenizer.special.eos });
  const ids = g.endedWithEos ? g.ids.slice(0, -1) : g.ids;
  return { text: tokenizer.decode(ids), endedWithEos: g.endedWithEos };
}
