import { randomBytes } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import type { Delivery } from "@baton/bus";
import { traceCarrierOf } from "@baton/bus";
import type { CheckpointReadyData, CheckpointRef, RecipeStep } from "@baton/contracts";
import {
  BatonError,
  type BatonEvent,
  backoffFor,
  createEvent,
  DEFAULT_RETRY,
  decodeEvent,
  expectType,
  HEADERS,
  isLastAttempt,
  keys,
  msgId,
  redactText,
  subjects,
  toBatonError,
} from "@baton/contracts";
import { allowLocations, type DataAccess, storeLocation } from "@baton/store";
import { earlierAttempt, sweepCommittedStep } from "./attempts.ts";
import { commitCheckpoint, openCheckpoint } from "./checkpoint/checkpoint.ts";
import type { CommitResult } from "./ledger/ledger.ts";
import { jsonLogger, withFields } from "./log.ts";
import { Watched } from "./observe.ts";
import { completeSnapshotSteps, deletePrefix, snapshotApi } from "./snapshot.ts";
import type { Logger, Progress, RunStageOptions, StageContext, StageOutcome } from "./types.ts";

/** One delivery being relayed: what each part of the relay below needs to act and to report. */
interface Attempt {
  o: RunStageOptions;
  d: Delivery;
  log: Logger;
  w: Watched;
  worker: string;
  started: number;
}

export function defaultWorker(): string {
  return `${hostname()}:${process.pid}`;
}

/**
 * One delivery, the whole relay:
 *   decode + validate -> routing check -> step check (the stage's validate()) -> ledger check
 *   -> download input (verified) -> stage.started -> train(ctx) -> commit checkpoint -> ledger create
 *   -> emit next (checkpoint.ready or run.completed) + emitted marker -> sweep the step's leftovers -> ack
 * A committed step's duplicate emits only if the marker is missing; a redelivery commits an earlier
 * attempt's verified, uncommitted checkpoint instead of training again.
 * Faults: retryable -> stage.failed + nak(backoff); fatal or last attempt -> stage.failed + dead letter
 * + term; interrupted (SIGTERM) -> nak(0) so another worker resumes from the newest snapshot.
 */
