// `baton status <runId>`: where a run is, read from the events the stream holds (started, progress,
// failed, next checkpoint, completed) and the ledger's commits, then the newest checkpoint of each of
// its recipe's steps. `baton status` alone lists those pointers for every pipeline: where retraining
// would start. Needs NATS_URL: the memory bus of an embedded run lives only inside that run's process.

import { decodeEvent, subjects } from "@baton/contracts";
import { type LatestCheckpoint, RunStatus, type StageEnv, stageEnv } from "@baton/runner";
import { CliError, numberFlag, parseCommandArgs } from "../args.ts";

const USAGE = `usage: baton status [<runId>] [--json] [--wait-ms <n>]

  without a run id: the newest checkpoint of every step of every pipeline (recipe)
  --json        print the summary as JSON
  --wait-ms <n> how long to read the stream before answering (default 1500)`;

function latestLines(pointers: LatestCheckpoint[]): string[] {
  return pointers.map(
    (p) => `  ${p.pipeline} / ${p.step.padEnd(14)} ${p.checkpoint.uri} (run ${p.runId}, ${p.committedAt})`,
  );
}

async function latestOnly(env: StageEnv, json: boolean): Promise<number> {
  const pointers = await env.ledger.latestAll();
  if (json) {
    console.log(JSON.stringify({ latest: pointers }, null, 2));
    return 0;
  }
  if (pointers.length === 0) {
    console.log(`no step has committed a checkpoint on ${env.describe} yet`);
    return 0;
  }
  console.log("newest checkpoint of each step (pipeline / step):");
  for (const line of latestLines(pointers)) console.log(line);
  return 0;
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    { json: { type: "boolean" }, "wait-ms": { type: "string" } },
    USAGE,
  );
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const runId = positionals[0];
  if (positionals.length > 1) throw new CliError(`give at most one run id\n\n${USAGE}`);
  const env = await stageEnv();
  if (env.bus.kind === "memory") {
    await env.close();
    throw new CliError(
      "baton status reads the cluster's event stream: set NATS_URL (an embedded `baton run` reports its progress itself)",
    );
  }
  if (runId === undefined) {
    try {
      return await latestOnly(env, values.json ?? false);
    } finally {
      await env.close();
    }
  }
  const status = new RunStatus(runId);
  try {
    const unwatch = await env.bus.watch(
      subjects.all(),
      (m) => {
        try {
          status.see(decodeEvent(m.data, m.subject));
        } catch {
          // dead letters carry the original bytes; malformed ones are not a run's status
        }
      },
      { from: "all" },
    );
    await new Promise((r) => setTimeout(r, numberFlag("wait-ms", values["wait-ms"], 1500, 0)));
    await unwatch();
    const { completed, recipe, steps: list } = status.summary();
    if (list.length === 0)
      throw new CliError(`no events of run "${runId}" on ${env.describe}; check the run id (baton run prints it)`, 1);
    const names = new Set(list.map((s) => s.step));
    const latest =
      recipe === null ? [] : (await env.ledger.latestAll()).filter((p) => p.pipeline === recipe && names.has(p.step));
    if (values.json) {
      console.log(JSON.stringify({ runId, recipe, completed, steps: list, latest }, null, 2));
      return 0;
    }
    console.log(`run ${runId}: ${completed ? `completed, last checkpoint ${completed}` : "in progress"}`);
    for (const s of list) {
      const prog = s.trainStep !== undefined ? ` ${s.trainStep}/${s.totalSteps ?? "?"}` : "";
      const loss = s.metrics?.loss !== undefined ? ` loss ${s.metrics.loss.toFixed(3)}` : "";
      console.log(
        `  ${s.cursor + 1}. ${s.step.padEnd(14)} ${(s.stage ?? "").padEnd(10)} ${s.state}${prog}${loss}${s.checkpoint ? ` ${s.checkpoint}` : ""}${s.message ? ` — ${s.message}` : ""}`,
      );
    }
    if (latest.length > 0) {
      console.log(`newest checkpoint of each step of pipeline ${recipe} (any run; retraining starts here):`);
      for (const line of latestLines(latest)) console.log(line);
    }
    return 0;
  } finally {
    await env.close();
  }
}
