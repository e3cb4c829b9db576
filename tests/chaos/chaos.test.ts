// The chaos suite (`pnpm test:chaos`): real nats-server and S3 server processes, stage services as
// separate processes, and the faults a relay meets in production: kill -9 at random train steps and
// during upload, commit and emit; the same event many times inside and after the duplicate window;
// nats-server restarted mid-run and mid-commit; the S3 server stopped for a while; truncated and
// bit-flipped checkpoints; fuzzed events and dataset lines. Every run ends completed with exactly one
// commit per step, nothing unreferenced left and the clean run's weights, or dead-lettered with a
// clear reason; the services stay up. CHAOS_SEED replays a run; CHAOS_REPORT writes the figures.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Observed } from "@baton/bus";
import {
  type CheckpointManifest,
  type CheckpointRef,
  createEvent,
  encodeEvent,
  HEADERS,
  msgId,
  type Recipe,
  subjects,
} from "@baton/contracts";
import { readDataset } from "@baton/data";
import { awaitRun, readManifest } from "@baton/runner";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  firstEvent,
  publishRun,
  type Relay,
  type StageProcess,
  spawnStage,
  spawnStages,
  startRelay,
  tensorRecipe,
  waitFor,
} from "../relay/harness.ts";
import { expectClean, expectUp, leftWorkDirs, line, prng, type RunFigures, StreamLog, workingOn } from "./world.ts";

const SEED = Number(process.env["CHAOS_SEED"] ?? Date.now() % 1_000_000);
const KILLS = 20;
const NATS_RESTARTS = 3;
const S3_OUTAGE_MS = Number(process.env["CHAOS_S3_OUTAGE_S"] ?? 30) * 1000;
const FUZZ = 1000;
const WINDOW_MS = 1_500;
const MINUTE = 60_000;

// a -> long -> c; the middle step is the one faults hit: 16 train steps of 80 ms, a snapshot every 4.
const LONG = { steps: 16, delayMs: 80, snapshotEvery: 4, scale: 1.01, shift: 0.3 };
const recipe = (name: string, middle = "b"): Recipe =>
  tensorRecipe(
    name,
    [
      { name: "a", config: { steps: 2 } },
      { name: middle, stage: "b", config: LONG },
      { name: "c", config: { steps: 3 } },
    ],
    11,
  );

const random = prng(SEED);
const rows: {
  scenario: string;
  runs: number;
  completed: number;
  deadLettered: number;
  commitsPerStep: string;
  orphans: number;
  identical: string;
  messages: number;
}[] = [];
const record = (scenario: string, figures: RunFigures[], messages: number, deadLettered = 0) =>
  rows.push({
    scenario,
    runs: figures.length + deadLettered,
    completed: figures.length,
    deadLettered,
    commitsPerStep: figures.length ? `${Math.max(...figures.flatMap((f) => f.commitsPerStep))} max` : "-",
    orphans: figures.reduce((n, f) => n + f.orphans, 0),
    identical: figures.length ? `${figures.filter((f) => f.identical).length}/${figures.length}` : "-",
    messages,
  });

