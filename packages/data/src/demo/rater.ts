// The demo's rule rater: ranks a model's responses to a demo instruction as a careful person would
// (a right answer first, then one that stops by itself, then the shorter), so the demo and the tests
// can produce rankings of a checkpoint's own outputs in the format a ranking page writes.
import { exactMatch } from "../metrics/text-metrics.ts";
import { INSTRUCTION_TASKS, type InstructionTask } from "./tasks.ts";

export const RULE_RATER = "baton-demo-rules/1";

export interface RatedResponse {
  text: string;
  /** the generation stopped at EOS (it did not run out of tokens) */
  endedWithEos: boolean;
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Every demo instruction form, as a pattern capturing the word. */
const FORMS: Array<{ task: InstructionTask; pattern: RegExp }> = INSTRUCTION_TASKS.flatMap((task) =>
  [...task.train, ...task.heldOut].map((template) => {
    const [text, slot] = template.split("|") as [string, string | undefined];
    const body =
      slot === "input"
        ? `${escapeRegex(text)}\\n\\n([a-z]+)`
        : escapeRegex(text).replace(escapeRegex("{w}"), "([a-z]+)");
    return { task, pattern: new RegExp(`^${body}$`) };
  }),
);

/** The right answer to a demo instruction, or null when the prompt is not one of the demo's tasks. */
export function demoAnswer(prompt: string): { task: string; answer: string } | null {
  const p = prompt.trim();
  for (const f of FORMS) {
    const m = f.pattern.exec(p);
    if (m) return { task: f.task.name, answer: f.task.answer(m[1] as string) };
  }
  return null;
}

/** Whether a response answers the instruction (surrounding spaces and case aside). */
export function isCorrect(prompt: string, response: string): boolean {
  const a = demoAnswer(prompt);
  return a !== null && exactMatch(response, a.answer) === 1;
}

/**
 * The rater's order of two answers to a question whose right answer is `reference`: right before
 * wrong, then stopped at EOS before cut off, then shorter before longer. Negative: `a` is better; 0: tied.
 */
export function compareAnswers(a: RatedResponse, b: RatedResponse, reference: string): number {
  const key = (r: RatedResponse) => [
    exactMatch(r.text, reference) === 1 ? 0 : 1,
    r.endedWithEos ? 0 : 1,
    r.text.trim().length,
  ];
  const ka = key(a);
  const kb = key(b);
  for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return (ka[i] as number) - (kb[i] as number);
  return 0;
}

/** Ranks responses to a demo instruction best first by compareAnswers; equal ones are tied (`ties` as the ranking schema has them). */
export function rankResponses(
  prompt: string,
  responses: readonly RatedResponse[],
): { ranking: number[]; ties: number[] } {
  const right = demoAnswer(prompt);
  if (right === null)
    throw new Error(
      `the rule rater knows only the demo's instructions; ${JSON.stringify(prompt.slice(0, 80))} is not one`,
    );
  const cmp = (a: number, b: number) =>
    compareAnswers(responses[a] as RatedResponse, responses[b] as RatedResponse, right.answer);
  const ranking = responses.map((_, i) => i).sort((a, b) => cmp(a, b) || a - b);
  const ties = ranking.flatMap((r, p) => (p > 0 && cmp(ranking[p - 1] as number, r) === 0 ? [p] : []));
  return { ranking, ties };
}

/** Share of questions where `after` beats `before` by compareAnswers, ties counting half. */
export function winRate(
  before: readonly RatedResponse[],
  after: readonly RatedResponse[],
  references: readonly string[],
): number {
  let wins = 0;
  references.forEach((ref, i) => {
    const c = compareAnswers(after[i] as RatedResponse, before[i] as RatedResponse, ref);
    wins += c < 0 ? 1 : c === 0 ? 0.5 : 0;
  });
  return wins / Math.max(references.length, 1);
}
