export { encodeSafetensors, decodeSafetensors, writeSafetensors, readSafetensors, SafetensorsError } from "./safetensors.ts";
export type { SafeDtype, SafeTensor, SafeTensors, SafeTypedArray } from "./safetensors.ts";
export { f16ToF32, f32ToF16, bf16ToF32, f32ToBf16 } from "./half.ts";
