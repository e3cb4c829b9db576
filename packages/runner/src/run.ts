import { tmpdir } from "node:os";
import type { Bus, Unwatch } from "@baton/bus";
import { sleep } from "@baton/bus";
import type { RunCompletedData, StageFailedData } from "@baton/contracts";
import {
  BatonError,
  type BatonErrorCode,
  type BatonEvent,
  decodeEvent,
  durableName,
  faultBackoffMs,
  HEADERS,
  STREAM,
  subjects,
} from "@baton/contracts";
import { sweepWorkRoot } from "./attempts.ts";
import { firstEvent, type RunStart } from "./first-event.ts";
import { jsonLogger, withFields } from "./log.ts";
import { defaultWorker, relay } from "./relay.ts";
import type { RunStageOptions, StageOutcome } from "./types.ts";

/** Pulls ONE event for options.step and relays it; null when none arrived within pullExpiresMs. */
export async function runStage(options: RunStageOptions): Promise<StageOutcome | null> {
  const d = await options.bus.pull(options.step, {
    expiresMs: options.pullExpiresMs ?? 5_000,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return d ? relay(options, d) : null;
}

export interface ServeStageOptions extends RunStageOptions {
  /** Wire SIGTERM/SIGINT to stop(): train stops at its next step boundary, snapshots, and the event is nak'ed. */
  handleSignals?: boolean;
  onOutcome?(outcome: StageOutcome): void;
}

export interface StageService {
  /** Resolves when the loop has stopped. */
  done: Promise<void>;
  /** Stops pulling and interrupts the current train() (like SIGTERM); resolves when the loop is done. */
  stop(): Promise<void>;
}

/**
 * The long-running worker loop of `baton stage serve`: pull one event, relay it, repeat. Bus faults
 * (nats-server restarting) are waited out with backoff; the loop only ends on stop() or a signal.
 */
export function serveStage(options: ServeStageOptions): StageService {
  const controller = new AbortController();
  const log = withFields(options.logger ?? jsonLogger(), {
    stage: options.stage,
    step: options.step,
    worker: options.worker ?? defaultWorker(),
  });
  const outer = options.signal;
  const onOuterAbort = (): void => controller.abort(outer?.reason);
  outer?.addEventListener("abort", onOuterAbort, { once: true });
  const stopNow = (why: string) => (): void => {
    if (!controller.signal.aborted) {
      log.warn(`${why}: stopping at the next step boundary`);
      controller.abort(
        BatonError.retry("INTERRUPTED", `${why}: this worker stopped; another one resumes from the newest snapshot`),
      );
    }
  };
  const onTerm = stopNow("SIGTERM");
  const onInt = stopNow("SIGINT");
  if (options.handleSignals) {
    process.on("SIGTERM", onTerm);
    process.on("SIGINT", onInt);
  }
  const relayOptions: RunStageOptions = {
    ...options,
    signal: controller.signal,
    logger: options.logger ?? jsonLogger(),
  };

  const done = (async () => {
    let faults = 0;
    // Work folders of this machine's dead workers (kill -9 skips their cleanup).
    const swept = await sweepWorkRoot(options.workRoot ?? tmpdir()).catch((err: unknown) => {
      log.warn("could not sweep the work folders of dead workers; they stay until the next start", {
        error: (err as Error).message,
      });
      return [];
    });
    if (swept.length > 0) log.info("removed the work folders of dead workers", { folders: swept.length });
    // The pull below creates the consumer as well and waits out a bus that is not there yet.
    await options.bus
      .ensureConsumer(options.step)
      .catch((err: unknown) =>
        log.warn("could not create the step's consumer yet; the pull loop retries", { error: (err as Error).message }),
      );
    while (!controller.signal.aborted) {
      try {
        const outcome = await runStage(relayOptions);
        faults = 0;
        if (outcome) options.onOutcome?.(outcome);
      } catch (err) {
        faults++;
        const waitMs = faultBackoffMs(faults);
        log.warn("bus fault; waiting before the next pull", { error: (err as Error).message, waitMs });
        await sleep(waitMs, controller.signal);
      }
    }
  })().finally(() => {
    outer?.removeEventListener("abort", onOuterAbort);
    if (options.handleSignals) {
      process.off("SIGTERM", onTerm);
      process.off("SIGINT", onInt);
    }
  });

  return {
    done,
    stop: async () => {
      stopNow("stop()")();
      await done;
    },
  };
}

export interface StartRunOptions extends RunStart {
  headers?: Record<string, string>;
}

/**
 * Publishes the first checkpoint.ready of a run (see firstEvent: the recipe, or its tail from `from`),
 * after creating the durable consumer of every step of its routing slip. An autoscaler reads a missing
 * consumer's lag as the stream's whole backlog (KEDA's nats-jetstream scaler does), so a step whose
 * consumer exists before the run reaches it starts no worker until its own event is published.
 */
export async function startRun(bus: Bus, options: StartRunOptions): Promise<BatonEvent<"dev.baton.checkpoint.ready">> {
  const event = firstEvent(options);
  await ensureStepConsumers(
    bus,
    event.data.pipeline.map((s) => s.name),
  );
  await bus.publish(subjects.checkpointReady(event.data.pipeline[0]!.name), event, {
    ...(options.headers ? { headers: options.headers } : {}),
  });
  return event;
}

/** Creates the durable consumer of each named step (idempotent; a step named twice is created once). */
export async function ensureStepConsumers(bus: Bus, steps: readonly string[]): Promise<void> {
  for (const step of new Set(steps)) {
    await bus.ensureConsumer(step).catch((err: unknown) => {
      if (err instanceof BatonError) throw err;
      throw BatonError.retry(
        "BUS_UNAVAILABLE",
        `cannot create the durable consumer ${durableName(step)} of step "${step}" on stream ${STREAM}: ${(err as Error).message}. The run was not started; check that this NATS user may call $JS.API.CONSUMER.* (nats-auth.conf) and start it again`,
        err,
      );
    });
  }
}

/**
 * Resolves with run.completed of runId; rejects on a fatal stage.failed of the run (its message says
 * why and what to do) or after timeoutMs. Replays the stream, so it may be called after startRun.
 */
export async function awaitRun(bus: Bus, runId: string, options: { timeoutMs: number }): Promise<RunCompletedData> {
  const watches: Promise<Unwatch>[] = [];
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<RunCompletedData>((resolve, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `run ${runId} did not complete within ${options.timeoutMs} ms; check the stage services' logs and /status`,
            ),
          ),
        options.timeoutMs,
      );
      const read = (data: Uint8Array, subject: string): BatonEvent | null => {
        try {
          return decodeEvent(data, subject);
        } catch {
          return null; // not a valid event: not this run's news (the relay dead-letters it)
        }
      };
      const watching = bus.watch(subjects.runCompleted(), (m) => {
        const e = read(m.data, m.subject);
        if (e?.type === "dev.baton.run.completed" && e.data.runId === runId) resolve(e.data);
      });
      const watchingFailures = bus.watch(subjects.allStageFailed(), (m) => {
        const e = read(m.data, m.subject);
        if (e?.type !== "dev.baton.stage.failed") return;
        const f: StageFailedData = e.data;
        if (f.runId === runId && f.disposition === "fatal") {
          reject(
            new BatonError(
              f.code as BatonErrorCode,
              "fatal",
              `run ${runId} failed at step ${f.step} (cursor ${f.cursor}), dead-lettered on ${subjects.deadLetter(f.step)} (header ${HEADERS.deadLetterReason}): ${f.message}`,
            ),
          );
        }
      });
      watches.push(watching, watchingFailures);
      watching.catch(reject);
      watchingFailures.catch(reject);
    });
  } finally {
    clearTimeout(timer);
    // A watch that never opened has already ended the wait with its error; one that cannot close is said.
    const closeWatch = (w: Promise<Unwatch>): Promise<void> =>
      w.then(
        (unwatch) =>
          unwatch().catch((err: unknown) =>
            jsonLogger().warn("could not close a watch of the run", { runId, error: (err as Error).message }),
          ),
        () => undefined,
      );
    await Promise.all(watches.map(closeWatch));
  }
}
