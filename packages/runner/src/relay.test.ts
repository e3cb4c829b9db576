import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Delivery } from "@baton/bus";
import { MemoryBus } from "@baton/bus";
import type { Recipe } from "@baton/contracts";
import {
  BatonError,
  type BatonEvent,
  createEvent,
  decodeEvent,
  type EventType,
  HEADERS,
  keys,
  msgId,
  subjects,
} from "@baton/contracts";
import { FsStore } from "@baton/store";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { lineage, openCheckpoint } from "./checkpoint/checkpoint.ts";
import { type CountingStageOptions, countingStage, expectedWeights, readWeights } from "./counting-stage.ts";
import { MemoryLedger } from "./ledger/memory.ts";
import { jsonLogger, silentLogger } from "./log.ts";
import { relay } from "./relay.ts";
import { awaitRun, runStage, serveStage, startRun } from "./run.ts";
import type { RunStageOptions, StageObserver } from "./types.ts";

let root: string;
let bus: MemoryBus;
let store: FsStore;
let ledger: MemoryLedger;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "baton-relay-"));
  bus = new MemoryBus({ ackWaitMs: 600, maxDeliver: 4 });
  store = new FsStore(join(root, "store"));
  ledger = new MemoryLedger();
});
afterEach(async () => {
  await bus.close();
  await rm(root, { recursive: true, force: true });
});

const STAGES: Record<string, CountingStageOptions> = {
  pre: { stage: "pretrain", add: 1, steps: 6 },
  mid: { stage: "finetune", add: 2, steps: 4 },
  post: { stage: "instruct", add: 3, steps: 3 },
};
const recipe: Recipe = {
  name: "three",
  seed: 1,
  steps: Object.entries(STAGES).map(([name, s]) => ({ name, stage: s.stage, config: { add: s.add }, data: [] })),
};

function options(step: string, extra: Partial<RunStageOptions> & Partial<CountingStageOptions> = {}): RunStageOptions {
  return {
    ...countingStage({ ...STAGES[step]!, ...extra }),
    step,
    bus,
    store,
    ledger,
    workRoot: join(root, "work"),
    logger: process.env.DEBUG_RELAY ? jsonLogger() : silentLogger,
    retry: { maxAttempts: 3, backoffMs: [20] },
    progressIntervalMs: 0,
    pullExpiresMs: 2_000,
    ...extra,
  };
}

/** Every event seen on a filter, decoded. */
function collect(filter = "baton.>"): {
  events: { subject: string; event: BatonEvent | null; headers: Record<string, string>; data: Uint8Array }[];
  of<T extends EventType>(t: T): BatonEvent<T>[];
} {
  const events: { subject: string; event: BatonEvent | null; headers: Record<string, string>; data: Uint8Array }[] = [];
  void bus.watch(filter, (m) => {
    let event: BatonEvent | null = null;
    try {
      event = decodeEvent(m.data, m.subject);
    } catch {
      event = null;
    }
    events.push({ subject: m.subject, event, headers: m.headers, data: m.data });
  });
  return {
    events,
    of: <T extends EventType>(t: T) => events.filter((e) => e.event?.type === t).map((e) => e.event as BatonEvent<T>),
  };
}

