// Rankings of a checkpoint's own outputs by the demo's rule rater: K sampled responses per prompt,
// ranked best first with ties, written as the ranking records a person's rankings arrive in (rater id,
// the ranked checkpoint). What `baton feedback simulate` and the demo's reward step use.
import { chatTemplateOf, hashKey, rankResponses, RULE_RATER } from "@baton/data";
import type { Generation } from "@baton/model";
import { loadModel } from "../checkpoint-io.ts";
import { GENERATION_BATCH } from "../sample.ts";
import { openSession } from "../stage-steps.ts";
import { OPTIM_DEFAULTS } from "../train-defaults.ts";
import { promptIds } from "./data.ts";

export interface RankingRecord {
  prompt: string;
  responses: string[];
  ranking: number[];
  ties?: number[];
  rater: string;
  checkpoint: string;
}

export interface SimulateOptions {
  /** responses per prompt (2..9) */
  k: number;
  maxTokens: number;
  temperature: number;
  seed: number;
  threads?: number;
  /** recorded in every record: the URI of the checkpoint whose outputs are ranked */
  checkpointUri: string;
}

/** Samples K responses to each prompt from the checkpoint in `dir` and ranks them with the rule rater. */
export async function simulateRankings(dir: string, prompts: readonly string[], o: SimulateOptions): Promise<RankingRecord[]> {
  if (!Number.isInteger(o.k) || o.k < 2 || o.k > 9) throw new Error(`feedback simulate: k must be an integer in 2..9 (a ranking has 2 to 9 responses), got ${o.k}`);
  const model = await loadModel(dir, `checkpoint ${dir}`);
  const tok = model.tokenizer;
  const template = chatTemplateOf(model.tokenizerConfig);
  const session = await openSession(model, { batchSize: 1, optim: OPTIM_DEFAULTS, seed: o.seed, threads: o.threads });
  try {
    const sampler = await session.sampling();
    const out: RankingRecord[] = [];
    const per = Math.max(1, Math.floor(GENERATION_BATCH / o.k)); // prompts per batched sampler call
    for (let from = 0; from < prompts.length; from += per) {
      const chunk = prompts.slice(from, from + per).map((prompt, c) => {
        const p = from + c;
        const ids = promptIds(tok, template, prompt);
        const maxTokens = Math.min(o.maxTokens, model.config.blockSize - ids.length);
        if (maxTokens < 1) throw new Error(`feedback simulate: prompt ${p + 1} leaves no room to answer in the model's block of ${model.config.blockSize} tokens`);
        return { p, prompt, ids, maxTokens };
      });
      const draw = (q: (typeof chunk)[number], d: number) => ({ prompt: q.ids, options: { maxTokens: q.maxTokens, temperature: o.temperature, seed: hashKey(o.seed, q.p, d), stopTokens: [tok.special.eos] } });
      const decode = (g: { tokens: number[]; finishReason: string }) => {
        const ended = g.finishReason === "stop-token";
        return { text: tok.decode(ended ? g.tokens.slice(0, -1) : g.tokens, { skipSpecial: true }), endedWithEos: ended };
      };
      const first = await sampler.generateBatch(chunk.flatMap((q) => Array.from({ length: o.k }, (_, d) => draw(q, d))));
      for (const [c, q] of chunk.entries()) {
        // an empty answer is no response to rank: draw again (a few times) before giving up on the prompt
        const responses = first.slice(c * o.k, (c + 1) * o.k).map(decode).filter((r) => r.text.trim().length > 0);
        for (let d = o.k; responses.length < o.k && d < 3 * o.k; d++) {
          const r = decode(((await sampler.generateBatch([draw(q, d)])) as [Generation])[0]);
          if (r.text.trim().length > 0) responses.push(r);
        }
        if (responses.length < 2) continue;
        const { ranking, ties } = rankResponses(q.prompt, responses);
        out.push({ prompt: q.prompt, responses: responses.map((r) => r.text), ranking, ...(ties.length > 0 ? { ties } : {}), rater: RULE_RATER, checkpoint: o.checkpointUri });
      }
    }
    return out;
  } finally {
    await session.dispose();
  }
}