describe(`chaos (seed ${SEED})`, () => {
  let relay: Relay;
  let reference: CheckpointManifest;
  const fixed: StageProcess[] = []; // a, c
  let pool: StageProcess[] = []; // two workers of step b
  const respawns: Promise<void>[] = [];
  const killed: number[] = [];
  const seq = (s: string) => `${s}-${Date.now().toString(36)}-${random(0, 1e6)}`;

  beforeAll(async () => {
    relay = await startRelay({
      BATON_DUPLICATE_WINDOW_MS: String(WINDOW_MS),
      BATON_MAX_ATTEMPTS: "14",
      TEST_MAX_ATTEMPTS: "14",
    });
    if (!relay.services.localNats || !relay.services.localS3)
      throw new Error(
        "the chaos suite restarts the servers: run it with local servers (unset NATS_URL and S3_ENDPOINT)",
      );
    const started = await spawnStages(relay, ["a", "c", "b", "b"]);
    fixed.push(started[0]!, started[1]!);
    pool = [started[2]!, started[3]!];
  }, 3 * MINUTE);

  afterAll(async () => {
    console.log(
      `chaos seed ${SEED}\n| scenario | runs | completed | dead-lettered | commits per step | orphans | identical weights | messages |\n|---|---|---|---|---|---|---|---|\n${rows.map((r) => `| ${r.scenario} | ${r.runs} | ${r.completed} | ${r.deadLettered} | ${r.commitsPerStep} | ${r.orphans} | ${r.identical} | ${r.messages} |`).join("\n")}`,
    );
    if (process.env["CHAOS_REPORT"])
      await writeFile(process.env["CHAOS_REPORT"], `${JSON.stringify({ seed: SEED, rows }, null, 2)}\n`);
    await Promise.allSettled(respawns);
    await Promise.all([...fixed, ...pool].map((s) => s.stop()));
    await relay?.close();
  }, 2 * MINUTE);

  /** kill -9 of a b worker; a fresh one starts in the background (the other worker takes the redelivery). */
  const kill = async (w: StageProcess) => {
    w.kill("SIGKILL");
    await w.exited;
    killed.push(w.pid);
    pool = pool.filter((p) => p !== w);
    respawns.push(spawnStage(relay, "b").then((p) => void pool.push(p)));
  };

  it(
    "a clean run gives the reference weights",
    async () => {
      const runId = seq("clean");
      const done = awaitRun(relay.env.bus, runId, { timeoutMs: 2 * MINUTE });
      await publishRun(relay, recipe("clean"), runId);
      reference = await readManifest(relay.env.store, (await done).checkpoint);
      expect(reference.metrics?.["resumedFrom"]).toBe(0);
      record(
        "clean run",
        [await expectClean(relay, runId, 3, await done, reference)],
        (await StreamLog.read(relay)).of("baton.", runId).length,
      );
    },
    2 * MINUTE,
  );

  it(
    `${KILLS} kill -9 at random train steps and ${NATS_RESTARTS} nats-server restarts mid-run: every run completes, identical`,
    async () => {
      const figures: RunFigures[] = [];
      let kills = 0;
      let restarts = 0;
      let messages = 0;
      for (let run = 0; kills < KILLS && run < 16; run++) {
        await Promise.all(respawns.splice(0));
        const runId = seq("kill");
        const done = awaitRun(relay.env.bus, runId, { timeoutMs: 3 * MINUTE });
        const finished = done.then(
          () => undefined,
          () => undefined,
        );
        await publishRun(relay, recipe("kill"), runId);
        // Two kill points per run, at random train steps (the second on the worker that resumed).
        const first = random(1, 8);
        for (const at of [first, random(first + 1, LONG.steps - 1)]) {
          if (kills >= KILLS) break;
          const victim = await Promise.race([
            waitFor(`a b worker past train step ${at} of ${runId}`, () => workingOn(pool, runId, at), 2 * MINUTE, 20),
            finished,
          ]);
          if (!victim) break; // the step finished before this point was reached: a later run takes it
          await kill(victim);
          kills++;
          if (restarts < NATS_RESTARTS && run % 3 === 2 && at === first) {
            await relay.services.localNats!.restart();
            restarts++;
          }
        }
        const result = await done;
        figures.push(await expectClean(relay, runId, 3, result, reference));
        messages += (await StreamLog.read(relay)).of("baton.", runId).length;
      }
      expect({ kills, restarts }).toEqual({ kills: KILLS, restarts: NATS_RESTARTS });
      await Promise.all(respawns.splice(0));
      record(`kill -9 at random train steps (${kills}), nats-server restarts (${restarts})`, figures, messages);
      await expectUp([...fixed, ...pool]);
      expect(await leftWorkDirs(killed)).toEqual([]); // the respawned services swept the dead ones' folders
    },
    8 * MINUTE,
  );

  /** A run whose middle step (named `step`) is first served by a victim process started with `env`. */
  async function victimRun(
    name: string,
    step: string,
    env: Record<string, string>,
    strike: (victim: StageProcess, runId: string) => Promise<void>,
  ) {
    const victim = await spawnStage(relay, step, "b", env);
    const runId = seq(name);
    const done = awaitRun(relay.env.bus, runId, { timeoutMs: 3 * MINUTE });
    await publishRun(relay, recipe(name, step), runId);
    await strike(victim, runId);
    // A killed victim's event waits for a worker: start one (it also sweeps the victim's work folder).
    const killedVictim = victim.child.exitCode !== null || victim.child.signalCode !== null;
    if (killedVictim) killed.push(victim.pid);
    const rescuer = killedVictim ? await spawnStage(relay, step, "b") : undefined;
    const result = await done;
    const figures = await expectClean(relay, runId, 3, result, reference);
    await expectUp(rescuer ? [rescuer] : [victim]);
    await (rescuer ?? victim).stop();
    return { runId, figures, messages: (await StreamLog.read(relay)).of("baton.", runId).length };
  }

  it(
    "kill -9 during the upload, after the upload (before the commit) and after the commit (before the emit)",
    async () => {
      const upload = await victimRun("mid-upload", "v1", { TEST_SLOW_UPLOAD_MS: "1500" }, async (victim) => {
        await line(victim, '"uploading"', "manifest.json"); // the files are up, the manifest not yet
        await kill2(victim);
      });
      const commit = await victimRun("pre-commit", "v2", { TEST_PAUSE_BEFORE: "commit:60000" }, async (victim) => {
        await line(victim, '"pausing before phase"', '"commit"'); // a whole, verified checkpoint, not committed
        await kill2(victim);
      });
      // The retry committed the killed attempt's checkpoint (attempt 1's folder) instead of training again.
      const rec = await relay.env.ledger.get(commit.runId, 1);
      expect(relay.env.store.keyOf(rec!.checkpoint.uri)).toMatch(/\/1-v2\/1-[0-9a-f]+\/$/);
      expect((await StreamLog.read(relay)).of("baton.stage.started.v2", commit.runId)).toHaveLength(1);
      const emit = await victimRun("pre-emit", "v3", { TEST_PAUSE_BEFORE: "emit:60000" }, async (victim) => {
        await line(victim, '"pausing before phase"', '"emit"'); // committed, next event not sent
        await kill2(victim);
      });
      record(
        "kill -9 during upload / before commit / before emit",
        [upload.figures, commit.figures, emit.figures],
        upload.messages + commit.messages + emit.messages,
      );
    },
    6 * MINUTE,
  );

  const kill2 = async (p: StageProcess) => {
    p.kill("SIGKILL");
    await p.exited;
  };

  it(
    "nats-server restarted while a commit is under way",
    async () => {
      const r = await victimRun("mid-commit", "v4", { TEST_PAUSE_BEFORE: "commit:1000" }, async (victim) => {
        await line(victim, '"pausing before phase"', '"commit"');
        await relay.services.localNats!.restart();
      });
      record("nats-server restarted mid-commit", [r.figures], r.messages);
    },
    4 * MINUTE,
  );

  it(
    `the S3 server stopped for ${S3_OUTAGE_MS / 1000} s mid-step: retried with backoff, completes`,
    async () => {
      const runId = seq("s3-outage");
      const done = awaitRun(relay.env.bus, runId, { timeoutMs: 4 * MINUTE });
      await publishRun(relay, recipe("s3"), runId);
      await waitFor("b past train step 5", () => workingOn(pool, runId, 5), 2 * MINUTE, 20);
      await relay.services.localS3!.stop();
      await new Promise((r) => setTimeout(r, S3_OUTAGE_MS));
      await relay.services.localS3!.restart();
      const figures = await expectClean(relay, runId, 3, await done, reference);
      const retries = (await StreamLog.read(relay)).of("baton.stage.failed.", runId).length;
      expect(retries).toBeGreaterThan(0);
      record(
        `S3 stopped ${S3_OUTAGE_MS / 1000} s (${retries} retried attempts)`,
        [figures],
        (await StreamLog.read(relay)).of("baton.", runId).length,
      );
      await expectUp([...fixed, ...pool]);
    },
    5 * MINUTE,
  );

  it(
    "the same events many times, inside and after the duplicate window: nothing new is emitted",
    async () => {
      const runId = seq("dupes");
      const r = recipe("dupes");
      const done = awaitRun(relay.env.bus, runId, { timeoutMs: 2 * MINUTE });
      await publishRun(relay, r, runId);
      const figures = await expectClean(relay, runId, 3, await done, reference);
      const events = [firstEvent(r, runId)];
      for (let cursor = 1; cursor < 3; cursor++) {
        const parent = (await relay.env.ledger.get(runId, cursor - 1))!.checkpoint;
        events.push(
          createEvent({
            type: "dev.baton.checkpoint.ready",
            id: msgId(runId, cursor, "dev.baton.checkpoint.ready"),
            source: "tests/chaos",
            data: { runId, recipe: r.name, seed: 11, cursor, pipeline: r.steps, checkpoint: parent },
          }),
        );
      }
      const subject = (cursor: number) => subjects.checkpointReady(r.steps[cursor]!.name);
      let delivered = 0;
      const copies = [0, 0, 0];
      const sent = (cursor: number) => {
        delivered++;
        copies[cursor]!++;
      };
      for (const e of events) {
        const cursor = e.data.cursor;
        // The same id twice in a row: the second is inside the window and dropped by NATS.
        if (!(await relay.env.bus.publish(subject(cursor), e, { msgId: e.id })).duplicate) sent(cursor);
        expect((await relay.env.bus.publish(subject(cursor), e, { msgId: e.id })).duplicate).toBe(true);
        // As if republished by someone else (fresh ids): delivered.
        for (let i = 0; i < 3; i++) {
          await relay.env.bus.publishRaw(subject(cursor), encodeEvent(e), { msgId: `${e.id}:copy-${i}` });
          sent(cursor);
        }
      }
      for (let round = 0; round < 2; round++) {
        await new Promise((res) => setTimeout(res, WINDOW_MS + 200));
        for (const e of events) {
          expect((await relay.env.bus.publish(subject(e.data.cursor), e, { msgId: e.id })).duplicate).toBe(false); // after the window: delivered
          sent(e.data.cursor);
        }
      }
      const answered = () =>
        [...fixed, ...pool]
          .flatMap((p) => p.output)
          .filter((l) => l.includes("already committed and handed on") && l.includes(runId)).length;
      await waitFor(
        `the ${delivered} copies to be answered from the ledger`,
        () => (answered() >= delivered ? true : undefined),
        2 * MINUTE,
        50,
      );
      expect(answered()).toBe(delivered);
      // The stream holds the original and our copies of each step's event, and nothing the relay
      // emitted again: still one run.completed.
      const after = await StreamLog.read(relay);
      expect(
        [0, 1, 2].map((c) => after.of("baton.checkpoint.ready.", runId).filter((m) => m.data.cursor === c).length),
      ).toEqual(copies.map((n) => n + 1));
      expect(after.of("baton.run.completed", runId)).toHaveLength(1);
      expect(await relay.env.store.list(`runs/${runId}/`)).toEqual([]);
      record(
        `duplicates: ${delivered} delivered copies (inside and after the window)`,
        [figures],
        (await StreamLog.read(relay)).of("baton.", runId).length,
      );
    },
    3 * MINUTE,
  );

  it(
    "truncated and bit-flipped checkpoint objects are dead-lettered as CHECKPOINT_CORRUPT on the first attempt",
    async () => {
      const runId = seq("source");
      const r = recipe("corrupt");
      const done = awaitRun(relay.env.bus, runId, { timeoutMs: 2 * MINUTE });
      await publishRun(relay, r, runId);
      await done;
      const ref: CheckpointRef = (await relay.env.ledger.get(runId, 0))!.checkpoint;
      const key = `${relay.env.store.keyOf(ref.uri)}model.safetensors`;
      const original = await relay.env.store.getBytes(key);
      const flipped = Uint8Array.from(original);
      const bit = random(0, original.length * 8 - 1);
      flipped[bit >> 3]! ^= 1 << (bit & 7);
      const letters: Observed[] = [];
      const unwatch = await relay.env.bus.watch(subjects.deadLetter("b"), (m) => letters.push(m), { from: "new" });
      for (const [what, bytes] of [
        ["truncated", original.subarray(0, original.length >> 1)],
        ["bit-flipped", flipped],
      ] as const) {
        await relay.env.store.putBytes(key, bytes);
        const id = seq(what);
        const e = createEvent({
          type: "dev.baton.checkpoint.ready",
          id: msgId(id, 1, "dev.baton.checkpoint.ready"),
          source: "tests/chaos",
          data: { runId: id, recipe: r.name, seed: 11, cursor: 1, pipeline: r.steps, checkpoint: ref },
        });
        await relay.env.bus.publish(subjects.checkpointReady("b"), e, { msgId: e.id });
        const dl = await waitFor(
          `the dead letter of the ${what} checkpoint`,
          () => letters.find((m) => m.headers[HEADERS.deadLetterEventId] === e.id),
          MINUTE,
        );
        expect(dl.headers).toMatchObject({
          [HEADERS.deadLetterCode]: "CHECKPOINT_CORRUPT",
          [HEADERS.deadLetterDeliveries]: "1",
        });
        expect(dl.headers[HEADERS.deadLetterReason]).toContain("model.safetensors");
        expect(await relay.env.ledger.get(id, 1)).toBeNull();
      }
      await unwatch();
      await relay.env.store.putBytes(key, original);
      record("truncated and bit-flipped checkpoints", [], letters.length, letters.length);
      await expectUp([...fixed, ...pool]);
    },
    3 * MINUTE,
  );

  it(
    `${FUZZ} fuzzed events: every one dead-lettered with its reason, no crash, the service still serves runs`,
    async () => {
      const r = recipe("fuzz");
      const valid = JSON.parse(Buffer.from(encodeEvent(firstEvent(r, "fuzz-run"))).toString()) as Record<
        string,
        unknown
      >;
      const wrong = fc.oneof(
        fc.constant(null),
        fc.boolean(),
        fc.dictionary(fc.string({ maxLength: 4 }), fc.integer(), { maxKeys: 2 }),
        fc.array(fc.integer(), { minLength: 1, maxLength: 3 }),
      );
      const fields = [
        "id",
        "type",
        "specversion",
        "source",
        "data",
        "data.runId",
        "data.cursor",
        "data.pipeline",
        "data.recipe",
      ];
      const mutated = fc
        .tuple(fc.constantFrom(...fields), fc.oneof(wrong, fc.constant(undefined)))
        .map(([path, value]) => {
          const e = structuredClone(valid) as Record<string, Record<string, unknown>>;
          const [a, b] = path.split(".") as [string, string | undefined];
          if (b) e[a]![b] = value as never;
          else (e as Record<string, unknown>)[a] = value;
          return new TextEncoder().encode(JSON.stringify(e));
        });
      const misrouted = fc
        .integer({ min: 3, max: 1e6 })
        .map((cursor) =>
          new TextEncoder().encode(JSON.stringify({ ...valid, data: { ...(valid["data"] as object), cursor } })),
        );
      const garbage = fc.oneof(
        fc.uint8Array({ maxLength: 200 }),
        fc.jsonValue({ maxDepth: 3 }).map((v) => new TextEncoder().encode(JSON.stringify(v) ?? "null")),
      );
      const samples = fc.sample(fc.oneof(mutated, misrouted, garbage), { numRuns: FUZZ, seed: SEED });
      const letters = new Map<string, Observed>();
      const unwatch = await relay.env.bus.watch(subjects.deadLetter("a"), (m) => letters.set(String(m.seq), m), {
        from: "new",
      });
      const subject = subjects.checkpointReady("a");
      for (const [i, bytes] of samples.entries()) {
        // A unique id per sample (its own field may be the one fuzzed), so no dead letter deduplicates another.
        let body = bytes;
        try {
          const v = JSON.parse(Buffer.from(bytes).toString()) as Record<string, unknown>;
          if (v && typeof v === "object" && !Array.isArray(v) && typeof v["id"] === "string")
            body = new TextEncoder().encode(JSON.stringify({ ...v, id: `fuzz-${SEED}-${i}` }));
        } catch {
          // not JSON: the dead letter is keyed by its stream sequence
        }
        await relay.env.bus.publishRaw(subject, body, { msgId: `fuzz-${SEED}-${i}` });
      }
      await waitFor(`${FUZZ} dead letters`, () => (letters.size >= FUZZ ? true : undefined), 4 * MINUTE, 100);
      await unwatch();
      const codes = new Map<string, number>();
      for (const m of letters.values()) {
        const code = m.headers[HEADERS.deadLetterCode] ?? "none";
        codes.set(code, (codes.get(code) ?? 0) + 1);
        expect(m.headers[HEADERS.deadLetterReason]?.length ?? 0).toBeGreaterThan(10);
        expect(m.headers[HEADERS.deadLetterDeliveries]).toBe("1");
      }
      expect(letters.size).toBe(FUZZ);
      expect([...codes.keys()].every((c) => ["EVENT_MALFORMED", "EVENT_INVALID", "ROUTING_MISMATCH"].includes(c))).toBe(
        true,
      );
      console.log(`fuzzed events by dead-letter code: ${JSON.stringify(Object.fromEntries(codes))}`);
      await expectUp([...fixed, ...pool]);
      // And it still serves: a good run through the same step.
      const runId = seq("after-fuzz");
      const done = awaitRun(relay.env.bus, runId, { timeoutMs: 2 * MINUTE });
      await publishRun(relay, r, runId);
      const figures = await expectClean(relay, runId, 3, await done, reference);
      record(
        `${FUZZ} fuzzed events (${[...codes].map(([c, n]) => `${c} ${n}`).join(", ")}), then a good run`,
        [figures],
        FUZZ,
        FUZZ,
      );
    },
    6 * MINUTE,
  );

  it(
    `${FUZZ} fuzzed dataset lines: every one a record or a skip counted with its file:line reason; under fail, a clear error`,
    async () => {
      const noBreaks = (s: string) => s.replace(/[\r\n\u2028\u2029]/g, " ");
      const value = fc.oneof(
        fc.string({ maxLength: 40 }),
        fc.integer(),
        fc.constant(null),
        fc.boolean(),
        fc.array(fc.string({ maxLength: 5 }), { maxLength: 2 }),
      );
      const lineArb = fc.oneof(
        fc
          .record({
            prompt: fc.string({ minLength: 1, maxLength: 40 }),
            completion: fc.string({ minLength: 1, maxLength: 40 }),
          })
          .map((r) => JSON.stringify(r)),
        fc.record({ prompt: value, completion: value }, { requiredKeys: [] }).map((r) => JSON.stringify(r)),
        fc.dictionary(fc.string({ maxLength: 8 }), value, { maxKeys: 3 }).map((r) => JSON.stringify(r)),
        fc.string({ minLength: 1, maxLength: 80 }).map(noBreaks),
        fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v) ?? "null"),
      );
      const lines = fc
        .sample(lineArb, { numRuns: FUZZ, seed: SEED })
        .map((l) => (/^\s*$/.test(l) ? "{}" : noBreaks(l)));
      const file = join(relay.workDir, "fuzz.train.jsonl");
      await writeFile(file, `${lines.join("\n")}\n`);
      const uri = `file://${file}`;
      const ds = readDataset(uri, { format: "prompt-completion", policy: "skip" });
      let records = 0;
      for await (const _ of ds) records++;
      const report = ds.report();
      expect(report.lines).toBe(FUZZ);
      expect(records + report.skipped).toBe(FUZZ);
      expect(report.records).toBe(records);
      expect(report.errors.every((e) => /fuzz\.train\.jsonl:\d+: \S/.test(e))).toBe(true);
      const strict = await (async () => {
        for await (const _ of readDataset(uri, { format: "prompt-completion", policy: "fail" }));
        return null;
      })().catch((e: unknown) => e as Error);
      if (report.skipped > 0) {
        expect(strict?.name).toBe("DatasetError");
        expect(strict?.message).toMatch(/fuzz\.train\.jsonl:\d+: .*policy "fail"/);
      }
      console.log(
        `fuzzed dataset lines: ${records} records, ${report.skipped} skipped with a reason (first: ${report.errors[0] ?? "none"})`,
      );
      rows.push({
        scenario: `${FUZZ} fuzzed dataset lines (${records} records, ${report.skipped} counted skips)`,
        runs: 0,
        completed: 0,
        deadLettered: 0,
        commitsPerStep: "-",
        orphans: 0,
        identical: "-",
        messages: 0,
      });
    },
    MINUTE,
  );
});
