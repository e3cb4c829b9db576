// `baton demo` (`pnpm demo`): the first command a newcomer runs. Generates the demo data, runs
// pretrain -> cpt -> finetune -> instruct -> reward -> rlhf on the embedded defaults (memory bus,
// local folder store), shows progress, and ends with the report's path and a table of each stage's
// effect. The reward step learns from rankings of the instruct checkpoint's own answers: right before
// it trains, the demo samples them and ranks them with the rule rater (`baton feedback simulate`),
// as raters would on the ranking page.
import { copyFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { StageContext } from "@baton/stage-kit";
import { readPromptTexts, simulateRankings } from "@baton/stage-lm";
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
  const outcome = await runRecipe(recipe, { choices: parseChoices(values.impl), prepare: { reward: rankInstructAnswers(dir) } });
  console.log(`\ndemo finished in ${((Date.now() - began) / 1000).toFixed(0)} s`);
  return outcome ? 0 : 1;
}

/** Prompts ranked for the demo's reward step: training-template ones to learn from, held-out-template ones to judge by. */
export const DEMO_FEEDBACK = { k: 4, train: 240, test: 80, maxTokens: 24 } as const;

/**
 * The demo's stand-in for a ranking campaign: K answers of the reward step's input checkpoint (the
 * instruct model) to instructions, ranked by the rule rater, written as feedback.train.jsonl and
 * feedback.test.jsonl beside the data, where the recipe's reward and rlhf steps read them.
 */
export function rankInstructAnswers(dir: string, sizes: { k: number; train: number; test: number; maxTokens: number } = DEMO_FEEDBACK) {
  return async (ctx: StageContext): Promise<void> => {
    if (!ctx.input) return;
    const read = { policy: "fail" as const, maxChars: 4000, opener: () => undefined };
    for (const [from, to, n] of [["instruct.train.jsonl", "feedback.train.jsonl", sizes.train], ["instruct.test.jsonl", "feedback.test.jsonl", sizes.test]] as const) {
      const prompts = (await readPromptTexts([pathToFileURL(join(dir, from)).href], read)).slice(0, n);
      const records = await simulateRankings(ctx.input.dir, prompts, { k: sizes.k, maxTokens: sizes.maxTokens, temperature: 1, seed: ctx.seed, checkpointUri: ctx.input.ref.uri });
      await writeFile(join(dir, to), records.map((r) => JSON.stringify(r)).join("\n") + "\n");
    }
  };
}
