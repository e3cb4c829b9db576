// @baton/stage-registry: the stage implementations this build serves, and the pipeline run on one
// machine (every step served in-process over the memory bus and a local folder store).
export { IMPLEMENTATIONS, defaultImplementation, implementation, resolveSteps } from "./registry.ts";
export type { Implementation, ResolvedStep, StageModule } from "./registry.ts";
export { checkRecipe, recipeProblems } from "./check.ts";
export type { CheckOptions } from "./check.ts";
export { readRecipeFile } from "./recipe-file.ts";
export { uploadLocalData } from "./recipe-data.ts";
export type { UploadedData } from "./recipe-data.ts";
export { runPipeline } from "./pipeline.ts";
export type { PipelineOptions } from "./pipeline.ts";
