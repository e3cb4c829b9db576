// What the chaos scenarios share: a relay of real processes (nats-server, the S3 server, stage
// services) built from tests/relay/harness.ts, a ledger of every message the stream ever held, and
// the invariants every scenario ends with.
import { readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import type { Observed } from "@baton/bus";
import { type CheckpointManifest, keys, type RunCompletedData } from "@baton/contracts";
import { rng } from "@baton/rng";
import { readManifest } from "@baton/runner";
import { expect } from "vitest";
import { getJson, type Relay, type StageProcess, waitFor } from "../relay/harness.ts";

/** Whole numbers in [lo, hi] from the workspace's seeded generator: a failing run can be replayed with CHAOS_SEED. */
export function prng(seed: number): (lo: number, hi: number) => number {
  const next = rng(seed);
  return (lo, hi) => lo + Math.floor(next() * (hi - lo + 1));
}

/**
 * Every message the stream holds, read from its start up to a marker published just before: a fresh
 * read each time, so it never depends on a watcher living through nats-server restarts.
 */
export class StreamLog {
  private constructor(private readonly messages: Observed[]) {}

  static async read(relay: Relay): Promise<StreamLog> {
    const mark = await relay.env.bus.publishRaw("baton.test.mark", new Uint8Array(0), {
      msgId: `mark-${process.hrtime.bigint()}`,
    });
    const messages: Observed[] = [];
    let reached: () => void = () => {};
    const caughtUp = new Promise<void>((r) => (reached = r));
    const stop = await relay.env.bus.watch(
      "baton.>",
      (m) => {
        messages.push(m);
        if (m.seq >= mark.seq) reached();
      },
      { from: "all" },
    );
    try {
      await Promise.race([
        caughtUp,
        new Promise((_, reject) =>
          setTimeout(() => reject(new Error(`the stream was not read up to seq ${mark.seq} in 60 s`)), 60_000),
        ),
      ]);
    } finally {
      await stop();
    }
    return new StreamLog(messages);
  }

  /** Messages on subjects starting with `prefix` whose event belongs to runId (once each, by sequence). */
  of(prefix: string, runId: string): { subject: string; data: { runId?: string; cursor?: number } }[] {
    const out = new Map<number, { subject: string; data: { runId?: string; cursor?: number } }>();
    for (const m of this.messages) {
      if (!m.subject.startsWith(prefix)) continue;
      try {
        const e = JSON.parse(Buffer.from(m.data).toString()) as { data?: { runId?: string; cursor?: number } };
        if (e.data?.runId === runId) out.set(m.seq, { subject: m.subject, data: e.data });
      } catch {
        // a fuzzed or malformed message: no run's
      }
    }
    return [...out.values()];
  }

  get size(): number {
    return this.messages.length;
  }
}

export interface RunFigures {
  runId: string;
  commitsPerStep: number[];
  orphans: number;
  identical: boolean;
  nextEvents: number[];
  completedEvents: number;
}

/**
 * The invariants of a run that completed: every step committed exactly once (one checkpoint folder
 * per step, the ledger's), nothing unreferenced left (other attempts, snapshots), every next event
 * emitted once, one run.completed, and the final weights byte-identical to the clean run's.
 */
export async function expectClean(
  relay: Relay,
  runId: string,
  steps: number,
  done: RunCompletedData,
  reference: CheckpointManifest,
): Promise<RunFigures> {
  const records = await Promise.all(Array.from({ length: steps }, (_, i) => relay.env.ledger.get(runId, i)));
  expect(
    records.every((r) => r !== null),
    `every step of ${runId} committed`,
  ).toBe(true);
  const committed = new Set(records.map((r) => relay.env.store.keyOf(r!.checkpoint.uri)));
  // The committing worker cleans up before its ack: poll until it has.
  const leftovers = async () => {
    const folders = new Set(
      (await relay.env.store.list(`checkpoints/${runId}/`)).map((k) => `${k.split("/").slice(0, 4).join("/")}/`),
    );
    const snapshots = await relay.env.store.list(`runs/${runId}/`);
    return { folders, extra: [...folders].filter((f) => !committed.has(f)).length + snapshots.length };
  };
  const left = await waitFor(
    `no unreferenced checkpoint or snapshot of ${runId}`,
    async () => {
      const l = await leftovers();
      return l.extra === 0 ? l : undefined;
    },
    30_000,
    200,
  ).catch(() => leftovers());
  // checkpoints/<runId>/<cursor>-<step>/<attempt>/
  const commitsPerStep = Array.from(
    { length: steps },
    (_, i) => [...left.folders].filter((f) => f.split("/")[2]!.startsWith(`${i}-`)).length,
  );
  const manifest = await readManifest(relay.env.store, done.checkpoint);
  const emitted = await Promise.all(Array.from({ length: steps }, (_, i) => relay.env.ledger.emitted(runId, i)));
  const log = await StreamLog.read(relay);
  const nextEvents = Array.from(
    { length: steps - 1 },
    (_, i) => log.of("baton.checkpoint.ready.", runId).filter((m) => m.data.cursor === i + 1).length,
  );
  const figures: RunFigures = {
    runId,
    commitsPerStep,
    orphans: left.extra,
    identical: JSON.stringify(manifest.files) === JSON.stringify(reference.files),
    nextEvents,
    completedEvents: log.of("baton.run.completed", runId).length,
  };
  expect(figures, `invariants of ${runId}`).toMatchObject({
    commitsPerStep: Array(steps).fill(1),
    orphans: 0,
    identical: true,
    nextEvents: Array(steps - 1).fill(1),
    completedEvents: 1,
  });
  expect(emitted.every(Boolean)).toBe(true);
  return figures;
}

/** Every live stage process still answers /healthz, and none exited. */
export async function expectUp(processes: readonly StageProcess[]): Promise<void> {
  for (const p of processes) {
    expect(p.child.exitCode, `stage ${p.step} (pid ${p.pid}) still running`).toBeNull();
    expect((await fetch(`${p.http}/healthz`)).status, `stage ${p.step} (pid ${p.pid}) healthy`).toBe(200);
  }
}

/** The worker among `pool` that works on runId past train step `atLeast`, or undefined. */
export async function workingOn(
  pool: readonly StageProcess[],
  runId: string,
  atLeast: number,
): Promise<StageProcess | undefined> {
  for (const w of pool) {
    if (w.child.exitCode !== null || w.child.signalCode !== null) continue;
    const s = await getJson<{ state: string; runId?: string; progress?: { done: number } }>(w, "/status").catch(
      () => null,
    );
    if (s?.state === "working" && s.runId === runId && (s.progress?.done ?? 0) >= atLeast) return w;
  }
  return undefined;
}

/** Waits for a line of a process's output that contains every one of `parts`. */
export function line(p: StageProcess, ...parts: string[]): Promise<string> {
  return waitFor(
    `stage ${p.step} (pid ${p.pid}) to print ${parts.join(" + ")}`,
    () => p.output.find((l) => parts.every((x) => l.includes(x))),
    60_000,
    20,
  );
}

/** Work folders of the given (dead) pids still under the temporary directory. */
export async function leftWorkDirs(pids: readonly number[]): Promise<string[]> {
  const names = await readdir(tmpdir());
  return names.filter((n) => pids.some((pid) => n.startsWith("baton-") && n.endsWith(`-p${pid}`)));
}

export { keys };
