// Regenerates src/types.gen.ts from schemas/. Run: pnpm --filter @baton/contracts gen:types
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { generateTypes } from "./codegen.ts";
import { loadSchemaDocs } from "./schemas.ts";

export const TYPES_FILE = fileURLToPath(new URL("./types.gen.ts", import.meta.url));

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(TYPES_FILE, generateTypes(loadSchemaDocs()));
  console.log(`wrote ${TYPES_FILE}`);
}
