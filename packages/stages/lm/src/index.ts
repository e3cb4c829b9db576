// @baton/stage-lm: what the language-model stages share. Each stage package composes these into its
// recipe: strict config, a session holding the weights that scores and samples them (@baton/model's
// GPT and sampler), @baton/model's trainer wired to the relay (progress, snapshots, SIGTERM),
// checkpoint I/O and task metrics.
export { ConfigInvalid, DEFAULT_MAX_STRING, StepInvalid, choice, closestName, loadConfig, stepProblems, unboundedKeys } from "./config.ts";
export type { ConfigRules, CrossRules, KeyRule, ConfigValue } from "./config.ts";
export { LmSession } from "./session.ts";
export type { LmBatch, OptimConfig, SessionOptions } from "./session.ts";
export { trainLoop } from "./train-loop.ts";
export type { Schedule, CurvePoint, LoopOptions, LoopResult } from "./train-loop.ts";
export { generate, continueTexts, GENERATION_BATCH, type TextRequest } from "./sample.ts";
export { lmCorpus, valLoss, openings } from "./lm-data.ts";
export type { LmCorpus, LmCorpusOptions } from "./lm-data.ts";
export type { GenerateOptions, Generation } from "./sample.ts";
export { fromTokenBatch, fromSupervisedBatch, mixRows, meanLoss } from "./batches.ts";
export { loadModel, saveModel, readStageReport, storedStageReport, writeStageReport, STAGE_REPORT_FILE } from "./checkpoint-io.ts";
export type { LoadedModel } from "./checkpoint-io.ts";
export type { StageReport, SampleBeforeAfter, DatasetCounts } from "./stage-report.ts";
export { storeOpener, splitByRole, partition, requireData, HELD_OUT } from "./datasets.ts";
export type { SplitData } from "./datasets.ts";
export { startFrom, openSession, readingData, datasetCounts, finish } from "./stage-steps.ts";
export type { StageDeps, Finish } from "./stage-steps.ts";
export { BAD_RECORD_POLICIES, LIMIT_RULES, OPTIM_DEFAULTS, PACKINGS, SCHEDULE_RULES, scheduleProblems, type TrainDefaults } from "./train-defaults.ts";
export { sftData, scoreTask, sampleTable, promptCompletion, chatTurns } from "./sft-data.ts";
export { trainScored } from "./supervised-run.ts";
export type { ScoredRun, SupervisedTrain } from "./supervised-run.ts";
export type { SftData, SftDataOptions, SftRecord, HeldOutItem, TaskScores } from "./sft-data.ts";
export { seqRows, rowsBatch, fits } from "./prefs/sequences.ts";
export type { ResponseSeq, SeqRows } from "./prefs/sequences.ts";
export { bradleyTerry, lastTokenScores, positionScores, targetLogProbs, positionEntropy } from "./prefs/heads.ts";
export { SeqProgram } from "./prefs/programs.ts";
export type { SeqOutput } from "./prefs/programs.ts";
export { readRankings, readPrompts, readPromptTexts, promptIds, responseIds } from "./prefs/data.ts";
export type { SeqGroup, PromptItem, Readings } from "./prefs/data.ts";
export { rlhfModels, rlhfPlacement } from "./prefs/policy.ts";
export type { RlhfModels } from "./prefs/policy.ts";
export { answerPrompts, EVAL_SEED, heldOutWinRate, repeatPrompts, sampledEffects } from "./prefs/answers.ts";
export type { Answers, AnswerSampling } from "./prefs/answers.ts";
export { simulateRankings } from "./prefs/simulate.ts";
export { sampleResponses } from "./prefs/sample-responses.ts";
export type { SampledPrompt, SampledResponse, SampleResponsesOptions } from "./prefs/sample-responses.ts";
export type { RankingRecord, SimulateOptions } from "./prefs/simulate.ts";
