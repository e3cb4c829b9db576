// Stage `finetune`, a second implementation: the same subject, data and metrics as
// @baton/stage-finetune, but only the last transformer block and the final layer norm train; the
// embeddings (and so the tied output head) and every earlier block stay as the input checkpoint has
// them. Cheaper per step, and it keeps the base model's general text intact. Deploy it on the
// finetune step's subject (`baton stage serve finetune-last-layers --step <name>`) and nothing else
// changes: the recipe, the events and the next stage are the same.
import type { StageDefinition } from "@baton/runner";
import { createFinetune } from "@baton/stage-finetune";
import type { StageDeps } from "@baton/stage-lm";

export const IMPLEMENTATION = "baton-gpt-finetune-last-layers";
export const VERSION = "0.1.0";

/** True for the weights of the last block and the final layer norm. */
export function lastLayerWeights(name: string, nLayer: number): boolean {
  return name.startsWith(`transformer.h.${nLayer - 1}.`) || name.startsWith("transformer.ln_f.");
}

export function createStage(deps: StageDeps = {}): StageDefinition {
  // training fewer weights tolerates a larger step than finetune's 2e-3
  const variant = { implementation: IMPLEMENTATION, version: VERSION, lr: 3e-3, trainable: lastLayerWeights };
  return createFinetune(deps, variant);
}
