// `baton consumers <recipe>`: creates the durable consumer of every step of the recipe on the
// cluster's stream (NATS_URL), what `baton run` does before it publishes. An autoscaler then reads
// each step's own lag: KEDA reads a missing consumer's as the whole stream's. The rendered overlay's
// Job runs it once per deployment (packages/cli/src/k8s/stage-job.ts); it is idempotent.
import { durableName, isBatonError, subjects } from "@baton/contracts";
import { ensureStepConsumers, stageEnv } from "@baton/runner";
import { readRecipeFile } from "@baton/stage-registry";
import { CliError, parseCommandArgs } from "../args.ts";

const USAGE = `usage: baton consumers <recipe.yaml>

Creates every step's durable consumer on the stream of the NATS server at $NATS_URL (as $NATS_USER).`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {}, USAGE);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const file = positionals[0];
  if (!file || positionals.length > 1) throw new CliError(`give one recipe file\n\n${USAGE}`);
  if (!process.env.NATS_URL)
    throw new CliError(
      "NATS_URL is not set: consumers live on the cluster's NATS server (the embedded `baton run` needs none)",
    );
  try {
    const recipe = await readRecipeFile(file);
    const env = await stageEnv();
    try {
      const steps = recipe.steps.map((s) => s.name);
      await ensureStepConsumers(env.bus, steps);
      for (const step of new Set(steps))
        console.log(`consumer ${durableName(step)} on ${subjects.checkpointReady(step)}: ready`);
      return 0;
    } finally {
      await env.close();
    }
  } catch (err) {
    if (isBatonError(err)) throw new CliError(err.message, 1);
    throw err;
  }
}
