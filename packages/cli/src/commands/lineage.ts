// `baton lineage <checkpoint>`: the chain of checkpoints back to random init, with the stage,
// implementation, config, datasets (and their sha256) and metrics of every hop.
import { lineage, stageEnv } from "@baton/runner";
import { CliError, parseCommandArgs } from "../args.ts";

const USAGE = `usage: baton lineage <checkpoint-uri> [--json]

  <checkpoint-uri>  s3://bucket/checkpoints/<run>/<n>-<step>/<attempt>/ or file:///.../ (from run.completed or the report)
  --json            print the hops as JSON (newest first)`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { json: { type: "boolean" } }, USAGE);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const uri = positionals[0];
  if (!uri || positionals.length > 1) throw new CliError(`give one checkpoint URI\n\n${USAGE}`);
  const env = await stageEnv();
  try {
    const hops = await lineage(env.store, uri.endsWith("/") ? uri : `${uri}/`);
    if (values.json) {
      console.log(JSON.stringify(hops, null, 2));
      return 0;
    }
    hops.forEach((h, i) => {
      const m = h.manifest;
      console.log(
        `${i === 0 ? "" : "  <- "}${m.step} (${m.stage}, ${m.implementation} ${m.version}) run ${m.runId} cursor ${m.cursor}`,
      );
      console.log(`     ${h.uri}`);
      for (const d of m.datasets) console.log(`     data ${d.uri} sha256 ${d.sha256}`);
      for (const x of m.inputs ?? []) console.log(`     ${x.role} ${x.checkpoint.uri} (a second parent)`);
      console.log(`     config ${JSON.stringify(m.config)}`);
      const metrics = Object.entries(m.metrics).map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(4)}`);
      if (metrics.length) console.log(`     metrics ${metrics.join(", ")}`);
    });
    console.log(
      `${hops.length} hop(s) back to ${hops.at(-1)?.manifest.parent === null ? "random init" : "an imported checkpoint"}`,
    );
    return 0;
  } finally {
    await env.close();
  }
}
