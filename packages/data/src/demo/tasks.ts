import type { Rand } from "./words.ts";
import { GENERAL, madeUpNoun, pick, plural } from "./words.ts";

/**
 * The fine-tuning task: the plural of a noun, by the three regular rules. A tiny model must copy the
 * word and choose the ending, which it can learn in minutes; test words are never seen in training, so
 * exact match measures the rule, not memory.
 */
export const TASK_DESCRIPTION =
  'plural of a noun: prompt "plural of <noun>:", completion " <plural>" (+s; +es after s/x/z/ch/sh; consonant+y -> ies); test nouns are unseen in training';

export function taskPrompt(noun: string): { prompt: string; completion: string } {
  return { prompt: `plural of ${noun}:`, completion: ` ${plural(noun)}` };
}

/** Distinct made-up nouns, split so no test noun appears in training. */
export function splitNouns(r: Rand, train: number, test: number): { train: string[]; test: string[] } {
  const seen = new Set<string>(GENERAL.nouns);
  const words: string[] = [];
  while (words.length < train + test) {
    const w = madeUpNoun(r);
    if (!seen.has(w)) {
      seen.add(w);
      words.push(w);
    }
  }
  return { train: words.slice(0, train), test: words.slice(train) };
}

export interface InstructionTask {
  name: string;
  answer: (word: string) => string;
  /** Templates seen in training; `{w}` is the word. A template ending `|input` puts the word in "input". */
  train: string[];
  /** Templates only in the test set: the instruction-following generalisation the instruct stage shows. */
  heldOut: string[];
}

/**
 * Instruction templates are a lead-in and a phrasing of the task. Training uses eight lead-ins with
 * every phrasing; the test uses two lead-ins never seen in training, so every test instruction is a
 * template the model has not seen, while the task words stay learnable for a tiny model in a minute or
 * two. Lead-ins of several lengths teach the model that a lead-in shifts the question without changing
 * it; with four, a 4-layer model followed unseen ones 78% of the time after 500 steps. (Measured on
 * nanogpt-baby: with whole new phrasings per task, 500 steps reached 30% on seen templates and 6% on
 * held-out ones, far too little signal for the demo.)
 */
const TRAIN_LEADS = ["", "please, ", "now, ", "hey, ", "hi, ", "well, ", "then, ", "and "];
const HELD_OUT_LEADS = ["ok, ", "so, "];

function task(
  name: string,
  answer: (w: string) => string,
  phrasings: string[],
  inputTemplate: string,
): InstructionTask {
  const cross = (leads: string[]) => leads.flatMap((lead) => phrasings.map((p) => lead + p));
  return { name, answer, train: [...cross(TRAIN_LEADS), `${inputTemplate}|input`], heldOut: cross(HELD_OUT_LEADS) };
}

export const INSTRUCTION_TASKS: InstructionTask[] = [
  task(
    "plural",
    plural,
    ["what is the plural of {w}?", "give the plural of {w}.", "plural of {w}:"],
    "give the plural of this word.",
  ),
  task(
    "first-letter",
    (w) => w[0]!,
    ["what is the first letter of {w}?", "give the first letter of {w}.", "first letter of {w}:"],
    "give the first letter of this word.",
  ),
  task(
    "last-letter",
    (w) => w[w.length - 1]!,
    ["what is the last letter of {w}?", "give the last letter of {w}.", "last letter of {w}:"],
    "give the last letter of this word.",
  ),
  task(
    "twice",
    (w) => `${w} ${w}`,
    ["say {w} twice.", "write {w} twice.", "repeat {w} twice."],
    "say this word twice.",
  ),
];

export interface AlpacaRow {
  instruction: string;
  input: string;
  output: string;
}

function render(template: string, word: string): { instruction: string; input: string } {
  const [text, slot] = template.split("|");
  return slot === "input"
    ? { instruction: text!, input: word }
    : { instruction: text!.replace("{w}", word), input: "" };
}

/** `count` alpaca rows: tasks in turn, a random template of the given kind, a random word. */
export function instructionRows(
  r: Rand,
  count: number,
  nouns: readonly string[],
  kind: "train" | "heldOut",
): Array<AlpacaRow & { task: string }> {
  const rows: Array<AlpacaRow & { task: string }> = [];
  for (let i = 0; i < count; i++) {
    const task = INSTRUCTION_TASKS[i % INSTRUCTION_TASKS.length]!;
    const word = pick(r, nouns);
    const { instruction, input } = render(pick(r, task[kind]), word);
    rows.push({ task: task.name, instruction, input, output: task.answer(word) });
  }
  return rows;
}

/** A wrong answer of the right kind: what a reward model must learn to rank below the right one. */
function nearMiss(r: Rand, task: InstructionTask, word: string): string {
  const right = task.answer(word);
  const candidates: Record<string, string[]> = {
    plural: [`${word}s`, `${word}es`, `${word.slice(0, -1)}ies`, word],
    "first-letter": [...word.slice(1)],
    "last-letter": [...word.slice(0, -1)],
    twice: [word, `${word} ${word} ${word}`],
  };
  const wrong = (candidates[task.name] ?? [word]).filter((c) => c !== right);
  return wrong.length > 0 ? pick(r, wrong) : word + word;
}

const OFF_TOPIC = "i do not know.";

export interface PreferenceRow {
  task: string;
  prompt: string;
  chosen: string;
  rejected: string;
}

export interface RankingRow {
  task: string;
  prompt: string;
  responses: string[];
  ranking: number[];
}

function preferencePrompt(r: Rand, nouns: readonly string[]): { task: InstructionTask; word: string; prompt: string } {
  const task = pick(r, INSTRUCTION_TASKS);
  const word = pick(r, nouns);
  const template = pick(
    r,
    task.train.filter((t) => !t.includes("|")),
  );
  return { task, word, prompt: template.replace("{w}", word) };
}

/** Preference pairs (reward model, DPO): the right answer over a near miss of the right kind. */
export function preferenceRows(r: Rand, count: number, nouns: readonly string[]): PreferenceRow[] {
  return Array.from({ length: count }, () => {
    const { task, word, prompt } = preferencePrompt(r, nouns);
    return { task: task.name, prompt, chosen: task.answer(word), rejected: nearMiss(r, task, word) };
  });
}

/** Rankings of three responses, best first: right answer, near miss, off-topic reply (shuffled). */
export function rankingRows(r: Rand, count: number, nouns: readonly string[]): RankingRow[] {
  return Array.from({ length: count }, () => {
    const { task, word, prompt } = preferencePrompt(r, nouns);
    const ordered = [task.answer(word), nearMiss(r, task, word), OFF_TOPIC];
    const order = [0, 1, 2]; // order[i] = which ranked answer sits at slot i (Fisher-Yates shuffle)
    for (let i = 2; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const responses = order.map((k) => ordered[k]!);
    const ranking = [0, 1, 2].map((k) => order.indexOf(k)); // slots, best first
    return { task: task.name, prompt, responses, ranking };
  });
}
