// Answers to held-out prompts, scored against their references: what an RLHF stage reports before
// and after, so a policy that games its reward model into worse answers shows it. Greedy answers are
// a function of the weights alone; sampled ones (temperature 1) are what the policy gives when it is
// sampled, as its rollouts and a ranking campaign sample it.
import { exactMatch, hashKey, winRate } from "@baton/data";
import { continueTexts } from "../sample.ts";
import type { LmSession } from "../session.ts";
import type { SampleBeforeAfter } from "../stage-report.ts";
import type { PromptItem } from "./data.ts";

export interface Answers {
  texts: string[];
  endedWithEos: boolean[];
  /** exact match against the reference, over the prompts that have one (NaN when none has) */
  accuracy: number;
  eosRate: number;
  meanLength: number;
}

/** Sampled evaluation: each prompt answered this many times at temperature 1, draw j of prompt i seeded by (seed, i, j). */
export interface AnswerSampling {
  samples: number;
  seed: number;
}

/** The prompts repeated for sampled answers: prompt i's draws next to each other. */
export const repeatPrompts = (prompts: readonly PromptItem[], samples: number): PromptItem[] =>
  prompts.flatMap((p) => Array.from({ length: samples }, () => p));

/** Greedy answers to `prompts`, or with `sampling` `samples` draws of each at temperature 1 (prompts repeated as repeatPrompts lays them out). */
export async function answerPrompts(
  session: LmSession,
  tok: { decode(ids: number[]): string; special: { eos: number } },
  prompts: readonly PromptItem[],
  maxTokens: number,
  sampling?: AnswerSampling,
): Promise<Answers> {
  const texts: string[] = [];
  const endedWithEos: boolean[] = [];
  let right = 0;
  let judged = 0;
  const n = sampling?.samples ?? 1;
  const asked = repeatPrompts(prompts, n);
  const outs = await continueTexts(
    session,
    tok,
    asked.map((p, i) => ({
      prompt: p.ids,
      maxTokens,
      ...(sampling && { temperature: 1, seed: hashKey(sampling.seed, Math.floor(i / n), i % n) }),
    })),
  );
  for (const [i, p] of asked.entries()) {
    const out = outs[i] as { text: string; endedWithEos: boolean };
    texts.push(out.text);
    endedWithEos.push(out.endedWithEos);
    if (p.reference !== undefined) {
      judged++;
      right += exactMatch(out.text, p.reference);
    }
  }
  const count = Math.max(asked.length, 1);
  return {
    texts,
    endedWithEos,
    accuracy: judged > 0 ? right / judged : Number.NaN,
    eosRate: endedWithEos.filter(Boolean).length / count,
    meanLength: texts.reduce((a, t) => a + t.length, 0) / count,
  };
}

/**
 * How often the trained policy's answer beats the starting one on prompts with a reference, ties
 * counting half: right before wrong, then stopped at EOS, then shorter (the demo rater's rule, with
 * the data's reference as the right answer), as an effect row; none when no prompt has a reference.
 */
export function heldOutWinRate(
  prompts: readonly PromptItem[],
  before: Answers,
  after: Answers,
  metric = "heldout_win_rate",
): Record<string, { before: number; after: number }> {
  const judged = prompts.flatMap((p, i) => (p.reference === undefined ? [] : [i]));
  if (judged.length === 0) return {};
  const at = (a: Answers) => judged.map((i) => ({ text: a.texts[i] ?? "", endedWithEos: a.endedWithEos[i] ?? false }));
  // the starting policy against itself: 0.5 by definition
  return {
    [metric]: {
      before: 0.5,
      after: winRate(
        at(before),
        at(after),
        judged.map((i) => prompts[i]?.reference as string),
      ),
    },
  };
}

/** The seed of sampled evaluations: the same draws before and after training, whatever the run's seed. */
export const EVAL_SEED = 0x5eed;

/**
 * Accuracy and win rate of sampled answers (`samples` per prompt, as repeatPrompts lays them out):
 * draw j after training against draw j before. Empty when there are none or no prompt has a reference.
 */
export function sampledEffects(
  prompts: readonly PromptItem[],
  before: Answers | null,
  after: Answers | null,
  samples: number,
): Record<string, { before: number; after: number }> {
  if (!before || !after || !Number.isFinite(after.accuracy)) return {};
  return {
    sampled_accuracy: { before: before.accuracy, after: after.accuracy },
    ...heldOutWinRate(repeatPrompts(prompts, samples), before, after, "sampled_win_rate"),
  };
}

/** The report's samples: the first prompts with the answers before and after, and their references. */
export function answerSamples(
  prompts: readonly PromptItem[],
  before: readonly string[],
  after: readonly string[],
): SampleBeforeAfter[] {
  return prompts.map((p, i) => ({
    prompt: p.prompt,
    before: before[i] ?? "",
    after: after[i] ?? "",
    ...(p.reference !== undefined ? { reference: p.reference } : {}),
  }));
}

/**
 * Greedy answers to `prompts`, and with `samples` > 0 that many sampled answers each (temperature 1,
 * EVAL_SEED): what the RLHF stages score before and after training.
 */
export async function answersOf(
  session: LmSession,
  tok: { decode(ids: number[]): string; special: { eos: number } },
  prompts: readonly PromptItem[],
  o: { maxTokens: number; sampled: number },
): Promise<{ greedy: Answers; sampled: Answers | null }> {
  const greedy = await answerPrompts(session, tok, prompts, o.maxTokens);
  const sampled =
    o.sampled > 0
      ? await answerPrompts(session, tok, prompts, o.maxTokens, { samples: o.sampled, seed: EVAL_SEED })
      : null;
  return { greedy, sampled };
}

/** The held-out accuracy effect row, when some prompt has a reference answer (accuracy is NaN without one). */
export function accuracyEffect(before: Answers, after: Answers): Record<string, { before: number; after: number }> {
  return Number.isFinite(after.accuracy)
    ? { heldout_accuracy: { before: before.accuracy, after: after.accuracy } }
    : {};
}
