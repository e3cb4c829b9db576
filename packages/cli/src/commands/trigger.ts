// `baton trigger serve --rules <file>`: the retraining trigger. New data (dataset.updated from `baton
// data push`, or the bucket's own notifications) and new rankings (feedback.ready) start the recipe
// tails the rules name, by publishing their first checkpoint.ready, as `baton run` does on a cluster.
import { isBatonError } from "@baton/contracts";
import { jsonLogger, stageEnv } from "@baton/runner";
import { startServiceFace } from "@baton/service";
import { loadRules, serveTrigger } from "@baton/trigger";
import { CliError, numberFlag, parseCommandArgs } from "../args.ts";

const USAGE = `usage: baton trigger serve --rules <rules.yaml> [--tick-ms <n>]

  --rules <file>   which dataset prefix or feedback starts which recipe, from which step and checkpoint
                   (schemas/trigger-rules.schema.json; recipe paths are relative to the file)
  --tick-ms <n>    how often pending windows are checked (default: a quarter of the shortest window)

Needs NATS_URL (JetStream: the pending windows live in NATS KV). Answers /healthz /readyz on
$BATON_HTTP_PORT (default 8080; 0 = any free port). SIGTERM stops it; pending windows stay in KV.`;

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== "serve")
    throw new CliError(
      sub === undefined || sub === "--help" || sub === "-h" ? USAGE : `unknown subcommand "trigger ${sub}"\n\n${USAGE}`,
      sub === "--help" || sub === "-h" ? 0 : 2,
    );
  const { values, positionals } = parseCommandArgs(
    rest,
    { rules: { type: "string" }, "tick-ms": { type: "string" } },
    USAGE,
    false,
  );
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values.rules || positionals.length > 0) throw new CliError(`give --rules <file>\n\n${USAGE}`);
  const rules = await loadRules(values.rules).catch((err: unknown) => {
    throw isBatonError(err) ? new CliError(err.message, 1) : err;
  });
  const env = await stageEnv();
  if (env.bus.kind === "memory") {
    await env.close();
    throw new CliError("baton trigger serve listens to the cluster: set NATS_URL (JetStream enabled)");
  }
  const face = await startServiceFace({ stage: "trigger", probes: { bus: () => env.bus.ping() } });
  const tickMs = values["tick-ms"] !== undefined ? numberFlag("tick-ms", values["tick-ms"], 1_000, 10) : undefined;
  const service = await serveTrigger({
    bus: env.bus,
    ledger: env.ledger,
    rules,
    logger: jsonLogger({ service: "trigger" }),
    ...(tickMs !== undefined && { tickMs }),
  });
  process.stderr.write(
    `trigger serving ${rules.rules.length} rule(s) from ${rules.file} over ${env.describe}; http ${face.http.url}\n`,
  );
  const stop = () => void service.stop();
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  try {
    await service.done;
    return 0;
  } finally {
    await face.close();
    await env.close();
  }
}
