// K sampled responses to each prompt from a checkpoint folder, with the KV-cache sampler: what a
// ranking is made of, whether a rule rater (simulate.ts) or a person (the web app's campaigns) ranks it.
import { chatTemplateOf, hashKey } from "@baton/data";
import { loadModel } from "../checkpoint-io.ts";
import { openSession } from "../stage-steps.ts";
import { OPTIM_DEFAULTS } from "../train-defaults.ts";
import { promptIds } from "./data.ts";

export interface SampledResponse {
  text: string;
  /** it stopped by itself (EOS) rather than at maxTokens */
  endedWithEos: boolean;
}

export interface SampledPrompt {
  prompt: string;
  responses: SampledResponse[];
}

export interface SampleResponsesOptions {
  /** responses per prompt (2..9) */
  k: number;
  maxTokens: number;
  temperature: number;
  seed: number;
  threads?: number;
  /** names the caller in errors ("feedback simulate", "campaign c1") */
  what?: string;
}

/**
 * Samples K non-empty responses to each prompt from the checkpoint in `dir`. A prompt whose draws
 * give fewer than two non-empty answers is left out: it is nothing to rank.
 */
export async function sampleResponses(dir: string, prompts: readonly string[], o: SampleResponsesOptions): Promise<SampledPrompt[]> {
  const what = o.what ?? "sampling";
  if (!Number.isInteger(o.k) || o.k < 2 || o.k > 9) throw new Error(`${what}: k must be an integer in 2..9 (a ranking has 2 to 9 responses), got ${o.k}`);
  const model = await loadModel(dir, `checkpoint ${dir}`);
  const tok = model.tokenizer;
  const template = chatTemplateOf(model.tokenizerConfig);
  const session = await openSession(model, { batchSize: 1, optim: OPTIM_DEFAULTS, seed: o.seed, threads: o.threads });
  try {
    const sampler = await session.sampling();
    const out: SampledPrompt[] = [];
    for (const [p, prompt] of prompts.entries()) {
      const ids = promptIds(tok, template, prompt);
      const maxTokens = Math.min(o.maxTokens, model.config.blockSize - ids.length);
      if (maxTokens < 1) throw new Error(`${what}: prompt ${p + 1} leaves no room to answer in the model's block of ${model.config.blockSize} tokens; shorten it`);
      const responses: SampledResponse[] = [];
      // an empty answer is no response to rank: draw again (a few times) before giving up on the prompt
      for (let draw = 0; responses.length < o.k && draw < 3 * o.k; draw++) {
        const g = await sampler.generate(ids, { maxTokens, temperature: o.temperature, seed: hashKey(o.seed, p, draw), stopTokens: [tok.special.eos] });
        const ended = g.finishReason === "stop-token";
        const text = tok.decode(ended ? g.tokens.slice(0, -1) : g.tokens, { skipSpecial: true });
        if (text.trim().length > 0) responses.push({ text, endedWithEos: ended });
      }
      if (responses.length >= 2) out.push({ prompt, responses });
    }
    return out;
  } finally {
    await session.dispose();
  }
}
