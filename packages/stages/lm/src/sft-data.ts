// Supervised data for the fine-tuning stages: records become tokenised examples with a loss mask
// (completion / assistant tokens and their EOS), packed into rows; held-out records become prompts
// with a reference answer for the task metrics. Prompt ids are built the way sampling builds them,
// so evaluation asks exactly what training taught.
import {
  alpacaToMessages,
  type BadRecordPolicy,
  type ChatMessage,
  chatExample,
  chatPromptIds,
  DatasetError,
  type DatasetFormat,
  type DatasetReport,
  exactMatch,
  packSupervised,
  promptCompletionExample,
  readDataset,
  rougeL,
  type SourceOpener,
  type SupervisedExample,
  type SupervisedRows,
  supervisedBatch,
  supervisedEvalBatches,
  type TextCodec,
} from "@baton/data";
import type { StageContext } from "@baton/runner";
import { fromSupervisedBatch, meanLoss } from "./batches.ts";
import type { LoadedModel } from "./checkpoint-io.ts";
import type { SplitData } from "./datasets.ts";
import { continueTexts } from "./sample.ts";
import type { LmBatch, LmSession } from "./session.ts";
import type { SampleBeforeAfter } from "./stage-report.ts";
import { readingData } from "./stage-steps.ts";

/** One held-out question: the ids the model is given and the answer it should produce. */
export interface HeldOutItem {
  prompt: string;
  promptIds: number[];
  reference: string;
}

export interface SftData {
  rows: SupervisedRows;
  heldOutRows: SupervisedRows;
  heldOut: HeldOutItem[];
  datasets: DatasetReport[];
  batch(seed: number, step: number): LmBatch;
  heldOutBatches: LmBatch[];
}

type Renderer = {
  /** The example to train on. */
  example(rec: SftRecord): SupervisedExample;
  /** The held-out prompt and reference of a record. */
  question(rec: SftRecord): HeldOutItem;
};

export type SftRecord =
  | { kind: "prompt-completion"; prompt: string; completion: string; where: string }
  | { kind: "chat"; messages: ChatMessage[]; where: string };

/** prompt/completion: the prompt as given, the completion then EOS. */
export function promptCompletion(tokenizer: TextCodec): Renderer {
  return {
    example: (r) => {
      if (r.kind !== "prompt-completion") throw new Error(`${r.where}: expected a {"prompt","completion"} record`);
      return promptCompletionExample(tokenizer, r);
    },
    question: (r) => {
      if (r.kind !== "prompt-completion") throw new Error(`${r.where}: expected a {"prompt","completion"} record`);
      return { prompt: r.prompt, promptIds: tokenizer.encode(r.prompt), reference: r.completion };
    },
  };
}

/** Conversations through the chat template: loss on assistant turns; the question ends at the last one. */
export function chatTurns(tokenizer: TextCodec, template: string): Renderer {
  return {
    example: (r) => {
      if (r.kind !== "chat") throw new Error(`${r.where}: expected a conversation`);
      return chatExample(tokenizer, r.messages, { template, where: r.where });
    },
    question: (r) => {
      if (r.kind !== "chat") throw new Error(`${r.where}: expected a conversation`);
      const last = r.messages.length - 1;
      const answer = r.messages[last];
      if (answer?.role !== "assistant")
        throw new Error(`${r.where}: a held-out conversation must end with an assistant turn (the reference answer)`);
      const asked = r.messages.slice(0, last);
      return {
        prompt: asked.map((m) => m.content).join("\n"),
        promptIds: chatPromptIds(tokenizer, asked, { template }),
        reference: answer.content,
      };
    },
  };
}

/** A split's records, the report of each dataset, and which report each record came from. */
interface ReadRecords {
  records: SftRecord[];
  /** records[i] came from reports[source[i]] */
  source: number[];
  reports: DatasetReport[];
}

async function readRecords(
  uris: readonly string[],
  formats: readonly DatasetFormat[],
  o: { policy: BadRecordPolicy; maxChars: number; opener: SourceOpener },
): Promise<ReadRecords> {
  const records: SftRecord[] = [];
  const source: number[] = [];
  const reports: DatasetReport[] = [];
  for (const uri of uris) {
    const ds = readDataset(uri, { format: "auto", policy: o.policy, maxChars: o.maxChars, opener: o.opener });
    for await (const rec of ds) {
      if (!formats.includes(rec.kind as DatasetFormat))
        throw new SftFormatError(`${rec.where}: this stage takes ${formats.join(" or ")} records, not ${rec.kind}`);
      if (rec.kind === "prompt-completion")
        records.push({ kind: rec.kind, prompt: rec.prompt, completion: rec.completion, where: rec.where });
      else if (rec.kind === "alpaca") records.push({ kind: "chat", messages: alpacaToMessages(rec), where: rec.where });
      else if (rec.kind === "chat") records.push({ kind: "chat", messages: rec.messages, where: rec.where });
      else continue;
      source.push(reports.length);
    }
    reports.push(ds.report());
  }
  return { records, source, reports };
}

/** Messages kept per dataset, as the reader keeps them. */
const MAX_KEPT_ERRORS = 50;

