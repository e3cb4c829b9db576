// `baton run <recipe>`: with no services configured, every stage runs in this process over the memory
// bus and a local folder store (the embedded default), and the run ends with its report. With
// NATS_URL / S3_ENDPOINT set, the run's first event is published to the cluster's stage services
// (`--wait` follows it to run.completed and writes the report); the recipe's local datasets are
// uploaded to the store first and the event names their s3:// URIs.
import { resolve } from "node:path";
import { type CheckpointRef, isBatonError, type Recipe, type RunCompletedData } from "@baton/contracts";
import {
  awaitRun,
  checkpointAt,
  type Logger,
  latestCheckpoint,
  type StageEnv,
  stageEnv,
  startRun,
  tail,
} from "@baton/runner";
import {
  checkRecipe,
  type PipelineOptions,
  readRecipeFile,
  recipeProblems,
  runPipeline,
  uploadLocalData,
} from "@baton/stage-registry";
import { CliError, numberFlag, parseCommandArgs } from "../args.ts";
import type { RunReport } from "../report/collect.ts";
import { effectRows } from "../report/markdown.ts";
import { progressPrinter, textTable } from "../report/progress.ts";
import { writeReport } from "../report/write.ts";
import { keepServing, serveConsole, takeWebFlag } from "../web-flag.ts";

const USAGE = `usage: baton run <recipe.yaml|recipe.json> [options]

  --run-id <id>             run id (default: <recipe name>-<utc time>)
  --impl <step>=<name>      run a step with another implementation of its stage (repeatable),
                            e.g. --impl finetune=finetune-last-layers
  --report <dir>            where report.md / report.json / loss SVGs go (default: $BATON_HOME/reports/<run id>)
  --timeout-min <n>         give up after n minutes (default 60)
  --threads <n>             onnxruntime threads per stage (default 2)
  --wait                    with NATS_URL set: wait for run.completed and write the report
  --web [port]              serve the web console (default port 8080) over this run's bus and store,
                            to watch it live; it stays up after the run until Ctrl-C
  --check                   only check the whole recipe (every step's config, stages, data URIs),
                            print every problem and exit (1 when there is one); nothing is published
  --from <step>             run only the recipe's steps from <step> to the end
  --checkpoint <uri|latest> the checkpoint <step> starts from: a committed checkpoint's folder URI, or
                            "latest": the newest checkpoint of the step before <step> in this recipe
                            (needs NATS_URL: the pointer lives in the cluster's ledger)

Without NATS_URL the stages run here (memory bus; checkpoints under $BATON_HOME, default ./runs).`;

// The progress line says what happens; warnings and errors (retries, dead letters) still show, but
// not the services' own shutdown at the end of the run.
const warningsOnly: Logger = {
  info: () => {},
  warn: (msg, f) =>
    msg.startsWith("stop()") || process.stderr.write(`\nwarning: ${msg}${f ? ` ${JSON.stringify(f)}` : ""}\n`),
  error: (msg, f) => process.stderr.write(`\nerror: ${msg}${f ? ` ${JSON.stringify(f)}` : ""}\n`),
};

export function defaultRunId(recipe: Recipe): string {
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "")
    .replace("T", "-");
  return `${
    recipe.name
      .replace(/[^A-Za-z0-9_-]+/g, "-")
      .replace(/^[^A-Za-z0-9]+/, "")
      .slice(0, 60) || "run"
  }-${stamp}`;
}

export function parseChoices(values: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values ?? []) {
    const [step, impl, ...rest] = v.split("=");
    if (!step || !impl || rest.length > 0)
      throw new CliError(`--impl takes <step>=<implementation>, got "${v}"; e.g. --impl finetune=finetune-last-layers`);
    if (Object.hasOwn(out, step))
      throw new CliError(
        `--impl ${step}=... is given twice (${out[step]}, ${impl}); choose one implementation for step "${step}"`,
      );
    out[step] = impl;
  }
  return out;
}

export interface RunOutcome {
  runId: string;
  reportDir: string;
  table: string;
  report: RunReport;
}

/** Runs a recipe the embedded way (or through the cluster) and writes its report. Used by `demo` too. */
/** Where `--from` / `--checkpoint` start the run: a URI, or the newest checkpoint of the step before `from`. */
async function startingCheckpoint(
  env: StageEnv,
  recipe: Recipe,
  from: string | undefined,
  checkpoint: string | undefined,
): Promise<CheckpointRef | null> {
  if (checkpoint === undefined) return null;
  if (checkpoint !== "latest") return checkpointAt(env.store, checkpoint);
  const steps = recipe.steps.map((s) => s.name);
  const before = from === undefined ? -1 : steps.indexOf(from) - 1;
  if (before < 0)
    throw new CliError(
      `--checkpoint latest takes the newest checkpoint of the step before --from; ${from === undefined ? "give --from <step>" : `"${from}" is the recipe's first step`}`,
    );
  if (env.bus.kind === "memory")
    throw new CliError("--checkpoint latest reads the cluster's ledger: set NATS_URL, or give the checkpoint's URI");
  return latestCheckpoint(env.ledger, recipe.name, steps[before]!);
}

