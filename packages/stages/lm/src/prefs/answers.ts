// Greedy answers to held-out prompts, scored against their references: what an RLHF stage reports
// before and after, so a policy that games its reward model into worse answers shows it.
import { exactMatch, winRate } from "@baton/data";
import { continueText } from "../sample.ts";
import type { LmSession } from "../session.ts";
import type { PromptItem } from "./data.ts";

export interface Answers {
  texts: string[];
  endedWithEos: boolean[];
  /** exact match against the reference, over the prompts that have one (NaN when none has) */
  accuracy: number;
  eosRate: number;
  meanLength: number;
}

export async function answerPrompts(session: LmSession, tok: { decode(ids: number[]): string; special: { eos: number } }, prompts: readonly PromptItem[], maxTokens: number): Promise<Answers> {
  const texts: string[] = [];
  const endedWithEos: boolean[] = [];
  let right = 0;
  let judged = 0;
  for (const p of prompts) {
    const out = await continueText(session, tok, p.ids, maxTokens);
    texts.push(out.text);
    endedWithEos.push(out.endedWithEos);
    if (p.reference !== undefined) {
      judged++;
      right += exactMatch(out.text, p.reference);
    }
  }
  const n = Math.max(prompts.length, 1);
  return {
    texts,
    endedWithEos,
    accuracy: judged > 0 ? right / judged : Number.NaN,
    eosRate: endedWithEos.filter(Boolean).length / n,
    meanLength: texts.reduce((a, t) => a + t.length, 0) / n,
  };
}

/**
 * How often the trained policy's answer beats the starting one on prompts with a reference, ties
 * counting half: right before wrong, then stopped at EOS, then shorter (the demo rater's rule, with
 * the data's reference as the right answer), as an effect row; none when no prompt has a reference.
 */
export function heldOutWinRate(prompts: readonly PromptItem[], before: Answers, after: Answers): Record<string, { before: number; after: number }> {
  const judged = prompts.flatMap((p, i) => (p.reference === undefined ? [] : [i]));
  if (judged.length === 0) return {};
  const at = (a: Answers) => judged.map((i) => ({ text: a.texts[i] ?? "", endedWithEos: a.endedWithEos[i] ?? false }));
  // the starting policy against itself: 0.5 by definition
  return { heldout_win_rate: { before: 0.5, after: winRate(at(before), at(after), judged.map((i) => prompts[i]?.reference as string)) } };
}
