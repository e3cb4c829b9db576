export type { RenderOptions } from "./chat/template.ts";
export { chatTemplateOf, DEFAULT_CHAT_TEMPLATE, renderChat, tokenizerConfigFor } from "./chat/template.ts";
export type { TextCodec } from "./codec.ts";
export type { DemoDataManifest, DemoFile, DemoOptions } from "./demo/generate.ts";
export { DEMO_GENERATOR, generateDemoData } from "./demo/generate.ts";
export type { RatedResponse } from "./demo/rater.ts";
export { compareAnswers, demoAnswer, isCorrect, RULE_RATER, rankResponses, winRate } from "./demo/rater.ts";
export type { InstructionTask } from "./demo/tasks.ts";
export { INSTRUCTION_TASKS, TASK_DESCRIPTION, taskPrompt } from "./demo/tasks.ts";
export { plural } from "./demo/words.ts";
export { DatasetError } from "./errors.ts";
export { exactMatch, meanScore, normalizeAnswer, rougeL } from "./metrics/text-metrics.ts";
export type { RankedGroup } from "./preferences/pairs.ts";
export { rankedGroup, rankedPairs } from "./preferences/pairs.ts";
export { hashKey, keyedIndex, keyedPermutation } from "./random.ts";
export type {
  AlpacaRecord,
  ChatMessage,
  ChatRecord,
  ChatRole,
  DatasetFormat,
  DatasetRecord,
  PreferenceRecord,
  PromptCompletionRecord,
  RankingRecord,
  RecordOf,
  TextRecord,
} from "./read/formats.ts";
export { DATASET_FORMATS, SCHEMA_DIR } from "./read/formats.ts";
export type { BadRecordPolicy, Dataset, DatasetReport, ReadOptions } from "./read/reader.ts";
export { collectDataset, readDataset } from "./read/reader.ts";
export type { OpenedSource, SourceOpener } from "./read/source.ts";
export { canonicalUri, openSource } from "./read/source.ts";
export type { SupervisedExample } from "./supervised/examples.ts";
export { alpacaToMessages, chatExample, chatPromptIds, promptCompletionExample } from "./supervised/examples.ts";
export type { SupervisedBatch, SupervisedRows } from "./supervised/packing.ts";
export { packSupervised, SupervisedBatches, supervisedBatch, supervisedEvalBatches } from "./supervised/packing.ts";
export type { LmBatch } from "./tokens/batches.ts";
export { LmBatches, toInt64 } from "./tokens/batches.ts";
export type { CorpusOptions, TokenCorpus } from "./tokens/corpus.ts";
export { buildTokenCorpus, corpusTexts } from "./tokens/corpus.ts";
export type { TokenDtype } from "./tokens/token-file.ts";
export { TokenFile, TokenFileWriter, tokenDtypeFor } from "./tokens/token-file.ts";
