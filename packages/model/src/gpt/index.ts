export type { GptModelConfig } from "./config.ts";
export { checkModelConfig } from "./config.ts";
export type { DecodeState, ForwardOptions, ForwardResult, LayerCache } from "./forward.ts";
export { gptForward, lmHead } from "./forward.ts";
export type { GptTrace, LossTerms, Objective, TraceOptions } from "./graphs.ts";
export {
  nextTokenLoss,
  pastName,
  presentName,
  traceDecoder,
  traceEvaluation,
  traceGpt,
  traceLogits,
  tracePrefill,
  traceTraining,
} from "./graphs.ts";
export type { BlockParams, GptParams, LinearParams, NormParams } from "./params.ts";
export { declareGptParams } from "./params.ts";
