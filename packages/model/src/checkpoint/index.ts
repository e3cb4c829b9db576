export { encodeSafetensors, decodeSafetensors, writeSafetensors, readSafetensors, SafetensorsError } from "./safetensors.ts";
export type { SafeDtype, SafeTensor, SafeTensors, SafeTypedArray } from "./safetensors.ts";
export { f16ToF32, f32ToF16, bf16ToF32, f32ToBf16 } from "./half.ts";
export { CheckpointError, DEFAULT_GPT_CONFIG, validateGptConfig, gptConfigToHf, gptConfigFromHf } from "./gpt-config.ts";
export type { GptConfig } from "./gpt-config.ts";
export { gptTensorSpecs, saveHfFolder, loadHfFolder, SCORE_WEIGHT } from "./hf-gpt2.ts";
export type { F32Tensor, TensorSpec, HfFolder, ScoreHead } from "./hf-gpt2.ts";
