// `baton status <runId>`: where a run is, read from the events the stream holds (started, progress,
// failed, next checkpoint, completed) and the ledger's commits, then the newest checkpoint of each of
// its recipe's steps. `baton status` alone lists those pointers for every pipeline: where retraining
// would start. Needs NATS_URL: the memory bus of an embedded run lives only inside that run's process.
import { type BatonEvent, type LatestCheckpoint, type StageEnv, decodeEvent, stageEnv } from "@baton/stage-kit";
import { CliError, numberFlag, parseCommandArgs } from "../args.ts";

const USAGE = `usage: baton status [<runId>] [--json] [--wait-ms <n>]

  without a run id: the newest checkpoint of every step of every pipeline (recipe)
  --json        print the summary as JSON
  --wait-ms <n> how long to read the stream before answering (default 1500)`;

function latestLines(pointers: LatestCheckpoint[]): string[] {
  return pointers.map((p) => `  ${p.pipeline} / ${p.step.padEnd(14)} ${p.checkpoint.uri} (run ${p.runId}, ${p.committedAt})`);
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

interface StepStatus {
  cursor: number;
  step: string;
  stage?: string;
  state: "waiting" | "running" | "retrying" | "failed" | "committed";
  trainStep?: number;
  totalSteps?: number;
  metrics?: Record<string, number>;
  checkpoint?: string;
  message?: string;
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { json: { type: "boolean" }, "wait-ms": { type: "string" } }, USAGE);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const runId = positionals[0];
  if (positionals.length > 1) throw new CliError(`give at most one run id\n\n${USAGE}`);
  const env = await stageEnv();
  if (env.bus.kind === "memory") {
    await env.close();
    throw new CliError("baton status reads the cluster's event stream: set NATS_URL (an embedded `baton run` reports its progress itself)");
  }
  if (runId === undefined) {
    try {
      return await latestOnly(env, values.json ?? false);
    } finally {
      await env.close();
    }
  }
  const steps = new Map<number, StepStatus>();
  let pipeline: { name: string; stage: string }[] = [];
  let recipe: string | null = null;
  let completed: string | null = null;
  const at = (cursor: number, step: string): StepStatus => {
    let s = steps.get(cursor);
    if (!s) steps.set(cursor, (s = { cursor, step, state: "waiting" }));
    return s;
  };
  const seen = (e: BatonEvent) => {
    const d = e.data as { runId?: string };
    if (d.runId !== runId) return;
    if (typeof (e.data as { recipe?: unknown }).recipe === "string") recipe = (e.data as { recipe: string }).recipe;
    switch (e.type) {
      case "dev.baton.checkpoint.ready": {
        const r = e.data as { cursor: number; pipeline: { name: string; stage: string }[]; checkpoint: { uri: string } | null };
        pipeline = r.pipeline;
        if (r.cursor > 0 && r.checkpoint) Object.assign(at(r.cursor - 1, r.pipeline[r.cursor - 1]?.name ?? "?"), { state: "committed", checkpoint: r.checkpoint.uri });
        break;
      }
      case "dev.baton.stage.started": {
        const s = e.data as { cursor: number; step: string; stage: string };
        Object.assign(at(s.cursor, s.step), { state: "running", stage: s.stage });
        break;
      }
      case "dev.baton.stage.progress": {
        const p = e.data as { cursor: number; step: string; trainStep: number; totalSteps?: number; metrics: Record<string, number> };
        const s = at(p.cursor, p.step);
        if (s.state !== "committed") Object.assign(s, { state: "running", trainStep: p.trainStep, totalSteps: p.totalSteps, metrics: p.metrics });
        break;
      }
      case "dev.baton.stage.failed": {
        const f = e.data as { cursor: number; step: string; disposition: string; message: string };
        Object.assign(at(f.cursor, f.step), { state: f.disposition === "fatal" ? "failed" : "retrying", message: f.message });
        break;
      }
      case "dev.baton.run.completed": {
        const c = e.data as { checkpoint: { uri: string }; pipeline: { name: string; stage: string }[] };
        completed = c.checkpoint.uri;
        pipeline = c.pipeline;
        Object.assign(at(c.pipeline.length - 1, c.pipeline.at(-1)?.name ?? "?"), { state: "committed", checkpoint: c.checkpoint.uri });
        break;
      }
    }
  };
  try {
    const unwatch = await env.bus.watch("baton.>", (m) => {
      try {
        seen(decodeEvent(m.data, m.subject));
      } catch {
        // dead letters carry the original bytes; malformed ones are not a run's status
      }
    }, { from: "all" });
    await new Promise((r) => setTimeout(r, numberFlag("wait-ms", values["wait-ms"], 1500, 0)));
    await unwatch();
    pipeline.forEach((p, i) => Object.assign(at(i, p.name), { stage: p.stage }));
    const list = [...steps.values()].sort((a, b) => a.cursor - b.cursor);
    if (list.length === 0) throw new CliError(`no events of run "${runId}" on ${env.describe}; check the run id (baton run prints it)`, 1);
    const names = new Set(pipeline.map((p) => p.name));
    const pipelineName: string | null = recipe;
    const latest = pipelineName === null ? [] : (await env.ledger.latestAll()).filter((p) => p.pipeline === pipelineName && names.has(p.step));
    if (values.json) {
      console.log(JSON.stringify({ runId, recipe, completed, steps: list, latest }, null, 2));
      return 0;
    }
    console.log(`run ${runId}: ${completed ? `completed, last checkpoint ${completed}` : "in progress"}`);
    for (const s of list) {
      const prog = s.trainStep !== undefined ? ` ${s.trainStep}/${s.totalSteps ?? "?"}` : "";
      const loss = s.metrics?.loss !== undefined ? ` loss ${s.metrics.loss.toFixed(3)}` : "";
      console.log(`  ${s.cursor + 1}. ${s.step.padEnd(14)} ${(s.stage ?? "").padEnd(10)} ${s.state}${prog}${loss}${s.checkpoint ? ` ${s.checkpoint}` : ""}${s.message ? ` — ${s.message}` : ""}`);
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
