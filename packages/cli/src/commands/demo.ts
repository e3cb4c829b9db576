// `baton demo` (`pnpm demo`): the first command a newcomer runs. Generates the demo data, runs
// pretrain -> cpt -> finetune -> instruct on the embedded defaults (memory bus, local folder store),
// shows progress, and ends with the report's path and a table of each stage's effect.
import { copyFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { numberFlag, parseCommandArgs } from "../args.ts";
import { writeDemoData } from "./demo-data.ts";
import { parseChoices, runRecipe } from "./run.ts";

export const DEMO_RECIPE = fileURLToPath(new URL("../../recipes/demo.yaml", import.meta.url));

const USAGE = `usage: baton demo [--dir <dir>] [--seed <n>] [--recipe <file>] [--impl <step>=<name>]

  --dir <dir>      where the demo data and recipe go (default: $BATON_HOME/demo-data, BATON_HOME default ./runs)
  --seed <n>       demo data seed (default 1)
  --recipe <file>  another recipe over the demo data (default: packages/cli/recipes/demo.yaml)
  --impl ...       as for \`baton run\``;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, { dir: { type: "string" }, seed: { type: "string" }, recipe: { type: "string" }, impl: { type: "string", multiple: true } }, USAGE, false);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const began = Date.now();
  const dir = resolve(values.dir ?? join(process.env.BATON_HOME ?? "./runs", "demo-data"));
  const seed = numberFlag("seed", values.seed, 1, 0);
  console.log(`generating demo data (seed ${seed}) in ${dir}`);
  await writeDemoData(dir, seed);
  // the recipe sits beside the data it names, so `baton run <dir>/recipe.yaml` repeats the demo
  const recipe = join(dir, "recipe.yaml");
  await copyFile(resolve(values.recipe ?? DEMO_RECIPE), recipe);
  const outcome = await runRecipe(recipe, { choices: parseChoices(values.impl) });
  console.log(`\ndemo finished in ${((Date.now() - began) / 1000).toFixed(0)} s`);
  return outcome ? 0 : 1;
}