export async function relay(o: RunStageOptions, d: Delivery): Promise<StageOutcome> {
  const started = Date.now();
  const retry = o.retry ?? DEFAULT_RETRY;
  const worker = o.worker ?? defaultWorker();
  let log: Logger = withFields(o.logger ?? jsonLogger(), { stage: o.stage, step: o.step, worker });
  const where = `${d.subject}#${d.streamSeq}`;
  let w = new Watched(undefined, log);
  try {
    w = new Watched(
      o.observer?.onWork?.({
        step: o.step,
        stage: o.stage,
        subject: d.subject,
        headers: traceCarrierOf(d.headers, d.data),
        deliveryCount: d.deliveryCount,
        receivedAt: started,
      }),
      log,
    );
  } catch (err) {
    log.warn("observer onWork threw; continuing without it", { error: (err as Error).message });
  }
  const heartbeat = setInterval(() => d.working(), Math.max(50, Math.floor((o.bus.settings.ackWaitMs ?? 60_000) / 3)));
  let event: BatonEvent<"dev.baton.checkpoint.ready"> | undefined;
  let workdir: string | undefined;
  const end = (outcome: StageOutcome): StageOutcome => {
    w.notify("onEnd", (x) => x.onEnd?.(outcome));
    return outcome;
  };

  try {
    event = expectType(decodeEvent(d.data, where), "dev.baton.checkpoint.ready", where);
    const ev = event;
    const data = ev.data;
    log = withFields(log, { runId: data.runId, cursor: data.cursor, eventId: ev.id, attempt: d.deliveryCount });
    w.notify("onEvent", (x) => x.onEvent?.(ev));
    const traceId = w.traceId();
    if (traceId) log = withFields(log, { traceId });
    const step = routedStep(o, data, ev.id);
    // What the event points the service at is the operator's to allow, before anything else is looked at.
    checkReadable(o.dataAccess ?? allowLocations([storeLocation(o.store)]), step, data.checkpoint, ev.id);
    // A step that can never train (its config, its data roles) fails here, before any download, and
    // is dead-lettered on this first attempt: retrying cannot change the recipe.
    const problems = o.validate?.(step) ?? [];
    if (problems.length > 0) {
      throw BatonError.fatal(
        "CONFIG_INVALID",
        `event ${ev.id}: recipe step "${step.name}" (pipeline[${data.cursor}]) can never train:\n  - ${problems.join("\n  - ")}\nFix the recipe and start a new run (check it first with \`baton run --check\`).`,
      );
    }

    if (d.deliveryCount > retry.maxAttempts) {
      throw BatonError.fatal(
        "ATTEMPTS_EXHAUSTED",
        `event ${ev.id} was delivered ${d.deliveryCount} times without completing (limit ${retry.maxAttempts}): workers died or timed out on every attempt. Check the stage's logs for run ${data.runId}, step ${step.name}.`,
      );
    }

    const attemptId = `${d.deliveryCount}-${randomBytes(4).toString("hex")}`;
    workdir = join(o.workRoot ?? tmpdir(), workDirName(data.runId, data.cursor, attemptId));
    const outputDir = join(workdir, "output");
    const scratch = join(workdir, "scratch");
    const inputDir = join(workdir, "input");

    // The ledger check, the input download and the snapshot listing are independent round trips:
    // run them at once (handoff latency). A download wasted on an already-committed step is rare.
    const ledgerCheck = o.ledger.get(data.runId, data.cursor);
    const download = data.checkpoint
      ? w.phase(
          "download",
          () => openCheckpoint(o.store, data.checkpoint!, inputDir),
          (c) => c.bytes,
        )
      : Promise.resolve(null);
    // Only a redelivery can expect snapshots (an earlier attempt was interrupted); a first delivery
    // skips the listing, and train() still finds any snapshot through ctx.snapshot.latest().
    const resumeListing = d.deliveryCount > 1 ? newestSnapshotStep(o, data) : Promise.resolve(null);
    const settled = Promise.allSettled([download, resumeListing]);
    const committed = await ledgerCheck.catch(async (err: unknown) => {
      await settled;
      throw err;
    });
    if (committed) {
      await settled;
      await handOnce(o, log, w, data, committed.checkpoint);
      // What a worker killed between its commit and its cleanup left behind goes now, before the ack.
      await sweep(o, log, data, step.name, committed.checkpoint);
      await d.ack();
      return end({
        kind: "already-committed",
        runId: data.runId,
        cursor: data.cursor,
        checkpoint: committed.checkpoint,
        durationMs: Date.now() - started,
      });
    }
    await settled;
    const [input, resumeFrom] = await Promise.all([download, resumeListing]);
    // A redelivery after an attempt that uploaded its checkpoint but could not commit it (NATS away
    // for a moment): commit that verified checkpoint instead of training again.
    const earlier =
      d.deliveryCount > 1
        ? await w.phase("resume", () => earlierAttempt(o.store, data, step, join(workdir!, "earlier"), log))
        : null;
    if (earlier)
      return end(
        await commitAndHandOn({
          o,
          d,
          log,
          w,
          worker,
          started,
          data,
          step,
          checkpoint: earlier.ref,
          prefix: earlier.prefix,
        }),
      );
    await mkdir(outputDir, { recursive: true });
    await mkdir(scratch, { recursive: true });
    const snapshots = snapshotApi(o.store, data.runId, data.cursor, join(workdir, "resume"), log);
    await publishQuiet(
      o,
      log,
      subjects.stageStarted(step.name),
      createEvent({
        type: "dev.baton.stage.started",
        id: msgId(data.runId, data.cursor, "dev.baton.stage.started", d.deliveryCount),
        source: source(o, worker),
        data: {
          runId: data.runId,
          cursor: data.cursor,
          step: step.name,
          stage: o.stage,
          implementation: o.implementation,
          version: o.version,
          worker,
          attempt: d.deliveryCount,
          resumeFromStep: resumeFrom,
        },
      }),
      w.headers(),
    );

    const startedAt = new Date().toISOString();
    const ctx: StageContext = {
      runId: data.runId,
      cursor: data.cursor,
      step,
      pipeline: data.pipeline,
      recipe: data.recipe,
      seed: data.seed ?? 0,
      input: input ? { ref: input.ref, manifest: input.manifest, dir: input.dir } : null,
      stepCheckpoint: (name) => earlierCheckpoint(o, data, name),
      openCheckpoint: (() => {
        let opened = 0;
        return (ref) =>
          w.phase(
            "download",
            () => openCheckpoint(o.store, ref, join(workdir as string, `input-${++opened}`)),
            (c) => c.bytes,
          );
      })(),
      outputDir,
      workdir: scratch,
      attempt: d.deliveryCount,
      progress: progressReporter(o, log, w, data, step, d.deliveryCount, worker),
      snapshot: { save: (s, f) => snapshots.save(s, f), latest: () => w.phase("resume", () => snapshots.latest()) },
      signal: o.signal ?? new AbortController().signal,
      log,
    };
    const result = await w.phase("train", () => o.train(ctx));

    const prefix = keys.checkpoint(data.runId, data.cursor, step.name, attemptId);
    const checkpoint = await w.phase(
      "upload",
      () =>
        commitCheckpoint(o.store, {
          prefix,
          dir: outputDir,
          manifest: {
            runId: data.runId,
            cursor: data.cursor,
            step: step.name,
            stage: o.stage,
            implementation: o.implementation,
            version: o.version,
            parent: data.checkpoint,
            ...(result.inputs?.length ? { inputs: result.inputs } : {}),
            config: step.config,
            datasets: result.datasets ?? [],
            metrics: result.metrics ?? {},
            traceId: w.traceId(),
            startedAt,
          },
        }),
      (c) => c.bytes,
    );
    return end(
      await commitAndHandOn({ o, d, log, w, worker, started, data, step, checkpoint: checkpoint.ref, prefix }),
    );
  } catch (thrown) {
    return end(await fail({ o, d, log, w, worker, started, event, thrown }));
  } finally {
    clearInterval(heartbeat);
    if (workdir) {
      await rm(workdir, { recursive: true, force: true }).catch((err: unknown) =>
        log.warn("could not remove the work folder; the next start of this service sweeps it", {
          workdir,
          error: (err as Error).message,
        }),
      );
    }
  }
}

