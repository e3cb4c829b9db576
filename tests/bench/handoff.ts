// Handoff benchmark: how long from one stage's commit (ledger commit done) to the next stage's train()
// start, over real NATS JetStream + S3 with small checkpoints, each stage its own process.
// Target: p50 < 50 ms over >= 100 handoffs.
//   pnpm exec tsx tests/bench/handoff.ts            (HANDOFFS=120 by default)
// Runs are sent one after another (no queueing), each a two-step recipe: give -> take.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { awaitRun } from "@baton/runner";
import { BareS3 } from "@baton/testing";
import { publishRun, spawnStage, startRelay, tensorRecipe } from "../relay/harness.ts";
import { machine, median, percentile } from "./stats.ts";

const HANDOFFS = Number(process.env["HANDOFFS"] ?? 120);
const WARMUP = 5;

const relay = await startRelay();
const timings = join(relay.workDir, "handoffs.jsonl");
// No span files here: a real service exports spans in batches, not one file append per delivery.
const stages = await Promise.all(
  ["give", "take"].map((step) => spawnStage(relay, step, step, { TEST_TIMINGS_FILE: timings, TEST_SPANS_FILE: "" })),
);
try {
  const recipe = tensorRecipe("handoff", [
    { name: "give", config: { steps: 1 } },
    { name: "take", config: { steps: 1 } },
  ]);
  const runIds: string[] = [];
  for (let i = 0; i < WARMUP + HANDOFFS; i++) {
    const runId = `handoff-${i}`;
    const done = awaitRun(relay.env.bus, runId, { timeoutMs: 30_000 });
    await publishRun(relay, recipe, runId);
    await done;
    if (i >= WARMUP) runIds.push(runId);
  }

  const marks = (await readFile(timings, "utf8"))
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { runId: string; cursor: number; mark: string; t: number });
  const at = (runId: string, cursor: number, mark: string) =>
    marks.find((m) => m.runId === runId && m.cursor === cursor && m.mark === mark)?.t;
  const latencies = runIds.map((runId) => {
    const committed = at(runId, 0, "commit-end");
    const started = at(runId, 1, "train-start");
    if (committed === undefined || started === undefined)
      throw new Error(`run ${runId}: missing a timing mark (commit-end ${committed}, train-start ${started})`);
    return started - committed;
  });
  // Where the time goes, segment by segment (medians over the same handoffs).
  const segments: [string, [number, string], [number, string]][] = [
    ["publish next event (give)", [0, "commit-end"], [0, "emit-end"]],
    ["bus delivery to take", [0, "emit-end"], [1, "received"]],
    ["decode and route", [1, "received"], [1, "download-start"]],
    ["download input (manifest, then files; ledger check alongside)", [1, "download-start"], [1, "download-end"]],
    ["stage.started, then train()", [1, "download-end"], [1, "train-start"]],
  ];
  const breakdown = segments.map(([name, [c0, m0], [c1, m1]]) => {
    const spans = runIds.flatMap((r) => {
      const a = at(r, c0, m0);
      const b = at(r, c1, m1);
      return a === undefined || b === undefined ? [] : [b - a];
    });
    return `${name} ${spans.length ? median(spans).toFixed(1) : "?"} ms`;
  });

  // Calibration: one small-object round trip to the same S3 server right now, with the bare SDK.
  // The input download is two such round trips in a row (manifest, then the files), plus file I/O.
  const bare = new BareS3(relay.services.s3);
  await bare.putBytes("bench/handoff/probe", new Uint8Array(350));
  const roundTrips: number[] = [];
  for (let i = 0; i < 50; i++) {
    const t0 = performance.now();
    await bare.getBytes("bench/handoff/probe");
    roundTrips.push(performance.now() - t0);
  }
  bare.close();
  const load = (await import("node:os")).loadavg()[0]!;

  const p50 = percentile(latencies, 50);
  const p99 = percentile(latencies, 99);
  console.log(`machine: ${await machine()}`);
  console.log(
    `servers: NATS ${relay.services.nats.source} (${relay.services.nats.url}), S3 ${relay.services.s3.source} (${relay.services.s3.endpoint})`,
  );
  console.log(
    `handoff commit -> next train() start over ${latencies.length} handoffs: p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, median ${median(latencies).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms (${p50 < 50 ? "meets" : "MISSES"} p50 < 50 ms)`,
  );
  console.log(`median breakdown: ${breakdown.join("; ")}`);
  console.log(
    `calibration: bare GetObject of 350 bytes on the same server p50 ${median(roundTrips).toFixed(1)} ms; load average (1 min) ${load.toFixed(1)} on ${(await import("node:os")).cpus().length} cores`,
  );
  console.log(
    JSON.stringify({
      bench: "handoff",
      handoffs: latencies.length,
      p50,
      p99,
      latencies: latencies.map((l) => Math.round(l * 10) / 10),
    }),
  );
  process.exitCode = p50 < 50 ? 0 : 1;
} finally {
  await Promise.all(stages.map((s) => s.stop()));
  await relay.close();
}
