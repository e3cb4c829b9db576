// `baton gc`: lists, then deletes, what no ledger entry references: checkpoint folders of attempts
// that lost, died mid-upload or never got committed, and resume snapshots of finished or abandoned
// steps. Needs the cluster's ledger (NATS_URL): without it every checkpoint would look unreferenced.
import { collectGarbage, findGarbage, stageEnv } from "@baton/runner";
import { CliError, numberFlag, parseCommandArgs } from "../args.ts";

const USAGE = `usage: baton gc [--dry-run] [--older-than-min <n>] [--json]

  --dry-run             list what would be deleted, delete nothing
  --older-than-min <n>  a step that is not committed may still have a live attempt: its folders
                        count only after n minutes without a write (default 60; a committed step's
                        leftovers count at once)
  --json                print the list as JSON`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    { "dry-run": { type: "boolean" }, "older-than-min": { type: "string" }, json: { type: "boolean" } },
    USAGE,
  );
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length > 0) throw new CliError(`baton gc takes no arguments\n\n${USAGE}`);
  const minAgeMs = numberFlag("older-than-min", values["older-than-min"], 60, 0) * 60_000;
  const env = await stageEnv();
  try {
    if (env.bus.kind === "memory")
      throw new CliError(
        "baton gc needs the cluster's ledger to tell referenced checkpoints from garbage: set NATS_URL (and S3_ENDPOINT for the store)",
      );
    const garbage = await findGarbage(env.store, env.ledger, { minAgeMs });
    const dry = values["dry-run"] ?? false;
    const deleted = dry ? 0 : await collectGarbage(env.store, garbage);
    const objects = garbage.reduce((n, g) => n + g.objects.length, 0);
    const bytes = garbage.reduce((n, g) => n + g.bytes, 0);
    if (values.json) {
      console.log(
        JSON.stringify(
          {
            dryRun: dry,
            folders: garbage.map(({ objects: o, ...g }) => ({ ...g, objects: o.length })),
            objects,
            bytes,
            deleted,
          },
          null,
          2,
        ),
      );
      return 0;
    }
    for (const g of garbage)
      console.log(
        `${dry ? "would delete" : "deleted"} ${env.store.uri(g.prefix)} (${g.kind}, ${g.objects.length} objects, ${g.bytes} bytes): ${g.why}`,
      );
    console.log(
      `${garbage.length} unreferenced folders, ${objects} objects, ${bytes} bytes${dry ? " (dry run: nothing deleted)" : `; ${deleted} objects deleted`} on ${env.describe}`,
    );
    return 0;
  } finally {
    await env.close();
  }
}