/**
 * Commit -> emit -> clean -> ack. The ledger picks one checkpoint per step; the next event goes out
 * once for it; everything else of the step is deleted before the ack, so a worker killed on the way
 * leaves a redelivery that finishes the job.
 */
async function commitAndHandOn(
  a: Attempt & { data: CheckpointReadyData; step: RecipeStep; checkpoint: CheckpointRef; prefix: string },
): Promise<StageOutcome> {
  const { o, d, log, w, worker, started, data, step, checkpoint, prefix } = a;
  let won: CommitResult;
  try {
    won = await w.phase("commit", () =>
      o.ledger.commit(data.runId, data.cursor, {
        checkpoint,
        step: step.name,
        worker,
        committedAt: new Date().toISOString(),
      }),
    );
  } catch (err) {
    // Not committed. A retry finds this verified checkpoint and commits it without training; after
    // the last attempt none will, so it goes now (what a crash leaves is `baton gc`'s).
    if (isLastAttempt(o.retry ?? DEFAULT_RETRY, d.deliveryCount)) {
      await deletePrefix(o.store, prefix).catch((e: unknown) =>
        log.warn("could not delete the uncommitted checkpoint; `baton gc` will", {
          prefix,
          error: (e as Error).message,
        }),
      );
    }
    throw err;
  }
  // Our commit: hand it on. Another worker's: hand theirs on unless it already went out.
  const next = won.won
    ? await emitAndMark(o, log, w, data, won.record.checkpoint)
    : await handOnce(o, log, w, data, won.record.checkpoint).then(() => null);
  if (won.won) {
    log.info("step committed", { checkpoint: won.record.checkpoint.uri, next });
    await o.ledger
      .setLatest({
        pipeline: data.recipe,
        step: step.name,
        checkpoint,
        runId: data.runId,
        committedAt: won.record.committedAt,
      })
      .catch((err: unknown) =>
        log.warn("could not move the latest-checkpoint pointer", { error: (err as Error).message }),
      );
  } else {
    log.info("another worker committed this step first; dropping our copy", {
      ours: checkpoint.uri,
      theirs: won.record.checkpoint.uri,
    });
  }
  await sweep(o, log, data, step.name, won.record.checkpoint);
  // The step is committed and handed on; a lost ack only means a redelivery that the ledger answers.
  await d
    .ack()
    .catch((err: unknown) =>
      log.warn("ack failed after commit; a redelivery will find the ledger entry", { error: (err as Error).message }),
    );
  return won.won && next
    ? {
        kind: "committed",
        runId: data.runId,
        cursor: data.cursor,
        checkpoint: won.record.checkpoint,
        next,
        durationMs: Date.now() - started,
      }
    : {
        kind: "already-committed",
        runId: data.runId,
        cursor: data.cursor,
        checkpoint: won.record.checkpoint,
        durationMs: Date.now() - started,
      };
}

