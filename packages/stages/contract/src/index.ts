// @baton/stage-contract: the suite every stage implementation runs (stageContract) and the local
// context and fixtures it uses.

export type { ContextOptions, LocalContext } from "./context.ts";
export { localContext } from "./context.ts";
export type { ContractFixture, ContractSpec } from "./contract.ts";
export { stageContract } from "./contract.ts";
export { tempDir, tinyCheckpoint, writeJsonl } from "./fixtures.ts";
export { taskFixture } from "./task-fixture.ts";
