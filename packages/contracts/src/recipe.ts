import { BatonError } from "./errors.ts";
import type { Recipe } from "./types.gen.ts";
import { assertValid } from "./validate.ts";

/**
 * Checks a recipe (already parsed from YAML/JSON) against schemas/recipe.schema.json, plus the rule a
 * schema cannot say: step names are unique, because each names a subject and a durable consumer.
 */
export function parseRecipe(value: unknown, where: string): Recipe {
  const recipe = assertValid<Recipe>("recipe", value, `recipe ${where}`, "CONFIG_INVALID");
  const seen = new Map<string, number>();
  recipe.steps.forEach((step, i) => {
    const first = seen.get(step.name);
    if (first !== undefined) {
      throw BatonError.fatal(
        "CONFIG_INVALID",
        `recipe ${where}: /steps/${i}/name ${JSON.stringify(step.name)} repeats /steps/${first}/name; give every step a distinct name (it names the NATS subject and consumer).`,
      );
    }
    seen.set(step.name, i);
  });
  return recipe;
}
