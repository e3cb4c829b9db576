// `baton demo` (`pnpm demo`): the first command a newcomer runs. Generates the demo data, runs
// pretrain -> cpt -> finetune -> instruct -> reward -> rlhf on the embedded defaults (memory bus,
// local folder store), shows progress, and ends with the report's path and a table of each stage's
// effect. The reward step learns from rankings of the instruct checkpoint's own answers: right before
// it trains, the demo samples them and ranks them with the rule rater (`baton feedback simulate`),
// as raters would on the ranking page. With
// `--seeds n` it does so n times, each seed with its own demo data and run seed, and ends with every
// metric's mean and range over the seeds (a table and a report of its own).
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type StageContext, type StageEnv, stageEnv } from "@baton/runner";
import { readPromptTexts, simulateRankings } from "@baton/stage-lm";
import { parseDocument } from "yaml";
import { CliError, numberFlag, parseCommandArgs } from "../args.ts";
import { textTable } from "../report/progress.ts";
import { type SeedRun, seedsMarkdown, spreadRows, spreadTableRows } from "../report/seeds.ts";
import { keepServing, serveConsole, takeWebFlag } from "../web-flag.ts";
import { writeDemoData } from "./demo-data.ts";
import { defaultRunId, parseChoices, runRecipe } from "./run.ts";

export const DEMO_RECIPE = fileURLToPath(new URL("../../recipes/demo.yaml", import.meta.url));

const USAGE = `usage: baton demo [--dir <dir>] [--seed <n>] [--seeds <n>] [--recipe <file>] [--impl <step>=<name>]

  --dir <dir>      where the demo data and recipe go (default: $BATON_HOME/demo-data, BATON_HOME default ./runs)
  --seed <n>       demo data and run seed (default 1)
  --seeds <n>      run n times, with seeds seed .. seed+n-1 (data in <dir>/seed-<s>), and report each
                   metric's mean and range over them (default 1)
  --recipe <file>  another recipe over the demo data (default: packages/cli/recipes/demo.yaml)
  --impl ...       as for \`baton run\`
  --web [port]     watch it in the web console (default port 8080), which stays up until Ctrl-C`;

/** The recipe, copied beside the data it names with its run seed set, so `baton run <dir>/recipe.yaml` repeats it. */
async function placeRecipe(from: string, dir: string, seed: number): Promise<string> {
  const doc = parseDocument(await readFile(from, "utf8"));
  if (doc.errors.length > 0) throw new CliError(`recipe ${from}: not valid YAML: ${doc.errors[0]?.message}`);
  doc.set("seed", seed);
  const recipe = join(dir, "recipe.yaml");
  await writeFile(recipe, doc.toString());
  return recipe;
}

export async function run(args: string[]): Promise<number> {
  const { argv, web } = takeWebFlag(args);
  const { values } = parseCommandArgs(
    argv,
    {
      dir: { type: "string" },
      seed: { type: "string" },
      seeds: { type: "string" },
      recipe: { type: "string" },
      impl: { type: "string", multiple: true },
    },
    USAGE,
    false,
  );
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const first = numberFlag("seed", values.seed, 1, 0);
  const count = numberFlag("seeds", values.seeds, 1, 1);
  if (!Number.isInteger(first) || !Number.isInteger(count))
    throw new CliError(
      `--seed and --seeds take whole numbers, got ${values.seed ?? first} and ${values.seeds ?? count}`,
    );
  const o: DemoOptions = {
    root: resolve(values.dir ?? join(process.env.BATON_HOME ?? "./runs", "demo-data")),
    first,
    count,
    recipe: resolve(values.recipe ?? DEMO_RECIPE),
    choices: parseChoices(values.impl),
  };
  if (web === null) return demoRuns(o);
  // one bus and store for every seed's run and the console that watches them
  const env = await stageEnv();
  const watching = await serveConsole(env, web);
  try {
    return await demoRuns({ ...o, env });
  } finally {
    await keepServing(watching);
    await env.close();
  }
}

