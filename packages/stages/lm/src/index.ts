// @baton/stage-lm: what the language-model stages share. Each stage package composes these into its
// recipe: strict config, a session holding the weights that scores and samples them (@baton/model's
// GPT and sampler), @baton/model's trainer wired to the relay (progress, snapshots, SIGTERM),
// checkpoint I/O and task metrics.

export { fromSupervisedBatch, fromTokenBatch, meanLoss, mixRows } from "./batches.ts";
export type { LoadedModel } from "./checkpoint-io.ts";
export {
  loadModel,
  readStageReport,
  STAGE_REPORT_FILE,
  saveModel,
  storedStageReport,
  writeStageReport,
} from "./checkpoint-io.ts";
export type { ConfigRules, ConfigValue, CrossRules, KeyRule } from "./config.ts";
export {
  ConfigInvalid,
  choice,
  closestName,
  DEFAULT_MAX_STRING,
  loadConfig,
  StepInvalid,
  stepProblems,
  unboundedKeys,
} from "./config.ts";
export type { SplitData } from "./datasets.ts";
export { HELD_OUT, partition, requireData, requireSplit, splitByRole, storeOpener } from "./datasets.ts";
export type { CorpusSettings, LmCorpus, LmCorpusOptions } from "./lm-data.ts";
export { lmCorpus, openings, samplePrompts, stepCorpus, valLoss } from "./lm-data.ts";
export type { AnswerSampling, Answers } from "./prefs/answers.ts";
export {
  accuracyEffect,
  answerPrompts,
  answerSamples,
  answersOf,
  EVAL_SEED,
  heldOutWinRate,
  repeatPrompts,
  sampledEffects,
} from "./prefs/answers.ts";
export type { PromptItem, Readings, SeqGroup } from "./prefs/data.ts";
export { prefsReading, promptIds, readPrompts, readPromptTexts, readRankings, responseIds } from "./prefs/data.ts";
export { bradleyTerry, lastTokenScores, positionEntropy, positionScores, targetLogProbs } from "./prefs/heads.ts";
export type { RlhfModels } from "./prefs/policy.ts";
export { rlhfModels, rlhfPlacement } from "./prefs/policy.ts";
export type { SeqOutput } from "./prefs/programs.ts";
export { SeqProgram } from "./prefs/programs.ts";
export type { SampledPrompt, SampledResponse, SampleResponsesOptions } from "./prefs/sample-responses.ts";
export { sampleResponses } from "./prefs/sample-responses.ts";
export type { ResponseSeq, SeqRows } from "./prefs/sequences.ts";
export { fits, rowsBatch, seqRows } from "./prefs/sequences.ts";
export type { RankingRecord, SimulateOptions } from "./prefs/simulate.ts";
export { simulateRankings } from "./prefs/simulate.ts";
export type { GenerateOptions, Generation } from "./sample.ts";
export { beforeAfter, continuePrompts, continueTexts, GENERATION_BATCH, generate, type TextRequest } from "./sample.ts";
export type { LmBatch, OptimConfig, SessionOptions } from "./session.ts";
export { LmSession } from "./session.ts";
export type { HeldOutItem, SftData, SftDataOptions, SftRecord, SftSettings, TaskScores } from "./sft-data.ts";
export { chatTurns, promptCompletion, sampleTable, scoreTask, sftData, stepSftData } from "./sft-data.ts";
export type { DatasetCounts, SampleBeforeAfter, StageReport } from "./stage-report.ts";
export type { Finish, StageDeps } from "./stage-steps.ts";
export { datasetCounts, finish, openSession, readingData, startFrom, trainingSession } from "./stage-steps.ts";
export type { ScoredRun, SupervisedTrain } from "./supervised-run.ts";
export { trainScored } from "./supervised-run.ts";
export type { TrainDefaults } from "./train-defaults.ts";
export {
  BAD_RECORD_POLICIES,
  LIMIT_RULES,
  OPTIM_DEFAULTS,
  PACKINGS,
  SCHEDULE_RULES,
  scheduleProblems,
} from "./train-defaults.ts";
export type { CurvePoint, LoopOptions, LoopResult, Schedule } from "./train-loop.ts";
export { scheduleOf, trainLoop } from "./train-loop.ts";
