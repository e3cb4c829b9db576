// Language-model data for the next-token stages (pretrain, cpt): a token corpus on disk from the
// step's datasets, batches that are a pure function of (seed, step), a fixed validation set, and a
// few held-out openings to sample from for the report.
import { join } from "node:path";
import {
  type BadRecordPolicy,
  buildTokenCorpus,
  type DatasetReport,
  LmBatches,
  readDataset,
  type SourceOpener,
  type TextCodec,
} from "@baton/data";
import type { StageContext } from "@baton/runner";
import { fromTokenBatch, meanLoss } from "./batches.ts";
import type { LoadedModel } from "./checkpoint-io.ts";
import type { SplitData } from "./datasets.ts";
import type { LmBatch, LmSession } from "./session.ts";
import { readingData } from "./stage-steps.ts";

export interface LmCorpus {
  batches: LmBatches;
  datasets: DatasetReport[];
  /** The validation batches every evaluation uses (the same ones every time). */
  val: LmBatch[];
  close(): void;
}

export interface LmCorpusOptions {
  train: string[];
  heldOut: string[];
  tokenizer: TextCodec;
  dir: string;
  name: string;
  batchSize: number;
  blockSize: number;
  evalBatches: number;
  valFraction: number;
  policy: BadRecordPolicy;
  maxChars: number;
  opener: SourceOpener;
}

export async function lmCorpus(o: LmCorpusOptions): Promise<LmCorpus> {
  const corpus = await buildTokenCorpus({
    train: o.train,
    ...(o.heldOut.length > 0 ? { val: o.heldOut } : { valFraction: o.valFraction }),
    tokenizer: o.tokenizer,
    dir: join(o.dir, o.name),
    policy: o.policy,
    maxChars: o.maxChars,
    opener: o.opener,
  });
  const batches = new LmBatches(corpus, { batchSize: o.batchSize, blockSize: o.blockSize });
  const val = Array.from({ length: o.evalBatches }, (_, k) => fromTokenBatch(batches.val(k)));
  return { batches, datasets: corpus.datasets, val, close: () => corpus.close() };
}

/** What a next-token stage's config says about its corpus (pretrain and cpt have these keys). */
export interface CorpusSettings {
  train: { batchSize: number };
  evalBatches: number;
  valFraction: number;
  policy: BadRecordPolicy;
  maxChars: number;
}

/**
 * The step's corpus `name` of `split`, tokenised for `model` in the attempt's work folder; a bad
 * dataset is a fatal relay error naming the step.
 */
export function stepCorpus(
  ctx: StageContext,
  model: LoadedModel,
  cfg: CorpusSettings,
  o: { split: SplitData; name: string; opener: SourceOpener },
): Promise<LmCorpus> {
  return readingData(ctx.step.name, () =>
    lmCorpus({
      ...o.split,
      tokenizer: model.tokenizer,
      dir: ctx.workdir,
      name: o.name,
      batchSize: cfg.train.batchSize,
      blockSize: model.config.blockSize,
      evalBatches: cfg.evalBatches,
      valFraction: cfg.valFraction,
      policy: cfg.policy,
      maxChars: cfg.maxChars,
      opener: o.opener,
    }),
  );
}

/** Mean next-token loss on the corpus's validation batches. */
export function valLoss(session: LmSession, corpus: LmCorpus): Promise<number> {
  return meanLoss(session, corpus.val);
}

/** The opening `chars` characters of the first `count` documents of the given text datasets. */
export async function openings(
  uris: readonly string[],
  count: number,
  chars: number,
  opener: SourceOpener,
): Promise<string[]> {
  const out: string[] = [];
  for (const uri of uris) {
    for await (const rec of readDataset(uri, { format: "auto", policy: "skip", opener })) {
      if (rec.kind !== "text") break;
      const text = rec.text.trim();
      if (text.length >= chars) out.push(text.slice(0, chars));
      if (out.length >= count) return out;
    }
  }
  return out;
}

/** The report's prompts: openings of the held-out texts (of the training texts when there are none). */
export function samplePrompts(
  split: SplitData,
  samples: { count: number; promptChars: number },
  opener: SourceOpener,
): Promise<string[]> {
  return openings(split.heldOut.length > 0 ? split.heldOut : split.train, samples.count, samples.promptChars, opener);
}
