// The `nn` namespace: composite layers and losses built from primitives.
export { gelu, layerNorm, rmsNorm, linear, dropout, causalMask, arange, crossEntropy } from "./composites.ts";
export type { CrossEntropy } from "./composites.ts";
