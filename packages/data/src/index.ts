export { DatasetError } from "./errors.ts";
export { readDataset, collectDataset } from "./read/reader.ts";
export type { Dataset, DatasetReport, ReadOptions, BadRecordPolicy } from "./read/reader.ts";
export { openSource, canonicalUri } from "./read/source.ts";
export type { SourceOpener, OpenedSource } from "./read/source.ts";
export { DATASET_FORMATS, SCHEMA_DIR } from "./read/formats.ts";
export type {
  DatasetFormat,
  DatasetRecord,
  RecordOf,
  TextRecord,
  PromptCompletionRecord,
  AlpacaRecord,
  ChatRecord,
  ChatMessage,
  ChatRole,
  PreferenceRecord,
  RankingRecord,
} from "./read/formats.ts";
export type { TextCodec } from "./codec.ts";
export { hashKey, keyedIndex, keyedPermutation } from "./random.ts";
export { TokenFile, TokenFileWriter, tokenDtypeFor } from "./tokens/token-file.ts";
export type { TokenDtype } from "./tokens/token-file.ts";
export { buildTokenCorpus, corpusTexts } from "./tokens/corpus.ts";
export type { CorpusOptions, TokenCorpus } from "./tokens/corpus.ts";
export { LmBatches, toInt64 } from "./tokens/batches.ts";
export type { LmBatch } from "./tokens/batches.ts";
export { DEFAULT_CHAT_TEMPLATE, renderChat, tokenizerConfigFor, chatTemplateOf } from "./chat/template.ts";
export type { RenderOptions } from "./chat/template.ts";
export { promptCompletionExample, chatExample, chatPromptIds, alpacaToMessages } from "./supervised/examples.ts";
export type { SupervisedExample } from "./supervised/examples.ts";
export { packSupervised, supervisedBatch, supervisedEvalBatches, SupervisedBatches } from "./supervised/packing.ts";
export type { SupervisedRows, SupervisedBatch } from "./supervised/packing.ts";
export { generateDemoData, DEMO_GENERATOR } from "./demo/generate.ts";
export type { DemoDataManifest, DemoFile, DemoOptions } from "./demo/generate.ts";
export { INSTRUCTION_TASKS, TASK_DESCRIPTION, taskPrompt } from "./demo/tasks.ts";
export type { InstructionTask } from "./demo/tasks.ts";
export { plural } from "./demo/words.ts";
export { RULE_RATER, compareAnswers, demoAnswer, isCorrect, rankResponses, winRate } from "./demo/rater.ts";
export type { RatedResponse } from "./demo/rater.ts";
export { rankedPairs, rankedGroup } from "./preferences/pairs.ts";
export type { RankedGroup } from "./preferences/pairs.ts";
export { exactMatch, rougeL, meanScore, normalizeAnswer } from "./metrics/text-metrics.ts";