/** Everything of a committed step but its checkpoint; a failure only leaves work for `baton gc`. */
async function sweep(
  o: RunStageOptions,
  log: Logger,
  data: CheckpointReadyData,
  step: string,
  committed: CheckpointRef,
): Promise<void> {
  await sweepCommittedStep(o.store, data.runId, data.cursor, step, committed).catch((err: unknown) =>
    log.warn("could not delete the step's other attempts and snapshots; `baton gc` will", {
      error: (err as Error).message,
    }),
  );
}

/** A work folder's name carries the pid that owns it, so a restarted service can tell its dead ones. */
export function workDirName(runId: string, cursor: number, attemptId: string): string {
  return `baton-${runId}-${cursor}-${attemptId}-p${process.pid}`;
}

/** pipeline[cursor] must exist and belong to this consumer and this stage; anything else is bad input. */
function routedStep(o: RunStageOptions, data: CheckpointReadyData, eventId: string): RecipeStep {
  const step = data.pipeline[data.cursor];
  if (!step) {
    throw BatonError.fatal(
      "ROUTING_MISMATCH",
      `event ${eventId}: cursor ${data.cursor} is past the end of the pipeline (${data.pipeline.length} steps); the producer must emit run.completed after the last step`,
    );
  }
  if (step.name !== o.step) {
    throw BatonError.fatal(
      "ROUTING_MISMATCH",
      `event ${eventId}: pipeline[${data.cursor}] is step ${JSON.stringify(step.name)} but it arrived on the consumer of step ${JSON.stringify(o.step)}; publish it to ${subjects.checkpointReady(step.name)}`,
    );
  }
  if (step.stage !== o.stage) {
    throw BatonError.fatal(
      "ROUTING_MISMATCH",
      `event ${eventId}: step ${JSON.stringify(step.name)} asks for stage ${JSON.stringify(step.stage)} but this service runs ${JSON.stringify(o.stage)}; deploy a ${step.stage} service for this step, or fix the recipe`,
    );
  }
  return step;
}

/** An earlier step's committed checkpoint in this run (the ledger's record of it). */
async function earlierCheckpoint(
  o: RunStageOptions,
  data: CheckpointReadyData,
  name: string,
): Promise<CheckpointRef | null> {
  const cursor = data.pipeline.findIndex((s) => s.name === name);
  if (cursor < 0 || cursor >= data.cursor) {
    const earlier = data.pipeline.slice(0, data.cursor).map((s) => s.name);
    throw BatonError.fatal(
      "CONFIG_INVALID",
      `step ${JSON.stringify(name)} is not an earlier step of run ${data.runId} (earlier steps: ${earlier.join(", ") || "none"})`,
    );
  }
  return (await o.ledger.get(data.runId, cursor))?.checkpoint ?? null;
}

/** The event's datasets and input checkpoint must lie where this service may read; before anything is opened. */
function checkReadable(
  access: DataAccess,
  step: RecipeStep,
  checkpoint: CheckpointRef | null | undefined,
  eventId: string,
): void {
  step.data.forEach((uri, i) => access.check(uri, `event ${eventId}: step "${step.name}" /data/${i}`));
  if (checkpoint) access.check(checkpoint.uri, `event ${eventId}: input checkpoint`);
}

async function newestSnapshotStep(o: RunStageOptions, data: CheckpointReadyData): Promise<number | null> {
  const [newest] = await completeSnapshotSteps(o.store, data.runId, data.cursor);
  return newest ?? null;
}

/**
 * The next event of a step that is already committed, at most once per commit: the ledger's marker
 * says whether it went out, however late a duplicate arrives (JetStream's duplicate window only
 * covers two minutes). Committed but not marked (the emit or the mark failed): emit, then mark.
 */
async function handOnce(
  o: RunStageOptions,
  log: Logger,
  w: Watched,
  data: CheckpointReadyData,
  checkpoint: CheckpointRef,
): Promise<"checkpoint.ready" | "run.completed" | "already-emitted"> {
  if (await o.ledger.emitted(data.runId, data.cursor)) {
    log.info("step already committed and handed on; nothing to do", { checkpoint: checkpoint.uri });
    return "already-emitted";
  }
  log.info("step already committed; emitting its next event without training", { checkpoint: checkpoint.uri });
  return emitAndMark(o, log, w, data, checkpoint);
}

