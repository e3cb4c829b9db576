// `baton report <checkpoint>`: (re)writes the report of the run that ended at a checkpoint, from the
// store alone: report.md, report.json and the loss-curve SVGs.
import { resolve } from "node:path";
import { readManifest, stageEnv } from "@baton/runner";
import { CliError, parseCommandArgs } from "../args.ts";
import { writeReport } from "../report/write.ts";

const USAGE = `usage: baton report <checkpoint-uri> [--out <dir>]

  --out <dir>  where to write (default: $BATON_HOME/reports/<run id>)`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { out: { type: "string" } }, USAGE);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const raw = positionals[0];
  if (!raw || positionals.length > 1) throw new CliError(`give one checkpoint URI\n\n${USAGE}`);
  const uri = raw.endsWith("/") ? raw : `${raw}/`;
  const env = await stageEnv();
  try {
    const manifest = await readManifest(env.store, uri);
    const dir = resolve(values.out ?? resolve(process.env.BATON_HOME ?? "./runs", "reports", manifest.runId));
    const written = await writeReport(env.store, uri, "", dir);
    console.log(`report of run ${written.report.runId}: ${resolve(dir, "report.md")}`);
    return 0;
  } finally {
    await env.close();
  }
}
