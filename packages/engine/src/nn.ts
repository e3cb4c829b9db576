// The `nn` namespace: composite layers and losses built from primitives.
export { gelu, geluFromPrimitives, layerNorm, layerNormFromPrimitives, rmsNorm, linear, dropout, causalMask, arange, crossEntropy } from "./composites.ts";
export type { CrossEntropy } from "./composites.ts";