interface DemoOptions {
  root: string;
  first: number;
  count: number;
  recipe: string;
  choices: Record<string, string>;
  env?: StageEnv;
}

async function demoRuns(o: DemoOptions): Promise<number> {
  const began = Date.now();
  const runs: SeedRun[] = [];
  for (let seed = o.first; seed < o.first + o.count; seed++) {
    const dir = o.count === 1 ? o.root : join(o.root, `seed-${seed}`);
    const t0 = Date.now();
    console.log(
      `${o.count > 1 ? `\n[seed ${seed}: ${seed - o.first + 1} of ${o.count}] ` : ""}generating demo data (seed ${seed}) in ${dir}`,
    );
    await writeDemoData(dir, seed);
    const recipe = await placeRecipe(o.recipe, dir, seed);
    const outcome = await runRecipe(recipe, {
      choices: o.choices,
      prepare: { reward: rankInstructAnswers(dir) },
      ...(o.env && { env: o.env }),
    });
    if (!outcome) return 1;
    runs.push({ seed, report: outcome.report, reportDir: outcome.reportDir, seconds: (Date.now() - t0) / 1000 });
  }
  if (o.count > 1) {
    const name = runs[0]?.report.recipe ?? "demo";
    const dir = resolve(
      process.env.BATON_HOME ?? "./runs",
      "reports",
      `${defaultRunId({ name: `${name}-seeds`, steps: [] })}`,
    );
    await mkdir(dir, { recursive: true });
    const rows = spreadRows(runs.map((r) => r.report));
    await writeFile(join(dir, "report.md"), seedsMarkdown(name, runs, dir));
    await writeFile(
      join(dir, "report.json"),
      JSON.stringify(
        {
          recipe: name,
          seeds: runs.map((r) => ({ seed: r.seed, runId: r.report.runId, seconds: r.seconds, reportDir: r.reportDir })),
          effects: rows,
        },
        null,
        2,
      ),
    );
    const table = textTable(
      ["step", "stage", "metric", "before: mean (min-max)", "after: mean (min-max)"],
      spreadTableRows(rows),
    );
    console.log(
      `\n${o.count} seeds (${runs.map((r) => r.seed).join(", ")}), each metric's mean over them and (lowest-highest):\n\n${table}\n\nreport: ${join(dir, "report.md")}`,
    );
  }
  console.log(`\ndemo finished in ${((Date.now() - began) / 1000).toFixed(0)} s`);
  return 0;
}

/** Prompts ranked for the demo's reward step: training-template ones to learn from, held-out-template ones to judge by. */
export const DEMO_FEEDBACK = { k: 4, train: 400, test: 120, maxTokens: 24 } as const;

/**
 * The demo's stand-in for a ranking campaign: K answers of the reward step's input checkpoint (the
 * instruct model) to instructions, ranked by the rule rater, written as feedback.train.jsonl and
 * feedback.test.jsonl beside the data, where the recipe's reward and rlhf steps read them.
 */
export function rankInstructAnswers(
  dir: string,
  sizes: { k: number; train: number; test: number; maxTokens: number } = DEMO_FEEDBACK,
) {
  return async (ctx: StageContext): Promise<void> => {
    if (!ctx.input) return;
    const read = { policy: "fail" as const, maxChars: 4000, opener: () => undefined };
    for (const [from, to, n] of [
      ["instruct.train.jsonl", "feedback.train.jsonl", sizes.train],
      ["instruct.test.jsonl", "feedback.test.jsonl", sizes.test],
    ] as const) {
      const prompts = (await readPromptTexts([pathToFileURL(join(dir, from)).href], read)).slice(0, n);
      const records = await simulateRankings(ctx.input.dir, prompts, {
        k: sizes.k,
        maxTokens: sizes.maxTokens,
        temperature: 1,
        seed: ctx.seed,
        checkpointUri: ctx.input.ref.uri,
      });
      await writeFile(join(dir, to), `${records.map((r) => JSON.stringify(r)).join("\n")}\n`);
    }
  };
}
