// K sampled responses to each prompt from a checkpoint folder, with the KV-cache sampler (batched: up
// to GENERATION_BATCH sequences per call): what a ranking is made of, whether a rule rater
// (simulate.ts) or a person (the web app's campaigns) ranks it.
import { chatTemplateOf, hashKey } from "@baton/data";
import type { Generation } from "@baton/model";
import { loadModel } from "../checkpoint-io.ts";
import { GENERATION_BATCH } from "../sample.ts";
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
export async function sampleResponses(
  dir: string,
  prompts: readonly string[],
  o: SampleResponsesOptions,
): Promise<SampledPrompt[]> {
  const what = o.what ?? "sampling";
  if (!Number.isInteger(o.k) || o.k < 2 || o.k > 9)
    throw new Error(`${what}: k must be an integer in 2..9 (a ranking has 2 to 9 responses), got ${o.k}`);
  const model = await loadModel(dir, `checkpoint ${dir}`);
  const tok = model.tokenizer;
  const template = chatTemplateOf(model.tokenizerConfig);
  const session = await openSession(model, { batchSize: 1, optim: OPTIM_DEFAULTS, seed: o.seed, threads: o.threads });
  try {
    const sampler = await session.sampling();
    const out: SampledPrompt[] = [];
    const per = Math.max(1, Math.floor(GENERATION_BATCH / o.k)); // prompts per batched sampler call
    for (let from = 0; from < prompts.length; from += per) {
      const chunk = prompts.slice(from, from + per).map((prompt, c) => {
        const p = from + c;
        const ids = promptIds(tok, template, prompt);
        const maxTokens = Math.min(o.maxTokens, model.config.blockSize - ids.length);
        if (maxTokens < 1)
          throw new Error(
            `${what}: prompt ${p + 1} leaves no room to answer in the model's block of ${model.config.blockSize} tokens; shorten it`,
          );
        return { p, prompt, ids, maxTokens };
      });
      const draw = (q: (typeof chunk)[number], d: number) => ({
        prompt: q.ids,
        options: {
          maxTokens: q.maxTokens,
          temperature: o.temperature,
          seed: hashKey(o.seed, q.p, d),
          stopTokens: [tok.special.eos],
        },
      });
      const decode = (g: { tokens: number[]; finishReason: string }): SampledResponse => {
        const ended = g.finishReason === "stop-token";
        return {
          text: tok.decode(ended ? g.tokens.slice(0, -1) : g.tokens, { skipSpecial: true }),
          endedWithEos: ended,
        };
      };
      const first = await sampler.generateBatch(
        chunk.flatMap((q) => Array.from({ length: o.k }, (_, d) => draw(q, d))),
      );
      for (const [c, q] of chunk.entries()) {
        // an empty answer is no response to rank: draw again (a few times) before giving up on the prompt
        const responses = first
          .slice(c * o.k, (c + 1) * o.k)
          .map(decode)
          .filter((r) => r.text.trim().length > 0);
        for (let d = o.k; responses.length < o.k && d < 3 * o.k; d++) {
          const r = decode(((await sampler.generateBatch([draw(q, d)])) as [Generation])[0]);
          if (r.text.trim().length > 0) responses.push(r);
        }
        if (responses.length >= 2) out.push({ prompt: q.prompt, responses });
      }
    }
    return out;
  } finally {
    await session.dispose();
  }
}