async function emitAndMark(
  o: RunStageOptions,
  log: Logger,
  w: Watched,
  data: CheckpointReadyData,
  checkpoint: CheckpointRef,
): Promise<"checkpoint.ready" | "run.completed"> {
  const next = await w.phase("emit", () => emitNext(o, data, checkpoint, w.headers()));
  // Unmarked, a duplicate after the window would emit again; the event itself is out, so go on.
  await o.ledger.markEmitted(data.runId, data.cursor).catch((err: unknown) =>
    log.warn("could not mark the next event as emitted; a late duplicate may emit it again", {
      error: (err as Error).message,
    }),
  );
  return next;
}

/** Publishes checkpoint.ready for pipeline[cursor+1], or run.completed after the last step. */
export async function emitNext(
  o: Pick<RunStageOptions, "bus" | "stage" | "worker">,
  data: CheckpointReadyData,
  checkpoint: CheckpointRef,
  headers: Record<string, string>,
): Promise<"checkpoint.ready" | "run.completed"> {
  const nextStep = data.pipeline[data.cursor + 1];
  const src = source(o, o.worker ?? defaultWorker());
  if (nextStep) {
    const cursor = data.cursor + 1;
    const event = createEvent({
      type: "dev.baton.checkpoint.ready",
      id: msgId(data.runId, cursor, "dev.baton.checkpoint.ready"),
      source: src,
      subject: nextStep.name,
      data: {
        runId: data.runId,
        recipe: data.recipe,
        ...(data.seed !== undefined ? { seed: data.seed } : {}),
        cursor,
        pipeline: data.pipeline,
        checkpoint,
      },
    });
    await o.bus.publish(subjects.checkpointReady(nextStep.name), event, { headers });
    return "checkpoint.ready";
  }
  const event = createEvent({
    type: "dev.baton.run.completed",
    id: msgId(data.runId, data.cursor, "dev.baton.run.completed"),
    source: src,
    data: { runId: data.runId, recipe: data.recipe, pipeline: data.pipeline, checkpoint },
  });
  await o.bus.publish(subjects.runCompleted(), event, { headers });
  return "run.completed";
}

function progressReporter(
  o: RunStageOptions,
  log: Logger,
  w: Watched,
  data: CheckpointReadyData,
  step: RecipeStep,
  attempt: number,
  worker: string,
): (p: Progress) => void {
  const interval = o.progressIntervalMs ?? 1_000;
  let last = Number.NEGATIVE_INFINITY;
  return (p) => {
    w.notify("onProgress", (x) => x.onProgress?.(p));
    // Throttled, but the last training step always goes out: whoever watches sees the stage finish.
    const now = Date.now();
    const final = p.totalSteps !== undefined && p.trainStep >= p.totalSteps;
    if (!final && now - last < interval) return;
    last = now;
    const event = createEvent({
      type: "dev.baton.stage.progress",
      id: msgId(data.runId, data.cursor, "dev.baton.stage.progress", `${attempt}-${p.trainStep}`),
      source: source(o, worker),
      data: {
        runId: data.runId,
        cursor: data.cursor,
        step: step.name,
        stage: o.stage,
        trainStep: p.trainStep,
        ...(p.totalSteps !== undefined ? { totalSteps: p.totalSteps } : {}),
        metrics: p.metrics ?? {},
      },
    });
    void publishQuiet(o, log, subjects.stageProgress(step.name), event, w.headers());
  };
}

