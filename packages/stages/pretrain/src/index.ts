// Stage `pretrain`, as a recipe:
//   consumes  text files or {"text"} JSONL (the step's data); starts from random init, or from the
//             input checkpoint when the step has one (an imported HF GPT-2 folder, say)
//   trains    a GPT with next-token loss on packed sequences (every target counts), warmup + cosine
//   emits     the checkpoint (HF GPT-2 folder + tokenizer) with val loss and tokens/s, and samples
//             before / after for the report
import { type BadRecordPolicy, corpusTexts, tokenizerConfigFor } from "@baton/data";
import { DEFAULT_GPT_CONFIG, type GptConfig, type Tokenizer, parseTokenizerSpec, trainTokenizer } from "@baton/model";
import type { RecipeStep } from "@baton/contracts";
import type { StageContext, StageDefinition, TrainResult } from "@baton/runner";
import {
  type LoadedModel,
  type SampleBeforeAfter,
  type SplitData,
  type StageDeps,
  continueTexts,
  datasetCounts,
  finish,
  lmCorpus,
  openSession,
  openings,
  readingData,
  requireData,
  splitByRole,
  stepProblems,
  storeOpener,
  trainLoop,
  valLoss,
  loadModel,
  fromTokenBatch as fromTokens,
} from "@baton/stage-lm";
import { type PretrainConfig, pretrainConfig } from "./config.ts";

export { PRETRAIN_DEFAULTS, PRETRAIN_RULES, pretrainConfig } from "./config.ts";
export const IMPLEMENTATION = "baton-gpt-pretrain";
export const VERSION = "0.1.0";

// Every printable ASCII character and newline: later stages' prompts and answers always encode.
const PRINTABLE = "\n" + Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join("");

/** The training text as @baton/data streams it, after the printable characters. */
async function* withPrintable(texts: AsyncIterable<string>): AsyncGenerator<string> {
  yield PRINTABLE;
  yield* texts;
}

/** Random init: a tokenizer learned from the training data and a GPT of the configured size. */
async function freshModel(cfg: PretrainConfig, train: string[], opener: ReturnType<typeof storeOpener>): Promise<LoadedModel> {
  const spec = parseTokenizerSpec(cfg.tokenizer === "bpe" ? `bpe:${cfg.bpeVocabSize}` : cfg.tokenizer);
  const tokenizer: Tokenizer = await trainTokenizer(spec, withPrintable(corpusTexts(train, { opener, policy: cfg.policy as BadRecordPolicy })));
  const config: GptConfig = { ...DEFAULT_GPT_CONFIG, ...cfg.model, vocabSize: tokenizer.vocabSize };
  return { config, weights: new Map(), tokenizer, tokenizerConfig: tokenizerConfigFor(tokenizer, { modelMaxLength: config.blockSize }) };
}

/** The step's config and its data split by role: every check that needs no training (train() runs it first). */
function checkedStep(step: RecipeStep): { cfg: PretrainConfig; split: SplitData } {
  const cfg = pretrainConfig(step);
  const split = splitByRole(step.data, cfg.heldOut);
  requireData(step, split, false, "pretraining");
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

      const model = await readingData(ctx.step.name, () => (ctx.input ? loadModel(ctx.input.dir, `input checkpoint ${ctx.input.ref.uri}`) : freshModel(cfg, split.train, opener)));
      const corpus = await readingData(ctx.step.name, () =>
        lmCorpus({ ...split, tokenizer: model.tokenizer, dir: ctx.workdir, name: "corpus", batchSize: cfg.train.batchSize, blockSize: model.config.blockSize, evalBatches: cfg.evalBatches, valFraction: cfg.valFraction, policy: cfg.policy as BadRecordPolicy, maxChars: cfg.maxChars, opener }),
      );
      const session = await openSession(model, { batchSize: cfg.train.batchSize, optim: cfg.optim, seed: ctx.seed, threads: deps.threads });

      const prompts = await openings(split.heldOut.length > 0 ? split.heldOut : split.train, cfg.samples.count, cfg.samples.promptChars, opener);
      const sample = async () => continueTexts(session, model.tokenizer, prompts.map((p) => ({ prompt: model.tokenizer.encode(p), maxTokens: cfg.samples.maxTokens })));
      const before = { val_loss: await valLoss(session, corpus), samples: await sample() };

      const run = await trainLoop({
        ctx,
        session,
        schedule: { steps: cfg.train.steps, lr: cfg.optim.lr, minLr: cfg.train.minLr, warmupSteps: cfg.train.warmupSteps },
        batch: (t) => fromTokens(corpus.batches.train(ctx.seed, t)),
        evaluate: async () => ({ val_loss: await valLoss(session, corpus) }),
        evalEvery: cfg.train.evalEvery,
        snapshotEvery: cfg.train.snapshotEvery,
      });

      const after = { val_loss: await valLoss(session, corpus), samples: await sample() };
      const samples: SampleBeforeAfter[] = prompts.map((prompt, i) => ({ prompt, before: before.samples[i]?.text ?? "", after: after.samples[i]?.text ?? "" }));
      corpus.close();
      return finish(ctx, {
        model,
        session,
        run,
        effect: { val_loss: { before: ctx.input ? before.val_loss : null, after: after.val_loss } },
        samples,
        datasets: datasetCounts(corpus.datasets),
        implementation: IMPLEMENTATION,
        startedAt,
        metrics: { random_init_val_loss: before.val_loss },
      });
    },
  };
}
