// Reading a recipe file: YAML or JSON (by extension; YAML is a superset, so anything else is read as
// YAML), validated against schemas/recipe.schema.json. Relative file paths in `data` are resolved
// against the recipe's folder and become file:// URIs, so a recipe can sit beside its data.
import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { BatonError, parseRecipe, type Recipe } from "@baton/contracts";
import { parse as parseYaml } from "yaml";

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

export async function readRecipeFile(path: string): Promise<Recipe> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw BatonError.fatal(
      "CONFIG_INVALID",
      `recipe ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  let value: unknown;
  try {
    value = path.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw BatonError.fatal(
      "CONFIG_INVALID",
      `recipe ${path}: not valid ${path.endsWith(".json") ? "JSON" : "YAML"}: ${(err as Error).message}`,
    );
  }
  const base = dirname(resolve(path));
  if (value && typeof value === "object" && Array.isArray((value as { steps?: unknown }).steps)) {
    for (const step of (value as { steps: unknown[] }).steps) {
      const data = (step as { data?: unknown })?.data;
      if (!Array.isArray(data)) continue;
      (step as { data: unknown[] }).data = data.map((d) =>
        typeof d === "string" && !SCHEME.test(d) ? pathToFileURL(isAbsolute(d) ? d : resolve(base, d)).href : d,
      );
    }
  }
  return parseRecipe(value, `recipe ${path}`);
}
