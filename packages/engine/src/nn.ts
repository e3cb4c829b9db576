// The `nn` namespace: composite layers and losses built from primitives.

export type { CrossEntropy } from "./composites.ts";
export {
  arange,
  causalBias,
  crossEntropy,
  dropout,
  dropoutUnscaled,
  gelu,
  geluFromPrimitives,
  layerNorm,
  layerNormFromPrimitives,
  linear,
  logSigmoid,
  MASKED_SCORE,
  rmsNorm,
  tokenLogProbs,
} from "./composites.ts";
