// `baton status <runId>`: where a run is, read from the events the stream holds (started, progress,
// failed, next checkpoint, completed) and the ledger's commits. Needs NATS_URL: the memory bus of an
// embedded run lives only inside that run's process.
import { decodeEvent, stageEnv } from "@baton/stage-kit";
import { CliError, numberFlag, parseCommandArgs } from "../args.ts";
import { RunStatus } from "../report/run-status.ts";

const USAGE = `usage: baton status <runId> [--json] [--wait-ms <n>]

  --json        print the summary as JSON
  --wait-ms <n> how long to read the stream before answering (default 1500)`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { json: { type: "boolean" }, "wait-ms": { type: "string" } }, USAGE);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const runId = positionals[0];
  if (!runId || positionals.length > 1) throw new CliError(`give one run id\n\n${USAGE}`);
  const env = await stageEnv();
  if (env.bus.kind === "memory") {
    await env.close();
    throw new CliError("baton status reads the cluster's event stream: set NATS_URL (an embedded `baton run` reports its progress itself)");
  }
  const status = new RunStatus(runId);
  try {
    const unwatch = await env.bus.watch("baton.>", (m) => {
      try {
        status.see(decodeEvent(m.data, m.subject));
      } catch {
        // dead letters carry the original bytes; malformed ones are not a run's status
      }
    }, { from: "all" });
    await new Promise((r) => setTimeout(r, numberFlag("wait-ms", values["wait-ms"], 1500, 0)));
    await unwatch();
    const { completed, steps: list } = status.summary();
    if (list.length === 0) throw new CliError(`no events of run "${runId}" on ${env.describe}; check the run id (baton run prints it)`, 1);
    if (values.json) {
      console.log(JSON.stringify({ runId, completed, steps: list }, null, 2));
      return 0;
    }
    console.log(`run ${runId}: ${completed ? `completed, last checkpoint ${completed}` : "in progress"}`);
    for (const s of list) {
      const prog = s.trainStep !== undefined ? ` ${s.trainStep}/${s.totalSteps ?? "?"}` : "";
      const loss = s.metrics?.loss !== undefined ? ` loss ${s.metrics.loss.toFixed(3)}` : "";
      console.log(`  ${s.cursor + 1}. ${s.step.padEnd(14)} ${(s.stage ?? "").padEnd(10)} ${s.state}${prog}${loss}${s.checkpoint ? ` ${s.checkpoint}` : ""}${s.message ? ` — ${s.message}` : ""}`);
    }
    return 0;
  } finally {
    await env.close();
  }
}
