// @baton/engine: trace a model on symbolic tensors, differentiate it, emit ONE ONNX graph per train
// step and run it with onnxruntime-node. See ../API.md.
export type { DType, AnyTypedArray } from "./dtype.ts";
export { numel } from "./dtype.ts";
export { Graph, Tensor, where, concat, scatterAdd } from "./tensor.ts";
export type { ParamInfo, Operand } from "./tensor.ts";
export { TraceError } from "./ops.ts";
export type { Op, OpAttrs } from "./ops.ts";
export { normal, uniform, zeros, ones } from "./init.ts";
export type { Init } from "./init.ts";
export { grad } from "./grad.ts";
export { compileTrainStep, TrainStep } from "./compile.ts";
export type { StepResult } from "./compile.ts";
export { planTrainStep } from "./plan.ts";
export type { TrainStepConfig, TrainPlan, PlannedModel } from "./plan.ts";
export { compileInference, InferenceProgram, exportOnnx } from "./infer.ts";
export { encodeModel, OPSET } from "./onnx/model.ts";
export type { OnnxGraph, OnnxNode, OnnxTensor, OnnxValueInfo, AttrValue } from "./onnx/model.ts";
export type { InferenceConfig } from "./infer.ts";
export { adamw, sgd, clipByGlobalNorm } from "./optim.ts";
export type { Optimizer, AdamWConfig } from "./optim.ts";
export type { SessionConfig } from "./runner.ts";
export type { Feeds } from "./feeds.ts";
export type { ParamSlot } from "./layout.ts";
export * as nn from "./nn.ts";
export { checkVjp } from "./check.ts";
export type { CheckInput, VjpCheck } from "./check.ts";
