// What every relay test needs: real NATS + S3 (local processes unless NATS_URL / S3_ENDPOINT are set),
// the test process's own view of the relay (bus, store, ledger), and stage services as OS processes.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { injectTraceContext } from "@baton/bus";
import { type BatonEvent, type CheckpointRef, type Recipe, type RecipeStep, subjects } from "@baton/contracts";
import { firstEvent as runFirstEvent, stageEnv } from "@baton/runner";
import { startPublishSpan, type Tracer } from "@baton/service";
import { reapOnExit, startTestServices, type TestServices, tsxNodeArgs } from "@baton/testing";

type StageEnv = Awaited<ReturnType<typeof stageEnv>>;

/**
 * Per-test limit for relay tests: they wait on real processes, which a loaded 2-core machine can slow
 * several-fold (the root config's 60 s is for unit tests).
 */
export const RELAY_TEST_TIMEOUT_MS = 150_000;

/** Short ack_wait so a killed worker's event comes back within seconds, not a minute. */
export const ACK_WAIT_MS = 2_000;

export interface Relay {
  services: TestServices;
  /** The relay as the test process sees it (same env as the stage processes). */
  env: StageEnv;
  /** Environment for stage processes. */
  processEnv: Record<string, string>;
  /** JSON-lines file the stage processes append their spans to. */
  spansFile: string;
  workDir: string;
  close(): Promise<void>;
}

/** extraEnv: more settings for the test's env and every stage process (e.g. BATON_DUPLICATE_WINDOW_MS). */
export async function startRelay(extraEnv: Record<string, string> = {}): Promise<Relay> {
  const services = await startTestServices();
  const workDir = await mkdtemp(join(tmpdir(), "baton-relay-"));
  const processEnv = { ...services.env, BATON_ACK_WAIT_MS: String(ACK_WAIT_MS), BATON_HOME: workDir, ...extraEnv };
  const env = await stageEnv({ ...process.env, ...processEnv });
  return {
    services,
    env,
    processEnv,
    spansFile: join(workDir, "spans.jsonl"),
    workDir,
    async close() {
      await env.close();
      await services.close();
      await rm(workDir, { recursive: true, force: true });
    },
  };
}

export interface StageProcess {
  readonly step: string;
  readonly pid: number;
  /** Base URL of its HTTP face. */
  readonly http: string;
  readonly child: ChildProcess;
  /** Every line it printed (stdout and stderr). */
  readonly output: string[];
  /** Resolves when it has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends a signal; SIGKILL is a crash, SIGTERM a graceful stop at the next step boundary. */
  kill(signal: NodeJS.Signals): void;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
}

const STAGE_ENTRY = fileURLToPath(new URL("../fixtures/relay-stage.ts", import.meta.url));

/**
 * Starts stage service processes (step, or [step, stage]) at once. Unlike a bare Promise.all, a failed
 * start stops the ones that did start before it rethrows, so none is left running.
 */
export async function spawnStages(relay: Relay, steps: (string | [string, string])[]): Promise<StageProcess[]> {
  const results = await Promise.allSettled(
    steps.map((s) => (typeof s === "string" ? spawnStage(relay, s) : spawnStage(relay, s[0], s[1]))),
  );
  const started = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) {
    await Promise.all(started.map((s) => s.stop()));
    throw failed.reason;
  }
  return started;
}

/** Starts a stage service process serving `step`; resolves once it pulls from the bus. */
export async function spawnStage(
  relay: Relay,
  step: string,
  stage = step,
  extraEnv: Record<string, string> = {},
): Promise<StageProcess> {
  const child = spawn(process.execPath, [...tsxNodeArgs(), STAGE_ENTRY], {
    env: {
      ...process.env,
      ...relay.processEnv,
      BATON_STEP: step,
      BATON_STAGE: stage,
      TEST_SPANS_FILE: relay.spansFile,
      ...extraEnv,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  reapOnExit(child);
  const output: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const http = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`stage ${step} (pid ${child.pid}) did not get ready in 60 s:\n${output.join("\n")}`)),
      60_000,
    );
    const onLine = (line: string) => {
      output.push(line);
      if (!line.includes('"stage ready"')) return;
      clearTimeout(timer);
      resolve((JSON.parse(line) as { http: string }).http);
    };
    lines(child.stdout!, onLine);
    lines(child.stderr!, (l) => output.push(l));
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(
        new Error(`stage ${step} exited before it was ready (code ${code}, signal ${signal}):\n${output.join("\n")}`),
      );
    });
  });
  return {
    step,
    pid: child.pid!,
    http,
    child,
    output,
    exited,
    kill: (signal) => void child.kill(signal),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function lines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let buffer = "";
  stream.on("data", (chunk: Buffer) => {
    buffer += chunk.toString();
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      onLine(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
    }
  });
}

/** A recipe of tensor-stage steps; `config` per step is the tensor stage's step config. */
export function tensorRecipe(
  name: string,
  steps: { name: string; stage?: string; config?: Record<string, number> }[],
  seed = 7,
): Recipe {
  const pipeline: RecipeStep[] = steps.map((s) => ({
    name: s.name,
    stage: s.stage ?? s.name,
    config: s.config ?? {},
    data: [],
  }));
  return { name, seed, steps: pipeline };
}

/** Polls until `check` returns a value (not undefined), or fails after `timeoutMs` saying what it waited for. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 60_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** GET a stage's HTTP face as JSON. */
export async function getJson<T>(stage: StageProcess, path: string): Promise<T> {
  const res = await fetch(stage.http + path);
  return (await res.json()) as T;
}

/** Spans the stage processes exported so far. */
export interface SpanRecord {
  service: string;
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  kind: number;
  status: number;
  links: { traceId: string; spanId: string }[];
  attributes: Record<string, unknown>;
}

export async function readSpans(relay: Relay): Promise<SpanRecord[]> {
  const text = await readFile(relay.spansFile, "utf8").catch(() => "");
  return text
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as SpanRecord);
}

/** The first checkpoint.ready of a run (cursor 0), as `baton run` would publish it. */
export function firstEvent(
  recipe: Recipe,
  runId: string,
  checkpoint: CheckpointRef | null = null,
): BatonEvent<"dev.baton.checkpoint.ready"> {
  return runFirstEvent({ runId, recipe, checkpoint, source: "tests/relay" });
}

/**
 * Publishes the first event of a run to its first step; with a tracer, inside a publish span whose
 * context travels in the headers (the producer the first stage links to). Returns that span's id.
 */
export async function publishRun(
  relay: Relay,
  recipe: Recipe,
  runId: string,
  tracer?: Tracer,
): Promise<string | undefined> {
  const event = firstEvent(recipe, runId);
  const subject = subjects.checkpointReady(recipe.steps[0]!.name);
  const headers: Record<string, string> = {};
  const span = tracer ? startPublishSpan(tracer, subject, event.id) : undefined;
  if (span) injectTraceContext(span, headers);
  await relay.env.bus.publish(subject, event, { msgId: event.id, headers });
  span?.end();
  return span?.spanContext().spanId;
}