export async function runRecipe(
  file: string,
  o: {
    runId?: string;
    choices?: Record<string, string>;
    reportDir?: string;
    timeoutMin?: number;
    threads?: number;
    wait?: boolean;
    env?: StageEnv;
    prepare?: PipelineOptions["prepare"];
    from?: string;
    checkpoint?: string;
  },
): Promise<RunOutcome | null> {
  const recipe = await readRecipeFile(file);
  const steps = tail(recipe, o.from); // an unknown --from step fails here too
  const env = o.env ?? (await stageEnv());
  const runId = o.runId ?? defaultRunId(recipe);
  const timeoutMs = (o.timeoutMin ?? 60) * 60_000;
  const reportDir = o.reportDir ?? resolve(process.env.BATON_HOME ?? "./runs", "reports", runId);
  try {
    // The whole recipe, before anything is published or trained: a typo in the last step costs seconds.
    // Steps with a prepare hook make their data in their own attempt: nothing to find before it.
    await checkRecipe(recipe, file, {
      choices: o.choices ?? {},
      store: env.store,
      local: env.bus.kind === "memory",
      madeDuringRun: Object.keys(o.prepare ?? {}),
    });
    const checkpoint = await startingCheckpoint(env, recipe, o.from, o.checkpoint);
    const start = { ...(o.from !== undefined && { from: o.from }), checkpoint };
    let completed: RunCompletedData;
    if (env.bus.kind === "memory") {
      console.log(`run ${runId}: ${steps.map((s) => s.name).join(" -> ")} in this process (${env.describe})`);
      const printer = progressPrinter();
      try {
        completed = await runPipeline({
          recipe,
          file,
          env,
          runId,
          ...start,
          choices: o.choices ?? {},
          timeoutMs,
          threads: o.threads ?? 2,
          logger: warningsOnly,
          onProgress: printer.onProgress,
          ...(o.prepare && { prepare: o.prepare }),
        });
      } finally {
        printer.end();
      }
    } else {
      // the services read only their store: the recipe's local files go there first
      const local = await uploadLocalData(env.store, recipe);
      if (local.uploaded + local.present > 0)
        console.log(`datasets: ${local.uploaded} uploaded, ${local.present} already in the store`);
      const first = await startRun(env.bus, { runId, recipe: local.recipe, ...start, source: "baton://cli/run" });
      console.log(
        `run ${runId}: published ${first.type} for step "${steps[0]?.name}"${checkpoint ? ` from ${checkpoint.uri}` : ""} (${env.describe}); follow it with \`baton status ${runId}\``,
      );
      if (!o.wait) return null;
      completed = await awaitRun(env.bus, runId, { timeoutMs });
    }
    const written = await writeReport(env.store, completed.checkpoint, recipe.name, reportDir);
    const table = textTable(
      ["step", "stage", "metric", "before", "after"],
      effectRows(written.report).map((r) => [r.step, r.stage, r.metric, r.before, r.after]),
    );
    console.log(
      `\nrun ${runId} completed: last checkpoint ${completed.checkpoint.uri}\n\n${table}\n\nreport: ${resolve(reportDir, "report.md")}`,
    );
    return { runId, reportDir, table, report: written.report };
  } finally {
    if (!o.env) await env.close();
  }
}

/** `baton run --check`: every problem of the recipe at once; nothing is published or trained. */
export async function checkOnly(file: string, choices: Record<string, string>): Promise<number> {
  const recipe = await readRecipeFile(file);
  const env = await stageEnv();
  try {
    const problems = await recipeProblems(recipe, file, {
      choices,
      store: env.store,
      local: env.bus.kind === "memory",
    });
    if (problems.length === 0) {
      console.log(
        `recipe ${file}: ${recipe.steps.length} steps checked (${recipe.steps.map((s) => s.name).join(" -> ")}); no problems`,
      );
      return 0;
    }
    console.error(
      `recipe ${file}: ${problems.length} problem${problems.length === 1 ? "" : "s"}\n  - ${problems.join("\n  - ")}`,
    );
    return 1;
  } finally {
    await env.close();
  }
}

export async function run(args: string[]): Promise<number> {
  const { argv, web } = takeWebFlag(args);
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      "run-id": { type: "string" },
      from: { type: "string" },
      checkpoint: { type: "string" },
      impl: { type: "string", multiple: true },
      report: { type: "string" },
      "timeout-min": { type: "string" },
      threads: { type: "string" },
      wait: { type: "boolean" },
      check: { type: "boolean" },
    },
    USAGE,
  );
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const file = positionals[0];
  if (!file || positionals.length > 1) throw new CliError(`give one recipe file\n\n${USAGE}`);
  if (values.check) {
    return checkOnly(file, parseChoices(values.impl)).catch((err: unknown) => {
      if (isBatonError(err)) throw new CliError(err.message, 1);
      throw err;
    });
  }
  const env = web === null ? undefined : await stageEnv();
  const watching = env && web !== null ? await serveConsole(env, web) : null;
  await runRecipe(file, {
    ...(env && { env }),
    ...(values["run-id"] && { runId: values["run-id"] }),
    choices: parseChoices(values.impl),
    ...(values.report && { reportDir: resolve(values.report) }),
    timeoutMin: numberFlag("timeout-min", values["timeout-min"], 60, 1),
    threads: numberFlag("threads", values.threads, 2, 1),
    wait: values.wait ?? false,
    ...(values.from !== undefined && { from: values.from }),
    ...(values.checkpoint !== undefined && { checkpoint: values.checkpoint }),
  })
    .catch((err: unknown) => {
      // a bad recipe or a failed run: the message says what and where; a stack would only hide it
      if (isBatonError(err)) throw new CliError(err.message, 1);
      throw err;
    })
    .finally(async () => {
      if (watching) await keepServing(watching);
      await env?.close();
    });
  return 0;
}
