export { checkModelConfig } from "./config.ts";
export type { GptModelConfig } from "./config.ts";
export { declareGptParams } from "./params.ts";
export type { GptParams, BlockParams, LinearParams, NormParams } from "./params.ts";
export { gptForward, lmHead } from "./forward.ts";
export type { ForwardOptions, ForwardResult, DecodeState, LayerCache } from "./forward.ts";
export { traceGpt, traceTraining, traceEvaluation, traceLogits, traceDecoder, tracePrefill, nextTokenLoss, pastName, presentName } from "./graphs.ts";
export type { GptTrace, LossTerms, Objective, TraceOptions } from "./graphs.ts";
