// Generation for evaluation and the report's before/after samples, through @baton/model's KV-cache
// Sampler. Greedy by default (temperature 0) so a metric is a function of the weights alone.
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

/** Continues `prompt` (ids, at least one) by up to maxTokens ids with the session's current weights. */
export async function generate(session: LmSession, prompt: readonly number[], o: GenerateOptions): Promise<Generation> {
  const sampler = await session.sampling();
  const g = await sampler.generate([...prompt], { maxTokens: o.maxTokens, temperature: o.temperature ?? 0, seed: o.seed ?? 0, stopTokens: [o.eos] });
  return { ids: g.tokens, endedWithEos: g.finishReason === "stop-token" };
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
