// Test fixtures of @baton/contracts: one valid example of every contract, for other packages' tests.
export { exampleData, exampleManifest, exampleRecipe } from "./examples.ts";
