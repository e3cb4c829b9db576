// Stage `pretrain`, as a recipe:
//   consumes  text files or {"text"} JSONL (the step's data); starts from random init, or from the
//             input checkpoint when the step has one (an imported HF GPT-2 folder, say)
//   trains    a GPT with next-token loss on packed sequences (every target counts), warmup + cosine
//   emits     the checkpoint (HF GPT-2 folder + tokenizer) with val loss and tokens/s, and samples
//             before / after for the report

import type { RecipeStep } from "@baton/contracts";
import { corpusTexts, type SourceOpener, tokenizerConfigFor } from "@baton/data";
import { parseTokenizerSpec, trainTokenizer } from "@baton/model";
import type { StageContext, StageDefinition, TrainResult } from "@baton/runner";
import {
  beforeAfter,
  continuePrompts,
  datasetCounts,
  finish,
  fromTokenBatch,
  type LoadedModel,
  loadModel,
  readingData,
  requireSplit,
  type SplitData,
  type StageDeps,
  samplePrompts,
  scheduleOf,
  stepCorpus,
  stepProblems,
  storeOpener,
  trainingSession,
  trainLoop,
  valLoss,
} from "@baton/stage-lm";
import { type PretrainConfig, pretrainConfig, pretrainModel } from "./config.ts";

export type { PretrainConfig } from "./config.ts";
export { PRETRAIN_DEFAULTS, PRETRAIN_RULES, presetDefaults, pretrainConfig, pretrainModel } from "./config.ts";
export const IMPLEMENTATION = "baton-gpt-pretrain";
export const VERSION = "0.1.0";

// Every printable ASCII character and newline: later stages' prompts and answers always encode.
const PRINTABLE = `\n${Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join("")}`;

/** The training text as @baton/data streams it, after the printable characters. */
async function* withPrintable(texts: AsyncIterable<string>): AsyncGenerator<string> {
  yield PRINTABLE;
  yield* texts;
}

/** Random init: a tokenizer learned from the training data and the GPT of the step's preset and model. */
async function freshModel(cfg: PretrainConfig, train: string[], opener: SourceOpener): Promise<LoadedModel> {
  const spec = parseTokenizerSpec(cfg.tokenizer === "bpe" ? `bpe:${cfg.bpeVocabSize}` : cfg.tokenizer);
  const tokenizer = await trainTokenizer(spec, withPrintable(corpusTexts(train, { opener, policy: cfg.policy })));
  const config = pretrainModel(cfg, tokenizer.vocabSize);
  const tokenizerConfig = tokenizerConfigFor(tokenizer, { modelMaxLength: config.blockSize });
  return { config, weights: new Map(), tokenizer, tokenizerConfig };
}

/** The step's config and its data split by role: every check that needs no training (train() runs it first). */
function checkedStep(step: RecipeStep): { cfg: PretrainConfig; split: SplitData } {
  const cfg = pretrainConfig(step);
  const split = requireSplit(step, cfg.heldOut, false, "pretraining");
  return { cfg, split };
}

export function createStage(deps: StageDeps = {}): StageDefinition {
  const opener = storeOpener(deps.store, deps.dataAccess);
  return {
    stage: "pretrain",
    implementation: IMPLEMENTATION,
    version: VERSION,
    validate: (step) => stepProblems(() => checkedStep(step)),
    async train(ctx: StageContext): Promise<TrainResult> {
      const startedAt = performance.now();
      const { cfg, split } = checkedStep(ctx.step);

      const input = ctx.input;
      const model = await readingData(ctx.step.name, () =>
        input ? loadModel(input.dir, `input checkpoint ${input.ref.uri}`) : freshModel(cfg, split.train, opener),
      );
      const corpus = await stepCorpus(ctx, model, cfg, { split, name: "corpus", opener });
      const session = await trainingSession(ctx, model, cfg, deps);

      const prompts = await samplePrompts(split, cfg.samples, opener);
      const sample = () => continuePrompts(session, model.tokenizer, prompts, cfg.samples.maxTokens);
      const before = { val_loss: await valLoss(session, corpus), samples: await sample() };

      const run = await trainLoop({
        ctx,
        session,
        ...scheduleOf(cfg),
        batch: (t) => fromTokenBatch(corpus.batches.train(ctx.seed, t)),
        evaluate: async () => ({ val_loss: await valLoss(session, corpus) }),
        accumSteps: cfg.train.accumSteps,
      });

      const after = { val_loss: await valLoss(session, corpus), samples: await sample() };
      corpus.close();
      return finish(ctx, {
        model,
        session,
        run,
        effect: { val_loss: { before: ctx.input ? before.val_loss : null, after: after.val_loss } },
        samples: beforeAfter(prompts, before.samples, after.samples),
        datasets: datasetCounts(corpus.datasets),
        implementation: IMPLEMENTATION,
        startedAt,
        metrics: { random_init_val_loss: before.val_loss },
      });
    },
  };
}
