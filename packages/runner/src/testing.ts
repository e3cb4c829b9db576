// Test fixtures of @baton/runner: a deterministic stage for relay tests (tests/ runs it as separate processes).

export type { CountingStageOptions } from "./counting-stage.ts";
export { countingStage, expectedWeights, readWeights, trainStep as countingTrainStep } from "./counting-stage.ts";
