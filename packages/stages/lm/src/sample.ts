// Generation for evaluation and the report's before/after samples, through @baton/model's KV-cache
// Sampler. Greedy by default (temperature 0) so a metric is a function of the weights alone.
import type { LmSession } from "./session.ts";
import type { SampleBeforeAfter } from "./stage-report.ts";

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
  const g = await sampler.generate([...prompt], {
    maxTokens: o.maxTokens,
    temperature: o.temperature ?? 0,
    seed: o.seed ?? 0,
    stopTokens: [o.eos],
  });
  return { ids: g.tokens, endedWithEos: g.finishReason === "stop-token" };
}

export interface TextRequest {
  prompt: readonly number[];
  maxTokens: number;
  /** 0 (default) = greedy */
  temperature?: number;
  seed?: number;
}

/** Rows per batched sampler call: enough to keep the kernels busy, few enough to keep the caches small. */
export const GENERATION_BATCH = 32;

/**
 * Continues many prompts with the session's current weights, GENERATION_BATCH rows per model call
 * (each row as `generate` would continue it alone); decoded without the final EOS.
 */
export async function continueTexts(
  session: LmSession,
  tokenizer: { decode(ids: number[]): string; special: { eos: number } },
  requests: readonly TextRequest[],
): Promise<{ text: string; ids: number[]; endedWithEos: boolean }[]> {
  const sampler = await session.sampling();
  const out: { text: string; ids: number[]; endedWithEos: boolean }[] = [];
  for (let i = 0; i < requests.length; i += GENERATION_BATCH) {
    const chunk = requests.slice(i, i + GENERATION_BATCH);
    const gens = await sampler.generateBatch(
      chunk.map((r) => ({
        prompt: [...r.prompt],
        options: {
          maxTokens: r.maxTokens,
          temperature: r.temperature ?? 0,
          seed: r.seed ?? 0,
          stopTokens: [tokenizer.special.eos],
        },
      })),
    );
    for (const g of gens) {
      const ended = g.finishReason === "stop-token";
      out.push({
        text: tokenizer.decode(ended ? g.tokens.slice(0, -1) : g.tokens),
        ids: g.tokens,
        endedWithEos: ended,
      });
    }
  }
  return out;
}

/** Continues each prompt text greedily by up to maxTokens tokens (one batched call). */
export function continuePrompts(
  session: LmSession,
  tokenizer: { encode(text: string): number[]; decode(ids: number[]): string; special: { eos: number } },
  prompts: readonly string[],
  maxTokens: number,
): Promise<{ text: string; ids: number[]; endedWithEos: boolean }[]> {
  return continueTexts(
    session,
    tokenizer,
    prompts.map((p) => ({ prompt: tokenizer.encode(p), maxTokens })),
  );
}

/** The report's samples: each prompt with what was generated for it before and after training. */
export function beforeAfter(
  prompts: readonly string[],
  before: readonly { text: string }[],
  after: readonly { text: string }[],
): SampleBeforeAfter[] {
  return prompts.map((prompt, i) => ({ prompt, before: before[i]?.text ?? "", after: after[i]?.text ?? "" }));
}
