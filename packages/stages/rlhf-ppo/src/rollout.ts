// Step 1 of an iteration: the policy answers prompts, one sampled response each, with the KV-cache
// sampler. Which prompt and which random draws are pure functions of (seed, iteration, i), so a run
// resumed at an iteration boundary samples exactly what an uninterrupted one would.
import { hashKey, keyedIndex } from "@baton/data";
import type { Sampler } from "@baton/model";
import type { PromptItem } from "@baton/stage-lm";

export interface Rollout {
  prompt: PromptItem;
  /** the sampled tokens, EOS last when the policy stopped by itself */
  response: number[];
  endedWithEos: boolean;
}

export async function sampleRollouts(sampler: Sampler, prompts: readonly PromptItem[], o: { count: number; seed: number; iteration: number; maxNewTokens: number; temperature: number; eos: number; blockSize: number }): Promise<Rollout[]> {
  const out: Rollout[] = [];
  for (let i = 0; i < o.count; i++) {
    const prompt = prompts[keyedIndex(prompts.length, o.seed, o.iteration, i)] as PromptItem;
    const maxTokens = Math.min(o.maxNewTokens, o.blockSize - prompt.ids.length);
    const g = await sampler.generate(prompt.ids, { maxTokens, temperature: o.temperature, seed: hashKey(o.seed, o.iteration, i), stopTokens: [o.eos] });
    out.push({ prompt, response: g.tokens, endedWithEos: g.finishReason === "stop-token" });
  }
  return out;
}
