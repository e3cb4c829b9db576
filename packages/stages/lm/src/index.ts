// @baton/stage-lm: what the language-model stages share. Each stage package composes these into its
// recipe: strict config, a session holding the weights that scores and samples them (@baton/model's
// GPT and sampler), @baton/model's trainer wired to the relay (progress, snapshots, SIGTERM),
// checkpoint I/O and task metrics.
export {
  ConfigInvalid,
  DEFAULT_MAX_STRING,
  StepInvalid,
  choice,
  closestName,
  loadConfig,
  stepProblems,
  unboundedKeys,
} from "./config.ts";
export type { ConfigRules, CrossRules, KeyRule, ConfigValue } from "./config.ts";
export { LmSession } from "./session.ts";
export type { LmBatch, OptimConfig, SessionOptions } from "./session.ts";
export { scheduleOf, trainLoop } from "./train-loop.ts";
export type { Schedule, CurvePoint, LoopOptions, LoopResult } from "./train-loop.ts";
export { beforeAfter, continuePrompts, continueTexts, generate, GENERATION_BATCH, type TextRequest } from "./sample.ts";
export { lmCorpus, openings, samplePrompts, stepCorpus, valLoss } from "./lm-data.ts";
export type { CorpusSettings, LmCorpus, LmCorpusOptions } from "./lm-data.ts";
export type { GenerateOptions, Generation } from "./sample.ts";
export { fromTokenBatch, fromSupervisedBatch, mixRows, meanLoss } from "./batches.ts";
export { loadModel, saveModel, readStageReport, storedStageReport, writeStageReport } from "./checkpoint-io.ts";
export { STAGE_REPORT_FILE } from "./checkpoint-io.ts";
export type { LoadedModel } from "./checkpoint-io.ts";
export type { StageReport, SampleBeforeAfter, DatasetCounts } from "./stage-report.ts";
export { HELD_OUT, partition, requireData, requireSplit, splitByRole, storeOpener } from "./datasets.ts";
export type { SplitData } from "./datasets.ts";
export { datasetCounts, finish, openSession, readingData, startFrom, trainingSession } from "./stage-steps.ts";
export type { StageDeps, Finish } from "./stage-steps.ts";
export { BAD_RECORD_POLICIES, PACKINGS, LIMIT_RULES, OPTIM_DEFAULTS, SCHEDULE_RULES } from "./train-defaults.ts";
export { scheduleProblems } from "./train-defaults.ts";
export type { TrainDefaults } from "./train-defaults.ts";
export { chatTurns, promptCompletion, sampleTable, scoreTask, sftData, stepSftData } from "./sft-data.ts";
export { trainScored } from "./supervised-run.ts";
export type { ScoredRun, SupervisedTrain } from "./supervised-run.ts";
export type { HeldOutItem, SftData, SftDataOptions, SftRecord, SftSettings, TaskScores } from "./sft-data.ts";
export { seqRows, rowsBatch, fits } from "./prefs/sequences.ts";
export type { ResponseSeq, SeqRows } from "./prefs/sequences.ts";
export { bradleyTerry, lastTokenScores, positionScores, targetLogProbs, positionEntropy } from "./prefs/heads.ts";
export { SeqProgram } from "./prefs/programs.ts";
export type { SeqOutput } from "./prefs/programs.ts";
export { prefsReading, promptIds, readPrompts, readPromptTexts, readRankings, responseIds } from "./prefs/data.ts";
export type { SeqGroup, PromptItem, Readings } from "./prefs/data.ts";
export { rlhfModels, rlhfPlacement } from "./prefs/policy.ts";
export type { RlhfModels } from "./prefs/policy.ts";
export { accuracyEffect, answerPrompts, answerSamples, answersOf, EVAL_SEED } from "./prefs/answers.ts";
export { heldOutWinRate, repeatPrompts, sampledEffects } from "./prefs/answers.ts";
export type { Answers, AnswerSampling } from "./prefs/answers.ts";
export { simulateRankings } from "./prefs/simulate.ts";
export { sampleResponses } from "./prefs/sample-responses.ts";
export type { SampledPrompt, SampledResponse, SampleResponsesOptions } from "./prefs/sample-responses.ts";
export type { RankingRecord, SimulateOptions } from "./prefs/simulate.ts";