describe("relay over the in-memory bus and a folder store", () => {
  it("runs a three-step pipeline to run.completed; lineage walks back to random init; weights match the reference", async () => {
    const seen = collect();
    const services = Object.keys(STAGES).map((s) => serveStage(options(s)));
    await startRun(bus, { runId: "r3", recipe });
    const done = await awaitRun(bus, "r3", { timeoutMs: 20_000 });
    await Promise.all(services.map((s) => s.stop()));

    const hops = await lineage(store, done.checkpoint);
    expect(hops.map((h) => h.manifest.step)).toEqual(["post", "mid", "pre"]);
    expect(hops.at(-1)!.manifest.parent).toBeNull();
    expect(hops[0]!.manifest).toMatchObject({
      implementation: "counting",
      stage: "instruct",
      config: { add: 3 },
      runId: "r3",
      cursor: 2,
    });
    const opened = await openCheckpoint(store, done.checkpoint, join(root, "final"));
    expect(await readWeights(join(opened.dir, "weights.bin"))).toEqual(expectedWeights(Object.values(STAGES)));

    expect(seen.of("dev.baton.stage.started").map((e) => e.data.step)).toEqual(["pre", "mid", "post"]);
    expect(seen.of("dev.baton.checkpoint.ready").map((e) => e.id)).toEqual([
      "r3:0:checkpoint.ready",
      "r3:1:checkpoint.ready",
      "r3:2:checkpoint.ready",
    ]);
    expect(
      seen
        .of("dev.baton.stage.progress")
        .filter((e) => e.data.step === "pre")
        .map((e) => e.data.trainStep),
    ).toEqual([1, 2, 3, 4, 5, 6]);
    expect(seen.of("dev.baton.run.completed")).toHaveLength(1);
    expect(await ledger.latest(recipe.name, "post")).toMatchObject({
      pipeline: recipe.name,
      step: "post",
      checkpoint: done.checkpoint,
      runId: "r3",
    });
  });

  it("throttles stage.progress but always publishes the first and the last training step", async () => {
    const seen = collect();
    const service = serveStage(options("pre", { progressIntervalMs: 60_000 }));
    await startRun(bus, { runId: "throttled", recipe: { ...recipe, steps: recipe.steps.slice(0, 1) } });
    await awaitRun(bus, "throttled", { timeoutMs: 20_000 });
    await service.stop();
    const steps = seen
      .of("dev.baton.stage.progress")
      .filter((e) => e.data.runId === "throttled")
      .map((e) => e.data.trainStep);
    expect(steps).toEqual([1, 6]);
  });

  it("five publishes of one event and two workers racing on it give one commit and one next event", async () => {
    const seen = collect();
    const first = await startRun(bus, { runId: "race", recipe });
    for (let i = 0; i < 4; i++)
      expect((await bus.publish(subjects.checkpointReady("pre"), first)).duplicate).toBe(true);
    // Worker A never heartbeats, so its message is redelivered to worker B while A still trains.
    const slow = options("pre", { stepDelayMs: 200 });
    const dA = await bus.pull("pre", { expiresMs: 1_000 });
    const silent: Delivery = {
      ...dA!,
      working: () => {},
      ack: () => dA!.ack(),
      nak: (ms) => dA!.nak(ms),
      term: (r) => dA!.term(r),
    };
    const a = relay(slow, silent);
    const b = runStage({ ...slow, pullExpiresMs: 3_000 });
    const [outA, outB] = await Promise.all([a, b]);
    expect([outA.kind, outB?.kind].sort()).toEqual(["already-committed", "committed"]);
    expect(
      outA.kind !== "retry" &&
        outB &&
        outB.kind !== "retry" &&
        outA.kind !== "dead-lettered" &&
        outB.kind !== "dead-lettered" &&
        outA.kind !== "interrupted" &&
        outB.kind !== "interrupted" &&
        outA.checkpoint.uri === outB.checkpoint.uri,
    ).toBe(true);
    expect(seen.of("dev.baton.checkpoint.ready").filter((e) => e.data.cursor === 1)).toHaveLength(1);
    // The loser's copy is gone: one checkpoint folder for the step.
    const folders = new Set((await store.list("checkpoints/race/0-pre/")).map((k) => k.split("/")[3]));
    expect(folders.size).toBe(1);
  });

  it("dead-letters malformed, schema-invalid, misrouted and missing/corrupted-checkpoint events with reasons; other runs complete", async () => {
    const seen = collect();
    const service = serveStage(options("mid"));
    const subject = subjects.checkpointReady("mid");
    await bus.publishRaw(subject, new TextEncoder().encode("{ not json"), { msgId: "junk-1" });
    const good = createEvent({
      type: "dev.baton.checkpoint.ready",
      id: msgId("ok", 1, "dev.baton.checkpoint.ready"),
      source: "t",
      data: { runId: "ok", recipe: "three", cursor: 1, pipeline: recipe.steps, checkpoint: null },
    });
    const invalid = { ...good, id: "bad-schema", data: { ...good.data, cursor: -1 } };
    await bus.publishRaw(subject, new TextEncoder().encode(JSON.stringify(invalid)), { msgId: "bad-schema" });
    const misrouted = createEvent({
      type: "dev.baton.checkpoint.ready",
      id: "misrouted",
      source: "t",
      data: { ...good.data, runId: "mis", cursor: 0 },
    });
    await bus.publish(subject, misrouted);
    const missing = createEvent({
      type: "dev.baton.checkpoint.ready",
      id: "missing",
      source: "t",
      data: {
        ...good.data,
        runId: "miss",
        checkpoint: { uri: store.uri("checkpoints/nowhere/0-pre/x/"), manifestSha256: "a".repeat(64) },
      },
    });
    await bus.publish(subject, missing);
    // A real checkpoint, then one byte of its weights changed in the store.
    const preDone = await runPre("corrupt-src", {}, recipe.steps.slice(0, 1));
    await writeFile(join(store.root, keys.file(store.keyOf(preDone.uri), "weights.bin")), new Uint8Array(32));
    const corrupt = createEvent({
      type: "dev.baton.checkpoint.ready",
      id: "corrupt",
      source: "t",
      data: { ...good.data, runId: "corrupt", checkpoint: preDone },
    });
    await bus.publish(subject, corrupt);
    await bus.publish(subject, good);

    await waitFor(() =>
      seen.of("dev.baton.checkpoint.ready").some((e) => e.data.runId === "ok" && e.data.cursor === 2),
    );
    await waitFor(() => seen.events.filter((e) => e.subject === subjects.deadLetter("mid")).length >= 5);
    await service.stop();

    const dead = seen.events.filter((e) => e.subject === subjects.deadLetter("mid"));
    const reasons = Object.fromEntries(
      dead.map((d) => [
        d.headers[HEADERS.deadLetterEventId],
        `${d.headers[HEADERS.deadLetterCode]} ${d.headers[HEADERS.deadLetterReason]}`,
      ]),
    );
    expect(reasons.unreadable).toMatch(/^EVENT_MALFORMED .*not UTF-8 JSON/);
    expect(reasons["bad-schema"]).toMatch(/^EVENT_INVALID .*at \/data\/cursor/);
    expect(reasons.misrouted).toMatch(/^ROUTING_MISMATCH .*pipeline\[0\] is step "pre"/);
    expect(reasons.missing).toMatch(/^CHECKPOINT_MISSING .*never committed/);
    expect(reasons.corrupt).toMatch(
      /^CHECKPOINT_CORRUPT .*weights.bin of checkpoint .* has sha256 [0-9a-f]{64} but [0-9a-f]{64} was expected/,
    );
    expect(dead.every((d) => d.headers[HEADERS.deadLetterDeliveries] === "1")).toBe(true);
    expect(
      new TextDecoder().decode(dead.find((d) => d.headers[HEADERS.deadLetterEventId] === "unreadable")!.data),
    ).toBe("{ not json");
    const failed = seen.of("dev.baton.stage.failed");
    expect(
      failed
        .filter((f) => f.data.disposition === "fatal")
        .map((f) => f.data.eventId)
        .sort(),
    ).toEqual(["bad-schema", "corrupt", "misrouted", "missing", null]);
    expect(failed.find((f) => f.data.eventId === "corrupt")!.data).toMatchObject({
      runId: "corrupt",
      code: "CHECKPOINT_CORRUPT",
      attempt: 1,
    });
  });

  it("retries a failing attempt with backoff, then gives up after maxAttempts with the reason", async () => {
    const seen = collect();
    const flaky = serveStage(options("pre", { failAttempts: 1 }));
    await startRun(bus, { runId: "flaky", recipe: { ...recipe, steps: recipe.steps.slice(0, 1) } });
    await awaitRun(bus, "flaky", { timeoutMs: 10_000 });
    await flaky.stop();
    expect(seen.of("dev.baton.stage.failed").map((f) => [f.data.runId, f.data.disposition, f.data.attempt])).toEqual([
      ["flaky", "retry", 1],
    ]);

    const broken = serveStage(options("pre", { failAttempts: 99 }));
    await startRun(bus, { runId: "broken", recipe: { ...recipe, steps: recipe.steps.slice(0, 1) } });
    await expect(awaitRun(bus, "broken", { timeoutMs: 10_000 })).rejects.toThrow(
      /attempt 3 of 3 failed, giving up: injected fault on attempt 3/,
    );
    await broken.stop();
    const dead = seen.events.filter((e) => e.subject === subjects.deadLetter("pre"));
    expect(dead.map((d) => d.headers[HEADERS.deadLetterEventId])).toEqual(["broken:0:checkpoint.ready"]);
  });

  it("dead-letters a deterministic failure on its first attempt: a step its stage refuses, and a fatal error from train()", async () => {
    const seen = collect();
    const trained: number[] = [];
    const base = options("pre");
    const refusing = serveStage({
      ...base,
      validate: (step) =>
        step.config["add"] === 1 ? ["/config/train/warmupSteps: 5 warmup steps exceed /train/steps (3)"] : [],
      train: async (ctx) => {
        trained.push(ctx.attempt);
        return base.train(ctx);
      },
    });
    await startRun(bus, { runId: "refused", recipe: { ...recipe, steps: recipe.steps.slice(0, 1) } });
    await expect(awaitRun(bus, "refused", { timeoutMs: 10_000 })).rejects.toThrow(
      /can never train:\n {2}- \/config\/train\/warmupSteps/,
    );
    await refusing.stop();
    expect(trained).toEqual([]);

    const diverging = serveStage({
      ...base,
      train: async () => Promise.reject(new BatonError("TRAIN_FAILED", "fatal", "loss is NaN at train step 3")),
    });
    await startRun(bus, { runId: "diverged", recipe: { ...recipe, steps: recipe.steps.slice(0, 1) } });
    await expect(awaitRun(bus, "diverged", { timeoutMs: 10_000 })).rejects.toThrow(/loss is NaN/);
    await diverging.stop();
    const failed = seen
      .of("dev.baton.stage.failed")
      .map((f) => [f.data.runId, f.data.code, f.data.disposition, f.data.attempt]);
    expect(failed).toEqual([
      ["refused", "CONFIG_INVALID", "fatal", 1],
      ["diverged", "TRAIN_FAILED", "fatal", 1],
    ]);
    expect(
      seen.events
        .filter((e) => e.subject === subjects.deadLetter("pre"))
        .map((d) => d.headers[HEADERS.deadLetterDeliveries]),
    ).toEqual(["1", "1"]);
  });

  it("stop() mid-training snapshots and hands the event back; another worker resumes to the same weights", async () => {
    const seen = collect();
    const slow = { steps: 8, stepDelayMs: 40, snapshotEvery: 2 };
    const first = serveStage(options("pre", slow));
    await startRun(bus, { runId: "resume", recipe: { ...recipe, steps: recipe.steps.slice(0, 1) } });
    await waitFor(() => seen.of("dev.baton.stage.progress").some((p) => p.data.trainStep >= 3));
    await first.stop();
    const outcomes: string[] = [];
    const second = serveStage({ ...options("pre", slow), onOutcome: (o) => outcomes.push(o.kind) });
    const done = await awaitRun(bus, "resume", { timeoutMs: 10_000 });
    await second.stop();

    const started = seen.of("dev.baton.stage.started");
    expect(started).toHaveLength(2);
    expect(started[0]!.data.resumeFromStep).toBeNull();
    expect(started[1]!.data.resumeFromStep).toBeGreaterThanOrEqual(3);
    expect(started[1]!.data.attempt).toBe(2);
    expect(outcomes).toEqual(["committed"]);
    const opened = await openCheckpoint(store, done.checkpoint, join(root, "resumed"));
    expect(await readWeights(join(opened.dir, "weights.bin"))).toEqual(expectedWeights([{ add: 1, steps: 8 }]));
    expect(await store.list(keys.resume("resume", 0))).toEqual([]); // snapshots cleaned up after commit
  });

  it("SIGTERM (with handleSignals) interrupts training the same way and removes its handlers after", async () => {
    const seen = collect();
    const before = process.listenerCount("SIGTERM");
    const outcomes: string[] = [];
    const service = serveStage({
      ...options("pre", { steps: 50, stepDelayMs: 20, snapshotEvery: 5 }),
      handleSignals: true,
      onOutcome: (o) => outcomes.push(o.kind),
    });
    expect(process.listenerCount("SIGTERM")).toBe(before + 1);
    await startRun(bus, { runId: "term", recipe: { ...recipe, steps: recipe.steps.slice(0, 1) } });
    await waitFor(() => seen.of("dev.baton.stage.progress").some((p) => p.data.trainStep >= 2));
    process.emit("SIGTERM");
    await service.done;
    expect(outcomes).toEqual(["interrupted"]);
    expect(process.listenerCount("SIGTERM")).toBe(before);
    const snapshots = await store.list(keys.resume("term", 0));
    expect(snapshots.some((k) => k.endsWith("/_complete.json"))).toBe(true);
    // Handed back at once: the next pull gets it again, as delivery 2.
    const again = await bus.pull("pre", { expiresMs: 2_000 });
    expect(again?.deliveryCount).toBe(2);
  });

  it("a committed step's duplicate emits the next event only when no earlier delivery did (the ledger's marker, not the bus's window)", async () => {
    const ref = await runPre("again");
    expect(await ledger.emitted("again", 0)).toBe(true);
    const seen = collect(subjects.checkpointReady("mid"));
    const trained: number[] = [];
    const opts = options("pre");
    const watchTrain = {
      ...opts,
      train: async (ctx: Parameters<typeof opts.train>[0]) => {
        trained.push(ctx.attempt);
        return opts.train(ctx);
      },
    };
    const redelivered = (runId: string, id: string) =>
      bus.publish(
        subjects.checkpointReady("pre"),
        createEvent({
          type: "dev.baton.checkpoint.ready",
          id,
          source: "t",
          data: { runId, recipe: "three", cursor: 0, pipeline: recipe.steps, checkpoint: null },
        }),
      );
    await redelivered("again", "again-redelivered");
    expect(await runStage(watchTrain)).toMatchObject({ kind: "already-committed", checkpoint: ref });
    await new Promise((r) => setTimeout(r, 50));
    expect(seen.events).toHaveLength(1); // only the first delivery's
    expect(trained).toEqual([]);

    // Committed, but the next event never went out (the worker died between commit and emit): emit it, then mark.
    await ledger.commit("unsent", 0, {
      checkpoint: ref,
      step: "pre",
      worker: "gone",
      committedAt: new Date().toISOString(),
    });
    await redelivered("unsent", "unsent-1");
    expect(await runStage(watchTrain)).toMatchObject({ kind: "already-committed", checkpoint: ref });
    await redelivered("unsent", "unsent-2");
    expect(await runStage(watchTrain)).toMatchObject({ kind: "already-committed", checkpoint: ref });
    await waitFor(() => seen.events.length >= 2);
    await new Promise((r) => setTimeout(r, 50));
    const unsent = seen.events
      .map((e) => e.event as BatonEvent<"dev.baton.checkpoint.ready">)
      .filter((e) => e.data.runId === "unsent");
    expect(unsent.map((e) => e.data.checkpoint)).toEqual([ref]);
    expect(await ledger.emitted("unsent", 0)).toBe(true);
    expect(trained).toEqual([]);
  });

  it("a retry commits the verified checkpoint an attempt uploaded but could not commit, without training again", async () => {
    const trained: number[] = [];
    const base = options("pre");
    let refusals = 1;
    const flakyLedger = Object.assign(Object.create(ledger) as MemoryLedger, {
      commit: (...a: Parameters<MemoryLedger["commit"]>) =>
        refusals-- > 0
          ? Promise.reject(new BatonError("LEDGER_UNAVAILABLE", "retry", "ledger commit failed: NATS away"))
          : ledger.commit(...a),
    });
    const service = serveStage({
      ...base,
      ledger: flakyLedger,
      train: async (ctx) => {
        trained.push(ctx.attempt);
        return base.train(ctx);
      },
    });
    await startRun(bus, { runId: "blip", recipe: { ...recipe, steps: recipe.steps.slice(0, 1) } });
    const done = await awaitRun(bus, "blip", { timeoutMs: 10_000 });
    await service.stop();
    expect(trained).toEqual([1]);
    const folders = new Set((await store.list(keys.stepCheckpoints("blip", 0, "pre"))).map((k) => k.split("/")[3]));
    expect(folders.size).toBe(1); // the first attempt's, now committed: no second copy
    expect(store.keyOf(done.checkpoint.uri)).toBe(`checkpoints/blip/0-pre/${[...folders][0]}/`);
    expect(
      await readWeights(join((await openCheckpoint(store, done.checkpoint, join(root, "blip"))).dir, "weights.bin")),
    ).toEqual(expectedWeights([{ add: 1, steps: 6 }]));
  });

  it("deletes an uploaded checkpoint whose commit failed on the last attempt, and sweeps a committed step's leftovers on a duplicate", async () => {
    const failing = Object.assign(Object.create(ledger) as MemoryLedger, {
      commit: () => Promise.reject(new BatonError("LEDGER_UNAVAILABLE", "retry", "ledger commit failed: NATS away")),
    });
    const service = serveStage({ ...options("pre"), ledger: failing });
    await startRun(bus, { runId: "never", recipe: { ...recipe, steps: recipe.steps.slice(0, 1) } });
    await expect(awaitRun(bus, "never", { timeoutMs: 10_000 })).rejects.toThrow(
      /attempt 3 of 3 failed, giving up: ledger commit failed/,
    );
    await service.stop();
    expect(await store.list("checkpoints/never/")).toEqual([]);

    // A worker killed after its commit, before its cleanup: a racing loser's copy and snapshots remain.
    const ref = await runPre("leftover");
    await store.putBytes(`${keys.stepCheckpoints("leftover", 0, "pre")}2-dead/weights.bin`, new Uint8Array(8));
    await store.putBytes(`${keys.snapshot("leftover", 0, 3)}weights.bin`, new Uint8Array(8));
    await bus.publish(
      subjects.checkpointReady("pre"),
      createEvent({
        type: "dev.baton.checkpoint.ready",
        id: "leftover-dup",
        source: "t",
        data: { runId: "leftover", recipe: "three", cursor: 0, pipeline: recipe.steps, checkpoint: null },
      }),
    );
    expect(await runStage(options("pre"))).toMatchObject({ kind: "already-committed", checkpoint: ref });
    expect(await store.list(keys.resume("leftover", 0))).toEqual([]);
    expect(new Set((await store.list("checkpoints/leftover/")).map((k) => k.split("/")[3]))).toEqual(
      new Set([store.keyOf(ref.uri).split("/")[3]]),
    );
  });

  it("a starting service removes the work folders of dead workers, not of live ones", async () => {
    const work = join(root, "work");
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid!;
    for (const name of [`baton-r-0-1-ab-p${dead}`, `baton-r-0-1-cd-p${process.ppid}`, "baton-unowned", "other"])
      await mkdir(join(work, name, "input"), { recursive: true });
    const service = serveStage(options("pre"));
    await service.stop();
    expect((await readdir(work)).sort()).toEqual([`baton-r-0-1-cd-p${process.ppid}`, "baton-unowned", "other"].sort());
  });

  it("tells observers every phase in order and carries their headers onto published events", async () => {
    const phases: string[] = [];
    const ends: string[] = [];
    const observer: StageObserver = {
      onWork: () => ({
        phase: async (p, fn) => {
          phases.push(p);
          return fn();
        },
        onPhase: (r) => expect(r.durationMs).toBeGreaterThanOrEqual(0),
        headers: () => ({ traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" }),
        traceId: () => "4bf92f3577b34da6a3ce929d0e0e4736",
        onEnd: (o) => ends.push(o.kind),
      }),
    };
    const seen = collect(subjects.checkpointReady("mid"));
    await runPre("obs", { observer });
    expect(phases).toEqual(["train", "resume", "upload", "commit", "emit"]); // resume runs inside train
    expect(ends).toEqual(["committed"]);
    await waitFor(() => seen.events.length >= 1);
    expect(seen.events[0]!.headers.traceparent).toBe("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    const ready = seen.events[0]!.event as BatonEvent<"dev.baton.checkpoint.ready">;
    expect((await openCheckpoint(store, ready.data.checkpoint!, join(root, "obs"))).manifest.traceId).toBe(
      "4bf92f3577b34da6a3ce929d0e0e4736",
    );
  });
});

/** Runs step "pre" of `runId` once, returns its committed checkpoint. */
async function runPre(runId: string, extra: Partial<RunStageOptions> = {}, steps = recipe.steps) {
  await startRun(bus, { runId, recipe: { ...recipe, steps } });
  const out = await runStage({ ...options("pre"), ...extra });
  if (out?.kind !== "committed") throw new Error(`expected a commit, got ${JSON.stringify(out)}`);
  return out.checkpoint;
}

async function waitFor(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}
