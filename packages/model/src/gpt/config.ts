// The model's configuration: the checkpoint's GptConfig (HF GPT-2 fields) plus the block options a
// Llama-style model will need. Only the GPT-2 block exists today; the other values are refused with
// a clear error rather than silently ignored.
import { CheckpointError, type GptConfig, validateGptConfig } from "../checkpoint/gpt-config.ts";

export interface GptModelConfig extends GptConfig {
  /** normalisation: "layer" (GPT-2) now; "rms" (Llama) later */
  norm?: "layer" | "rms";
  /** positions: "learned" (GPT-2) now; "rope" (Llama) later */
  pos?: "learned" | "rope";
  /** feed-forward: "gelu" (GPT-2, 4C hidden) now; "swiglu" (Llama) later */
  mlp?: "gelu" | "swiglu";
}

/** Checks a config this GPT can build; throws naming the field and what to use instead. */
export function checkModelConfig(c: GptModelConfig, where = "model config"): GptModelConfig {
  validateGptConfig(c, where);
  const later = (key: "norm" | "pos" | "mlp", gpt2: string) => {
    const v = c[key];
    if (v !== undefined && v !== gpt2)
      throw new CheckpointError(
        `${where}: ${key} "${v}" is the Llama-style block, which is not built yet; use ${key}: "${gpt2}"`,
      );
  };
  later("norm", "layer");
  later("pos", "learned");
  later("mlp", "gelu");
  if (c.activation !== "gelu_new") {
    throw new CheckpointError(
      `${where}: activation "${c.activation}" (exact erf GELU) has no engine kernel; GPT-2 uses "gelu_new" (the tanh form), set activation_function to gelu_new`,
    );
  }
  return c;
}
