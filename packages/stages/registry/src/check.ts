// The whole recipe checked before anything is published or trained: a typo in the last step's
// config must cost seconds, not the hours the steps before it would train. Every step goes through
// its implementation's own validate() (the strict config loader and the checks train() runs first)
// and its placementProblems() (what it needs of the steps before it), every implementation name is
// resolved (the recipe's stages and --impl choices), and every dataset URI that can be checked is:
// file:// must be a readable file, s3:// must exist in the store. All problems come back at once,
// step by step, each with the recipe file and its JSON path.
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { BatonError, type Recipe } from "@baton/contracts";
import type { Store } from "@baton/store";
import { IMPLEMENTATIONS, resolveStep, unknownChoices } from "./registry.ts";

export interface CheckOptions {
  /** step name -> implementation name (default: the stage's own). */
  choices?: Record<string, string>;
  /** The store the stages read s3:// datasets through; without an S3 store s3:// data is a problem only when `local`. */
  store?: Store;
  /** The stages run in this process (the embedded default): they can read only what this process can. */
  local?: boolean;
  /** Steps whose datasets are written during the run, before the step trains: those URIs are not checked for existence, in any step. */
  madeDuringRun?: readonly string[];
  /** Check configs, placement and implementations only (the trigger: a rule's data arrives with its event). */
  skipData?: boolean;
}

/** Every problem of the recipe, one line each ("<file>: /steps/2/config/train/stpes: unknown key ..."); [] when it is good. */
export async function recipeProblems(recipe: Recipe, file: string, o: CheckOptions = {}): Promise<string[]> {
  const problems = unknownChoices(recipe, o.choices ?? {});
  const made = new Set(recipe.steps.filter((s) => o.madeDuringRun?.includes(s.name)).flatMap((s) => s.data));
  for (const [i, step] of recipe.steps.entries()) {
    const at = (p: string) =>
      p.startsWith("/") ? `${file}: /steps/${i}${p}` : `${file}: /steps/${i} (step "${step.name}"): ${p}`;
    const { implementation, problem } = resolveStep(step, i, file, o.choices?.[step.name]);
    if (problem) problems.push(problem);
    const impl = implementation ? IMPLEMENTATIONS[implementation] : undefined;
    if (impl) {
      const module = await impl.load();
      const def = module.createStage(o.store ? { store: o.store } : {});
      const own = def.validate?.(step) ?? [];
      problems.push(...own.map(at));
      // where the step sits only matters once its own config is good
      if (own.length === 0)
        problems.push(...(module.placementProblems?.(step, recipe.steps.slice(0, i)) ?? []).map(at));
    }
    for (const [j, uri] of step.data.entries()) {
      if (o.skipData || made.has(uri)) continue;
      const bad = await dataProblem(uri, o);
      if (bad) problems.push(`${file}: /steps/${i}/data/${j}: ${bad}`);
    }
  }
  return problems;
}

/** Throws one CONFIG_INVALID error listing every problem of the recipe (nothing has been published yet). */
export async function checkRecipe(recipe: Recipe, file: string, o: CheckOptions = {}): Promise<void> {
  const problems = await recipeProblems(recipe, file, o);
  if (problems.length > 0) {
    const count = `${problems.length} problem${problems.length === 1 ? "" : "s"}`;
    throw BatonError.fatal(
      "CONFIG_INVALID",
      `recipe ${file} has ${count}; nothing was published or trained:\n  - ${problems.join("\n  - ")}`,
    );
  }
}

async function dataProblem(uri: string, o: CheckOptions): Promise<string | null> {
  if (uri.startsWith("file://")) {
    const path = fileURLToPath(uri);
    const s = await stat(path).catch(() => null);
    if (!s) return `${path} does not exist; fix the path (relative paths are read beside the recipe)`;
    if (!s.isFile()) return `${path} is not a file; name the dataset's file`;
    const denied = await access(path, constants.R_OK).then(
      () => null,
      (err: NodeJS.ErrnoException) => err.code ?? err.message,
    );
    return denied ? `${path} cannot be read (${denied}); give this user read access to it` : null;
  }
  if (uri.startsWith("s3://")) {
    if (o.store?.kind !== "s3")
      return o.local
        ? `${uri}: s3:// datasets need S3_ENDPOINT / S3_BUCKET set (the stages run in this process with a local folder store)`
        : null;
    let key: string;
    try {
      key = o.store.keyOf(uri);
    } catch (err) {
      return `${uri}: ${(err as Error).message}; the stages read s3:// datasets through the relay's store`;
    }
    // An unreachable store is not the recipe's fault: the stages retry it; only a missing object is.
    const head = await o.store.head(key).catch(() => undefined);
    return head === null ? `${uri} does not exist in the store; upload it (baton data push) or fix the URI` : null;
  }
  return null;
}