async function fail(
  f: Attempt & { event: BatonEvent<"dev.baton.checkpoint.ready"> | undefined; thrown: unknown },
): Promise<StageOutcome> {
  const { o, d, log, w, worker, started, event, thrown } = f;
  const retry = o.retry ?? DEFAULT_RETRY;
  const error = toBatonError(thrown, "TRAIN_FAILED");
  const peeked = event ? null : peek(d.data);
  const runId = event?.data.runId ?? peeked?.runId ?? null;
  const cursor = event?.data.cursor ?? null;
  const eventId = event?.id ?? peeked?.id ?? null;
  const durationMs = (): number => Date.now() - started;

  // Bad input stays bad input when a stop arrives; anything else thrown after the abort is the stop.
  const interrupted =
    o.signal?.aborted === true &&
    event !== undefined &&
    (error.disposition === "retry" || error.code === "INTERRUPTED");
  if (interrupted) {
    // SIGTERM: train stopped at a step boundary and saved a snapshot; hand the event on now.
    d.nak(0);
    log.warn("interrupted; event handed back for another worker to resume", { error: error.message });
    return { kind: "interrupted", runId: event.data.runId, cursor: event.data.cursor, durationMs: durationMs() };
  }

  const last = error.disposition === "fatal" || isLastAttempt(retry, d.deliveryCount);
  const disposition = last ? "fatal" : "retry";
  // What leaves the process (stage.failed, the dead-letter headers, the outcome for /status) is redacted.
  const message = redactText(
    error.disposition === "retry" && last
      ? `attempt ${d.deliveryCount} of ${retry.maxAttempts} failed, giving up: ${error.message}`
      : error.message,
  );
  const failed = createEvent({
    type: "dev.baton.stage.failed",
    id: msgId(runId ?? "unknown", cursor ?? d.streamSeq, "dev.baton.stage.failed", d.deliveryCount),
    source: source(o, worker),
    data: {
      runId: runId ?? "unknown",
      cursor,
      step: o.step,
      stage: o.stage,
      code: error.code,
      disposition,
      message,
      attempt: d.deliveryCount,
      eventId,
    },
  });
  await publishQuiet(o, log, subjects.stageFailed(o.step), failed, w.headers());

  if (!last) {
    const delayMs = backoffFor(retry, d.deliveryCount);
    d.nak(delayMs);
    log.warn("attempt failed; retrying with backoff", { code: error.code, error: error.message, delayMs });
    return {
      kind: "retry",
      runId,
      cursor,
      error: new BatonError(error.code, error.disposition, message, { cause: error }),
      delayMs,
      durationMs: durationMs(),
    };
  }
  try {
    await o.bus.publishRaw(subjects.deadLetter(o.step), d.data, {
      msgId: `dlq:${eventId ?? `seq-${d.streamSeq}`}:${d.deliveryCount}`,
      headers: {
        ...w.headers(),
        [HEADERS.deadLetterReason]: message,
        [HEADERS.deadLetterCode]: error.code,
        [HEADERS.deadLetterEventId]: eventId ?? "unreadable",
        [HEADERS.deadLetterDeliveries]: String(d.deliveryCount),
        [HEADERS.deadLetterSubject]: d.subject,
      },
    });
  } catch (err) {
    // Without the dead letter the event would vanish: hand it back instead; the next delivery
    // (past maxAttempts) dead-letters it again.
    d.nak(backoffFor(retry, d.deliveryCount));
    log.error("could not publish the dead letter; event handed back", {
      code: error.code,
      error: (err as Error).message,
    });
    return {
      kind: "retry",
      runId,
      cursor,
      error,
      delayMs: backoffFor(retry, d.deliveryCount),
      durationMs: durationMs(),
    };
  }
  d.term(message);
  log.error("event dead-lettered", { code: error.code, error: message, deadLetter: subjects.deadLetter(o.step) });
  return {
    kind: "dead-lettered",
    runId,
    cursor,
    error: new BatonError(error.code, "fatal", message, { cause: error }),
    durationMs: durationMs(),
  };
}

/** Id and run id of an event that failed validation, when its JSON still names them (for people reading the dead letter). */
function peek(bytes: Uint8Array): { id: string | null; runId: string | null } | null {
  try {
    const v = JSON.parse(new TextDecoder().decode(bytes)) as { id?: unknown; data?: { runId?: unknown } };
    const id = typeof v.id === "string" && v.id.length > 0 ? v.id : null;
    const runId =
      typeof v.data?.runId === "string" && /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/.test(v.data.runId) ? v.data.runId : null;
    return { id, runId };
  } catch {
    return null;
  }
}

async function publishQuiet(
  o: RunStageOptions,
  log: Logger,
  subject: string,
  event: BatonEvent,
  headers: Record<string, string>,
): Promise<void> {
  try {
    await o.bus.publish(subject, event, { headers });
  } catch (err) {
    log.warn(`could not publish ${event.type}; the relay goes on`, { error: (err as Error).message });
  }
}

function source(o: Pick<RunStageOptions, "stage">, worker: string): string {
  return `baton://stage/${o.stage}/${encodeURIComponent(worker)}`;
}
