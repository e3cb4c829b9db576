import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository's schemas/ folder: the contracts every service agrees on. */
export const SCHEMAS_DIR = fileURLToPath(new URL("../../../schemas/", import.meta.url));

/** Base of every schema's $id; a file's $id is this plus its path under schemas/. */
export const SCHEMA_ID_BASE = "https://baton.dev/schemas/";

export interface SchemaDoc {
  /** Path under schemas/, '/'-separated, e.g. "events/checkpoint.ready.schema.json". */
  file: string;
  schema: JsonSchema;
}

/** The subset of JSON Schema 2020-12 that Baton's contracts use (and the type generator understands). */
export interface JsonSchema {
  $schema?: string;
  $id?: string;
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  title?: string;
  description?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  "x-baton-event-type"?: string;
  [keyword: string]: unknown;
}

/** Reads every *.schema.json under schemas/, sorted by path so generation is stable. */
export function loadSchemaDocs(dir: string = SCHEMAS_DIR): SchemaDoc[] {
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name.endsWith(".schema.json")) files.push(relative(dir, p).split("\\").join("/"));
    }
  };
  walk(dir);
  files.sort();
  return files.map((file) => {
    const text = readFileSync(join(dir, file), "utf8");
    let schema: JsonSchema;
    try {
      schema = JSON.parse(text) as JsonSchema;
    } catch (err) {
      throw new Error(`schemas/${file} is not valid JSON: ${(err as Error).message}. Fix the file and rerun.`);
    }
    const expectedId = SCHEMA_ID_BASE + file;
    if (schema.$id !== expectedId) {
      throw new Error(
        `schemas/${file} has $id ${JSON.stringify(schema.$id)}; it must be ${JSON.stringify(expectedId)} so relative $refs resolve.`,
      );
    }
    return { file, schema };
  });
}
