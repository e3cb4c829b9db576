// The middle of every supervised stage (finetune, instruct): score the held-out task, train on the
// packed rows with the held-out loss as the running evaluation, score again. One place, so each
// stage's index.ts keeps only what differs: its data format and what it reports.
import type { TextCodec } from "@baton/data";
import type { StageContext } from "@baton/runner";
import type { LmSession } from "./session.ts";
import { type SftData, scoreTask, type TaskScores } from "./sft-data.ts";
import { type LoopResult, scheduleOf, trainLoop } from "./train-loop.ts";

export interface SupervisedTrain {
  steps: number;
  minLr: number;
  warmupSteps: number;
  evalEvery: number;
  snapshotEvery: number;
}

export interface ScoredRun {
  before: { scores: TaskScores; answers: string[] };
  run: LoopResult;
  after: { scores: TaskScores; answers: string[] };
}

export async function trainScored(o: {
  ctx: StageContext;
  session: LmSession;
  data: SftData;
  tokenizer: TextCodec;
  /** the stage's config: its schedule (train, optim.lr) and the longest answer generated (eval.maxTokens) */
  config: { train: SupervisedTrain; optim: { lr: number }; eval: { maxTokens: number } };
}): Promise<ScoredRun> {
  const { ctx, session, data, tokenizer, config } = o;
  const maxTokens = config.eval.maxTokens;
  const before = await scoreTask(session, data, tokenizer, maxTokens);
  const run = await trainLoop({
    ctx,
    session,
    ...scheduleOf(config),
    batch: (t) => data.batch(ctx.seed, t),
    // held-out loss only (no generation) while training: generation is the costly part of scoring
    evaluate: async () => ({
      heldout_loss: (await scoreTask(session, { ...data, heldOut: [] }, tokenizer, 0)).scores.heldout_loss,
    }),
  });
  const after = await scoreTask(session, data, tokenizer, maxTokens);
  return { before, run, after };
}
