// `baton data push <local file or folder> <uri>`: uploads a dataset through the store, writes the
// folder's manifest (_dataset.json: each file's sha256 and size) and publishes dataset.updated, which
// a retraining trigger (`baton trigger serve`) turns into a run.
import { isBatonError } from "@baton/contracts";
import { pushDataset, stageEnv } from "@baton/runner";
import { CliError, parseCommandArgs } from "../args.ts";

const USAGE = `usage: baton data push <local file or folder> <s3://bucket/folder/ | s3://bucket/key> [options]

  a folder keeps its layout under the target folder; a file keeps its name under a folder URI
  (ending in '/'), or goes to the object URI given
  --name <dataset>  dataset name (default: the folder's segment under datasets/, else its last one)
  --json            print the dataset.updated event as JSON

Needs NATS_URL (the event goes to the cluster) and S3_ENDPOINT / S3_BUCKET for the store.`;

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === "--help" || sub === "-h") {
    console.log(USAGE);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== "push") throw new CliError(`unknown subcommand "data ${sub}"\n\n${USAGE}`);
  const { values, positionals } = parseCommandArgs(
    rest,
    { name: { type: "string" }, json: { type: "boolean" } },
    USAGE,
  );
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const [path, uri] = positionals;
  if (!path || !uri || positionals.length > 2)
    throw new CliError(`give a local file or folder and a target URI\n\n${USAGE}`);
  const env = await stageEnv();
  try {
    if (env.bus.kind === "memory")
      throw new CliError(
        "baton data push announces the dataset to the cluster: set NATS_URL (and S3_ENDPOINT / S3_BUCKET for the store)",
      );
    const pushed = await pushDataset({
      store: env.store,
      bus: env.bus,
      path,
      uri,
      ...(values.name !== undefined && { name: values.name }),
    });
    if (values.json) {
      console.log(JSON.stringify(pushed.event, null, 2));
      return 0;
    }
    for (const f of pushed.files) console.log(`${f.uri}  sha256 ${f.sha256}  ${f.size} bytes`);
    console.log(
      `dataset ${pushed.event.data.dataset}: ${pushed.files.length} file(s), manifest ${pushed.event.data.manifest}; published ${pushed.event.type} (${pushed.event.id})`,
    );
    return 0;
  } catch (err) {
    if (isBatonError(err)) throw new CliError(err.message, 1);
    throw err;
  } finally {
    await env.close();
  }
}