/**
 * Packs a split's records into rows. An example dropped under policy "skip" (longer than the block)
 * was read as a good record but is not trained on: it moves from its dataset's records to its
 * skipped, with its message, so the stage report counts what was actually left out.
 */
function packRecords(read: ReadRecords, o: SftDataOptions): SupervisedRows {
  const examples = read.records.map((r) => o.render.example(r));
  return packSupervised(examples, {
    blockSize: o.blockSize,
    mode: o.mode,
    padId: o.padId,
    policy: o.policy,
    onSkip: (i, message) => {
      const report = read.reports[read.source[i]!]!;
      report.records--;
      report.skipped++;
      if (report.errors.length < MAX_KEPT_ERRORS) report.errors.push(message);
    },
  });
}

/** A record of a kind the stage does not take; a DatasetError so the stage dead-letters it. */
class SftFormatError extends DatasetError {}

export interface SftDataOptions {
  train: string[];
  heldOut: string[];
  formats: readonly DatasetFormat[];
  render: Renderer;
  blockSize: number;
  batchSize: number;
  padId: number;
  mode: "rows" | "packed";
  policy: BadRecordPolicy;
  maxChars: number;
  opener: SourceOpener;
  /** At most this many held-out items are generated for the metrics. */
  maxHeldOut: number;
}

export async function sftData(o: SftDataOptions): Promise<SftData> {
  const read = { policy: o.policy, maxChars: o.maxChars, opener: o.opener };
  const train = await readRecords(o.train, o.formats, read);
  const held = await readRecords(o.heldOut, o.formats, read);
  const rows = packRecords(train, o);
  const heldOutRows = packRecords(held, o);
  const T = o.blockSize;
  // a question must leave room to answer inside the window
  const heldOut = held.records
    .map((r) => o.render.question(r))
    .filter((q) => q.promptIds.length < T - 4)
    .slice(0, o.maxHeldOut);
  return {
    rows,
    heldOutRows,
    heldOut,
    datasets: [...train.reports, ...held.reports],
    batch: (seed, step) => fromSupervisedBatch(supervisedBatch(rows, { seed, step, batchSize: o.batchSize })),
    heldOutBatches: [...supervisedEvalBatches(heldOutRows, o.batchSize)].map(fromSupervisedBatch),
  };
}

/** What a supervised stage's config says about its data (finetune and instruct have these keys). */
export interface SftSettings {
  train: { batchSize: number };
  packing: "rows" | "packed";
  policy: BadRecordPolicy;
  maxChars: number;
  eval: { maxExamples: number };
}

/**
 * The step's supervised data of `split` for `model`: records of `formats`, rendered by `render`,
 * packed into the model's block; a bad dataset is a fatal relay error naming the step.
 */
export function stepSftData(
  ctx: StageContext,
  model: LoadedModel,
  cfg: SftSettings,
  o: { split: SplitData; formats: readonly DatasetFormat[]; render: Renderer; opener: SourceOpener },
): Promise<SftData> {
  return readingData(ctx.step.name, () =>
    sftData({
      ...o.split,
      formats: o.formats,
      render: o.render,
      blockSize: model.config.blockSize,
      batchSize: cfg.train.batchSize,
      padId: model.tokenizer.special.pad,
      mode: cfg.packing,
      policy: cfg.policy,
      maxChars: cfg.maxChars,
      opener: o.opener,
      maxHeldOut: cfg.eval.maxExamples,
    }),
  );
}

export interface TaskScores {
  exact_match: number;
  rouge_l: number;
  /** Share of generations that ended with EOS (the model knows when to stop). */
  eos_rate: number;
  heldout_loss: number;
}

/** Greedy answers to the held-out questions, scored; plus the held-out masked loss. */
export async function scoreTask(
  session: LmSession,
  data: SftData,
  tokenizer: TextCodec,
  maxTokens: number,
): Promise<{ scores: TaskScores; answers: string[] }> {
  let em = 0;
  let rl = 0;
  let eos = 0;
  const answers: string[] = [];
  const outs = await continueTexts(
    session,
    tokenizer,
    data.heldOut.map((q) => ({ prompt: q.promptIds, maxTokens })),
  );
  for (const [i, q] of data.heldOut.entries()) {
    const out = outs[i] as { text: string; endedWithEos: boolean };
    answers.push(out.text);
    em += exactMatch(out.text, q.reference);
    rl += rougeL(out.text, q.reference);
    eos += out.endedWithEos ? 1 : 0;
  }
  const n = Math.max(1, data.heldOut.length);
  return {
    scores: {
      exact_match: em / n,
      rouge_l: rl / n,
      eos_rate: eos / n,
      heldout_loss: await meanLoss(session, data.heldOutBatches),
    },
    answers,
  };
}

/** The first `count` held-out questions with the answers before and after training. */
export function sampleTable(data: SftData, before: string[], after: string[], count: number): SampleBeforeAfter[] {
  return data.heldOut
    .slice(0, count)
    .map((q, i) => ({ prompt: q.prompt, before: before[i] ?? "", after: after[i] ?? "", reference: q.reference }));
}
