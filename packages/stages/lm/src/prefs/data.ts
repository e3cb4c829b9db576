// The preference stages' data. Rankings (and preference pairs, rankings of two) become ranked groups
// of token sequences; instructions become prompts, with the reference answer when the record has one.
// Every prompt is rendered by the checkpoint's chat template, as the instruct stage trained it, and
// every response ends with EOS, as the model's own answers do.
import {
  alpacaToMessages,
  type BadRecordPolicy,
  type ChatMessage,
  chatPromptIds,
  chatTemplateOf,
  type DatasetRecord,
  type DatasetReport,
  type RankedGroup,
  rankedGroup,
  readDataset,
  type SourceOpener,
  type TextCodec,
} from "@baton/data";
import type { LoadedModel } from "../checkpoint-io.ts";
import { fits, type ResponseSeq } from "./sequences.ts";

export interface ReadOptions {
  policy: BadRecordPolicy;
  maxChars: number;
  opener: SourceOpener;
}

/** How a preference stage reads its data for `model`: the step's policy and maxChars, the model's chat template and block. */
export function prefsReading(
  model: LoadedModel,
  cfg: { policy: BadRecordPolicy; maxChars: number },
  opener: SourceOpener,
): ReadOptions & { template: string; blockSize: number } {
  return {
    policy: cfg.policy,
    maxChars: cfg.maxChars,
    opener,
    template: chatTemplateOf(model.tokenizerConfig),
    blockSize: model.config.blockSize,
  };
}

/** A ranked group as token sequences: one per response, pairs as indices into them. */
export interface SeqGroup {
  prompt: string;
  responses: string[];
  seqs: ResponseSeq[];
  pairs: Array<[number, number]>;
  where: string;
}

/** A prompt to answer: its text, its ids, and the expected answer when the data has one. */
export interface PromptItem {
  prompt: string;
  ids: number[];
  reference?: string;
  where: string;
}

export interface Readings<T> {
  items: T[];
  reports: DatasetReport[];
  /** records read but of another kind than this stage takes from that file (counted, not errors) */
  otherKinds: number;
  /** groups or prompts dropped because they do not fit the block (counted in the report) */
  tooLong: number;
}

/** The sampling-time prompt ids of one user turn. */
export function promptIds(tok: TextCodec, template: string, prompt: string): number[] {
  return chatPromptIds(tok, [{ role: "user", content: prompt }], { template });
}

export function responseIds(tok: TextCodec, response: string): number[] {
  return [...tok.encode(response), tok.special.eos];
}

/**
 * Rankings and preference pairs of `uris`; a group with no pair (all tied) is kept out of training,
 * records of other kinds (instructions beside the rankings in one step's data) are counted and left.
 */
export async function readRankings(
  uris: readonly string[],
  tok: TextCodec,
  o: ReadOptions & { template: string; blockSize: number },
): Promise<Readings<SeqGroup>> {
  const items: SeqGroup[] = [];
  const reports: DatasetReport[] = [];
  let tooLong = 0;
  let otherKinds = 0;
  for (const uri of uris) {
    const ds = readDataset(uri, { format: "auto", policy: o.policy, maxChars: o.maxChars, opener: o.opener });
    for await (const rec of ds) {
      if (rec.kind !== "ranking" && rec.kind !== "preference") {
        otherKinds++;
        continue;
      }
      const g: RankedGroup = rankedGroup(rec);
      if (g.pairs.length === 0) continue;
      const prompt = promptIds(tok, o.template, g.prompt);
      const seqs = g.responses.map((r) => ({ prompt, response: responseIds(tok, r) }));
      if (!seqs.every((s) => fits(s, o.blockSize))) {
        tooLong++;
        continue;
      }
      items.push({ prompt: g.prompt, responses: g.responses, seqs, pairs: g.pairs, where: g.where });
    }
    reports.push(ds.report());
  }
  return { items, reports, otherKinds, tooLong };
}

/** The user turn(s) of a conversation up to its last assistant turn, and that turn as the reference. */
function fromMessages(messages: readonly ChatMessage[]): { prompt: string; reference?: string } {
  const lastAssistant = messages.map((m) => m.role).lastIndexOf("assistant");
  const asked = lastAssistant >= 0 ? messages.slice(0, lastAssistant) : messages;
  const prompt = asked
    .filter((m) => m.role === "user")
    .map((m) => m.content)
    .join("\n");
  return lastAssistant >= 0 ? { prompt, reference: (messages[lastAssistant] as ChatMessage).content } : { prompt };
}

/** The question a record asks, and its reference answer when it has one; null for other kinds. */
function questionOf(rec: DatasetRecord): { prompt: string; reference?: string } | null {
  if (rec.kind === "alpaca") return fromMessages(alpacaToMessages(rec));
  if (rec.kind === "chat") return fromMessages(rec.messages);
  if (rec.kind === "prompt-completion") return { prompt: rec.prompt, reference: rec.completion };
  return null;
}

/** The prompt texts of instruction files, or of ranking / preference files (feedback simulate's --prompts). */
export async function readPromptTexts(uris: readonly string[], o: ReadOptions): Promise<string[]> {
  const out: string[] = [];
  for (const uri of uris) {
    for await (const rec of readDataset(uri, {
      format: "auto",
      policy: o.policy,
      maxChars: o.maxChars,
      opener: o.opener,
    })) {
      const q = rec.kind === "ranking" || rec.kind === "preference" ? { prompt: rec.prompt } : questionOf(rec);
      if (q) out.push(q.prompt);
    }
  }
  return out;
}

/**
 * Prompts from instruction data (alpaca, chat, prompt/completion), each with its reference answer;
 * records of other kinds (rankings beside the instructions in one step's data) are counted and left
 * to the stage that reads them. Prompts that leave fewer than `room` tokens to answer are dropped.
 */
export async function readPrompts(
  uris: readonly string[],
  tok: TextCodec,
  o: ReadOptions & { template: string; blockSize: number; room: number },
): Promise<Readings<PromptItem>> {
  const items: PromptItem[] = [];
  const reports: DatasetReport[] = [];
  let otherKinds = 0;
  let tooLong = 0;
  for (const uri of uris) {
    const ds = readDataset(uri, { format: "auto", policy: o.policy, maxChars: o.maxChars, opener: o.opener });
    for await (const rec of ds) {
      const q = questionOf(rec);
      if (!q) {
        otherKinds++;
        continue;
      }
      const ids = promptIds(tok, o.template, q.prompt);
      if (ids.length + o.room > o.blockSize) {
        tooLong++;
        continue;
      }
      items.push({ ...q, ids, where: rec.where });
    }
    reports.push(ds.report());
  }
  return { items, reports, otherKinds, tooLong };
}
