// @baton/stage-contract: the suite every stage implementation runs (stageContract) and the local
// context and fixtures it uses.
export { stageContract } from "./contract.ts";
export type { ContractSpec, ContractFixture } from "./contract.ts";
export { localContext } from "./context.ts";
export type { ContextOptions, LocalContext } from "./context.ts";
export { tempDir, writeJsonl, tinyCheckpoint } from "./fixtures.ts";
export { taskFixture } from "./task-fixture.ts";
