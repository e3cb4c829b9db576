// @baton/stage-registry: the stage implementations this build serves, and the pipeline run on one
// machine (every step served in-process over the memory bus and a local folder store).

export type { CheckOptions } from "./check.ts";
export { checkRecipe, recipeProblems } from "./check.ts";
export type { PipelineOptions } from "./pipeline.ts";
export { runPipeline } from "./pipeline.ts";
export type { UploadedData } from "./recipe-data.ts";
export { uploadLocalData } from "./recipe-data.ts";
export { readRecipeFile } from "./recipe-file.ts";
export type { Implementation, ResolvedStep, StageModule } from "./registry.ts";
export { defaultImplementation, IMPLEMENTATIONS, implementation, resolveSteps } from "./registry.ts";
