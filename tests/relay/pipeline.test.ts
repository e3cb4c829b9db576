// Three deterministic test stages, each its own OS process, relay one run over real NATS JetStream and
// a real S3 server: the run completes, lineage walks back to the first checkpoint, the final bytes are
// exactly what the three transforms give, each stage's work is one trace linked to its producer, and
// each service's HTTP face reports the work.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { awaitRun, lineage, openCheckpoint } from "@baton/runner";
import { createTelemetry, InMemorySpanExporter } from "@baton/service";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeTensor, initialTensor, stepConfig, update } from "../fixtures/tensor-stage.ts";
import {
  getJson,
  publishRun,
  RELAY_TEST_TIMEOUT_MS,
  type Relay,
  readSpans,
  type StageProcess,
  spawnStages,
  startRelay,
  tensorRecipe,
  waitFor,
} from "./harness.ts";

const STEPS = ["shape", "tune", "polish"] as const;
const recipe = tensorRecipe("three-stages", [
  { name: "shape", config: { steps: 3, scale: 0.5, shift: 1 } },
  { name: "tune", config: { steps: 4, scale: 1.1, shift: -0.2 } },
  { name: "polish", config: { steps: 2, scale: 0.95, shift: 0.05 } },
]);

describe("a three-stage relay over NATS + S3, one process per stage", () => {
  let relay: Relay;
  let stages: StageProcess[] = [];
  const exporter = new InMemorySpanExporter();
  const { tracer } = createTelemetry({ serviceName: "tests-relay", exporter, env: {} });
  const runId = `pipeline-${Date.now().toString(36)}`;
  let producerSpanId: string | undefined;

  beforeAll(async () => {
    relay = await startRelay();
    stages = await spawnStages(relay, [...STEPS]);
  });
  afterAll(async () => {
    await Promise.all(stages.map((s) => s.stop()));
    await relay?.close();
  });

  it(
    "reaches run.completed with the exact bytes of the three transforms; lineage walks back to random init",
    async () => {
      const completed = awaitRun(relay.env.bus, runId, { timeoutMs: 90_000 });
      producerSpanId = await publishRun(relay, recipe, runId, tracer);
      const done = await completed;

      const hops = await lineage(relay.env.store, done.checkpoint);
      expect(hops.map((h) => h.manifest.step)).toEqual(["polish", "tune", "shape"]);
      expect(hops.map((h) => h.manifest.cursor)).toEqual([2, 1, 0]);
      expect(hops[2]!.manifest.parent).toBeNull();
      expect(hops[0]!.manifest.parent?.uri).toBe(hops[1]!.uri);
      expect(hops[1]!.manifest.parent?.uri).toBe(hops[2]!.uri);
      expect(hops[0]!.manifest).toMatchObject({
        runId,
        stage: "polish",
        implementation: "tensor-test",
        version: "1.0.0",
      });

      // The same transforms, computed here: the relay must neither skip, repeat nor reorder a step.
      const x = initialTensor(recipe.seed!);
      for (const step of recipe.steps) {
        const c = stepConfig(step.config as Record<string, number>);
        for (let t = 1; t <= c.steps; t++) update(x, t, c);
      }
      const opened = await openCheckpoint(relay.env.store, done.checkpoint, join(relay.workDir, "final"));
      const bytes = await readFile(join(opened.dir, "model.safetensors"));
      expect(Buffer.compare(bytes, Buffer.from(encodeTensor(x, 2)))).toBe(0);
    },
    RELAY_TEST_TIMEOUT_MS,
  );

  it(
    "makes each stage's work one trace, linked to its producer: the run's publisher, then the previous stage's emit",
    async () => {
      const roots = await waitFor(
        "three stage traces",
        async () => {
          const spans = await readSpans(relay);
          const found = spans.filter((s) => s.name.endsWith(" process") && s.attributes["baton.run_id"] === runId);
          return found.length === 3 ? { spans, found } : undefined;
        },
        30_000,
      );
      const byStep = new Map(roots.found.map((r) => [r.attributes["baton.step"], r]));
      expect(new Set(roots.found.map((r) => r.traceId)).size).toBe(3);
      expect(byStep.get("shape")!.links.map((l) => l.spanId)).toEqual([producerSpanId]);
      for (const [prev, next] of [
        ["shape", "tune"],
        ["tune", "polish"],
      ] as const) {
        const prevRoot = byStep.get(prev)!;
        const emit = roots.spans.find(
          (s) => s.traceId === prevRoot.traceId && s.name === "emit" && s.parentSpanId === prevRoot.spanId,
        );
        expect(emit, `${prev} has an emit span`).toBeDefined();
        expect(byStep.get(next)!.links).toEqual([{ traceId: prevRoot.traceId, spanId: emit!.spanId }]);
      }
      const phases = roots.spans.filter((s) => s.parentSpanId === byStep.get("tune")!.spanId).map((s) => s.name);
      expect(phases).toEqual(expect.arrayContaining(["receive", "download", "train", "upload", "commit", "emit"]));
      expect(byStep.get("tune")!.attributes).toMatchObject({
        "messaging.system": "nats",
        "messaging.destination.name": "baton.checkpoint.ready.tune",
        "messaging.operation.type": "process",
      });
    },
    RELAY_TEST_TIMEOUT_MS,
  );

  it(
    "shows the work on each service's /healthz, /readyz, /status and /metrics",
    async () => {
      const tune = stages[1]!;
      expect(await getJson(tune, "/healthz")).toEqual({ ok: true, stage: "tune" });
      expect(await getJson(tune, "/readyz")).toEqual({ ready: true, checks: { bus: "ok", store: "ok" } });
      const status = await getJson<{ stepsCompleted: number; state: string }>(tune, "/status");
      expect(status).toMatchObject({ state: "idle", stepsCompleted: 1 });
      const metrics = await (await fetch(`${tune.http}/metrics`)).text();
      expect(metrics).toContain('baton_events_consumed_total{stage="tune"} 1');
      expect(metrics).toMatch(/baton_bytes_moved_total\{direction="download",stage="tune"\} [1-9]/);
      expect(metrics).toMatch(/baton_loss\{stage="tune"\} \d/);
    },
    RELAY_TEST_TIMEOUT_MS,
  );

  it(
    "never writes the S3 secret key to any stage's logs",
    () => {
      const secret = relay.processEnv["AWS_SECRET_ACCESS_KEY"]!;
      expect(secret.length).toBeGreaterThan(0);
      for (const stage of stages) {
        expect(stage.output.length).toBeGreaterThan(1);
        expect(stage.output.filter((line) => line.includes(secret))).toEqual([]);
      }
    },
    RELAY_TEST_TIMEOUT_MS,
  );
});
