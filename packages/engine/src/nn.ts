// The `nn` namespace: composite layers and losses built from primitives.
export { gelu, geluFromPrimitives, layerNorm, layerNormFromPrimitives, rmsNorm, linear, dropout, dropoutUnscaled, MASKED_SCORE, causalBias, arange, crossEntropy, tokenLogProbs, logSigmoid } from "./composites.ts";
export type { CrossEntropy } from "./composites.ts";
