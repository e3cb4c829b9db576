export type { GptConfig } from "./gpt-config.ts";
export {
  CheckpointError,
  DEFAULT_GPT_CONFIG,
  gptConfigFromHf,
  gptConfigToHf,
  validateGptConfig,
} from "./gpt-config.ts";
export { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from "./half.ts";
export type { F32Tensor, HfFolder, ScoreHead, TensorSpec } from "./hf-gpt2.ts";
export { gptTensorSpecs, loadHfFolder, SCORE_WEIGHT, saveHfFolder } from "./hf-gpt2.ts";
export type { SafeDtype, SafeTensor, SafeTensors, SafeTypedArray } from "./safetensors.ts";
export {
  decodeSafetensors,
  encodeSafetensors,
  readSafetensors,
  SafetensorsError,
  writeSafetensors,
} from "./safetensors.ts";
