// @baton/engine: trace a model on symbolic tensors, differentiate it, emit ONE ONNX graph per train
// step and run it with onnxruntime-node. See ../API.md.

export type { CheckInput, VjpCheck } from "./check.ts";
export { checkVjp } from "./check.ts";
export type { StepResult } from "./compile.ts";
export { compileTrainStep, TrainStep } from "./compile.ts";
export type { AnyTypedArray, DType } from "./dtype.ts";
export { numel } from "./dtype.ts";
export type { Feeds } from "./feeds.ts";
export { grad } from "./grad.ts";
export type { InferenceConfig } from "./infer.ts";
export { compileInference, exportOnnx, InferenceProgram } from "./infer.ts";
export type { Init } from "./init.ts";
export { normal, ones, uniform, zeros } from "./init.ts";
export type { ParamSlot } from "./layout.ts";
export * as nn from "./nn.ts";
export type { AttrValue, OnnxGraph, OnnxNode, OnnxTensor, OnnxValueInfo } from "./onnx/model.ts";
export { encodeModel, OPSET } from "./onnx/model.ts";
export type { Op, OpAttrs } from "./ops.ts";
export { TraceError } from "./ops.ts";
export type { AdamWConfig, Optimizer } from "./optim.ts";
export { adamw, clipByGlobalNorm, sgd } from "./optim.ts";
export type { PlannedModel, TrainPlan, TrainStepConfig } from "./plan.ts";
export { planTrainStep } from "./plan.ts";
export type { SessionConfig } from "./runner.ts";
export type { Operand, ParamInfo } from "./tensor.ts";
export { concat, Graph, scatterAdd, Tensor, where } from "./tensor.ts";
