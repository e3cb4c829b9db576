// Step 1 of an iteration: the policy answers prompts, one sampled response each, with the KV-cache
// sampler, a batch of rows per model call. Which prompt and which random draws are pure functions of (seed, iteration, i), so a run
// resumed at an iteration boundary samples exactly what an uninterrupted one would.
import { hashKey, keyedIndex } from "@baton/data";
import type { Sampler } from "@baton/model";
import { GENERATION_BATCH, type PromptItem } from "@baton/stage-lm";

export interface Rollout {
  prompt: PromptItem;
  /** the sampled tokens, EOS last when the policy stopped by itself */
  response: number[];
  endedWithEos: boolean;
}

export async function sampleRollouts(
  sampler: Sampler,
  prompts: readonly PromptItem[],
  o: {
    count: number;
    seed: number;
    iteration: number;
    maxNewTokens: number;
    temperature: number;
    eos: number;
    blockSize: number;
  },
): Promise<Rollout[]> {
  const picked = Array.from(
    { length: o.count },
    (_, i) => prompts[keyedIndex(prompts.length, o.seed, o.iteration, i)] as PromptItem,
  );
  const out: Rollout[] = [];
  for (let from = 0; from < picked.length; from += GENERATION_BATCH) {
    const chunk = picked.slice(from, from + GENERATION_BATCH);
    const gens = await sampler.generateBatch(
      chunk.map((prompt, c) => ({
        prompt: prompt.ids,
        options: {
          maxTokens: Math.min(o.maxNewTokens, o.blockSize - prompt.ids.length),
          temperature: o.temperature,
          seed: hashKey(o.seed, o.iteration, from + c),
          stopTokens: [o.eos],
        },
      })),
    );
    gens.forEach((g, c) =>
      out.push({ prompt: chunk[c] as PromptItem, response: g.tokens, endedWithEos: g.finishReason === "stop-token" }),
    );
  }
  return out;
}
