// Rankings of a checkpoint's own outputs by the demo's rule rater: K sampled responses per prompt,
// ranked best first with ties, written as the ranking records a person's rankings arrive in (rater id,
// the ranked checkpoint). What `baton feedback simulate` and the demo's reward step use.
import { chatTemplateOf, hashKey, rankResponses, RULE_RATER } from "@baton/data";
import { loadModel } from "../checkpoint-io.ts";
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
    for (const [p, prompt] of prompts.entries()) {
      const ids = promptIds(tok, template, prompt);
      const maxTokens = Math.min(o.maxTokens, model.config.blockSize - ids.length);
      if (maxTokens < 1) throw new Error(`feedback simulate: prompt ${p + 1} leaves no room to answer in the model's block of ${model.config.blockSize} tokens`);
      const responses: { text: string; endedWithEos: boolean }[] = [];
      // an empty answer is no response to rank: draw again (a few times) before giving up on the prompt
      for (let draw = 0; responses.length < o.k && draw < 3 * o.k; draw++) {
        const g = await sampler.generate(ids, { maxTokens, temperature: o.temperature, seed: hashKey(o.seed, p, draw), stopTokens: [tok.special.eos] });
        const ended = g.finishReason === "stop-token";
        const text = tok.decode(ended ? g.tokens.slice(0, -1) : g.tokens, { skipSpecial: true });
        if (text.trim().length > 0) responses.push({ text, endedWithEos: ended });
      }
      if (responses.length < 2) continue;
      const { ranking, ties } = rankResponses(prompt, responses);
      out.push({ prompt, responses: responses.map((r) => r.text), ranking, ...(ties.length > 0 ? { ties } : {}), rater: RULE_RATER, checkpoint: o.checkpointUri });
    }
    return out;
  } finally {
    await session.dispose();
  }
}
