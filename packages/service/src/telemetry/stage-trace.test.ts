import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { extractTraceContext, injectTraceContext } from "@baton/bus";
import { startNats } from "@baton/testing";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { headers as natsHeaders } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace-node";
import { describe, expect, it } from "vitest";
import { StageTrace, startPublishSpan } from "./stage-trace.ts";
import { createTelemetry } from "./tracing.ts";

function event(step: string, cursor: number, headers?: Record<string, string>) {
  return {
    stage: step,
    step,
    cursor,
    runId: "run-1",
    eventId: `run-1:${cursor}:checkpoint.ready`,
    subject: `baton.checkpoint.ready.${step}`,
    headers,
  };
}

describe("trace context in message headers", () => {
  it("round-trips through NATS MsgHdrs and plain records; missing or malformed context gives none", () => {
    const { tracer } = createTelemetry({ serviceName: "t", env: {} });
    const span = startPublishSpan(tracer, "baton.checkpoint.ready.a", "e1");
    const h = natsHeaders();
    injectTraceContext(span, h);
    expect(h.get("traceparent")).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
    expect(extractTraceContext(h)?.spanId).toBe(span.spanContext().spanId);

    const record: Record<string, string> = {};
    injectTraceContext(span, record);
    expect(extractTraceContext(record)?.traceId).toBe(span.spanContext().traceId);

    expect(extractTraceContext(natsHeaders())).toBeUndefined();
    expect(extractTraceContext({ traceparent: "00-not-a-trace-01" })).toBeUndefined();
    expect(extractTraceContext(undefined)).toBeUndefined();
  });

  it("survives a real JetStream publish and fetch", async () => {
    const nats = await startNats();
    const nc = await connect({ servers: nats.url });
    try {
      await (await jetstreamManager(nc)).streams.add({ name: "TRACE", subjects: ["trace.>"] });
      const { tracer } = createTelemetry({ serviceName: "t", env: {} });
      const span = startPublishSpan(tracer, "trace.a", "e1");
      const h = natsHeaders();
      injectTraceContext(span, h);
      const js = jetstream(nc);
      await js.publish("trace.a", "{}", { headers: h });
      const consumer = await js.consumers.get("TRACE");
      const msg = await consumer.next({ expires: 2_000 });
      expect(extractTraceContext(msg?.headers)).toMatchObject({
        traceId: span.spanContext().traceId,
        spanId: span.spanContext().spanId,
      });
    } finally {
      await nc.close();
      await nats.dispose();
    }
  });
});

describe("StageTrace", () => {
  it("makes each stage's work a new trace linked to its producer's emit span, with one child span per phase", async () => {
    const exporter = new InMemorySpanExporter();
    const { tracer } = createTelemetry({ serviceName: "relay", exporter, env: {} });

    const start = startPublishSpan(tracer, "baton.checkpoint.ready.a", "run-1:0:checkpoint.ready");
    const firstHeaders: Record<string, string> = {};
    injectTraceContext(start, firstHeaders);
    start.end();

    const a = StageTrace.start(tracer, event("a", 0, firstHeaders));
    for (const phase of ["download", "train", "upload", "commit"] as const) await a.phase(phase, () => undefined);
    const next = await a.phase("emit", () => a.headersFor() as Record<string, string>);
    a.end();

    const b = StageTrace.start(tracer, event("b", 1, next));
    await b.phase("train", () => undefined);
    b.end();

    const spans = exporter.getFinishedSpans();
    const rootA = spans.find((s) => s.name === "a process")!;
    const rootB = spans.find((s) => s.name === "b process")!;
    const emitA = spans.find((s) => s.name === "emit" && s.spanContext().traceId === rootA.spanContext().traceId)!;

    // Three traces: the publisher's, a's, b's.
    expect(new Set(spans.map((s) => s.spanContext().traceId)).size).toBe(3);
    expect(rootA.parentSpanContext).toBeUndefined();
    expect(rootA.links.map((l) => l.context.spanId)).toEqual([start.spanContext().spanId]);
    expect(rootB.links.map((l) => l.context.spanId)).toEqual([emitA.spanContext().spanId]);
    expect(rootB.links[0]?.context.traceId).toBe(rootA.spanContext().traceId);

    const childrenOfA = spans
      .filter((s) => s.parentSpanContext?.spanId === rootA.spanContext().spanId)
      .map((s) => s.name);
    expect(childrenOfA).toEqual(["receive", "download", "train", "upload", "commit", "emit"]);
    expect(rootA.kind).toBe(SpanKind.CONSUMER);
    expect(emitA.kind).toBe(SpanKind.PRODUCER);
    expect(rootA.attributes).toMatchObject({
      "messaging.system": "nats",
      "messaging.destination.name": "baton.checkpoint.ready.a",
      "messaging.message.id": "run-1:0:checkpoint.ready",
      "messaging.operation.type": "process",
      "baton.run_id": "run-1",
      "baton.cursor": 0,
    });
    expect(emitA.attributes["messaging.operation.type"]).toBe("send");
  });

  it("marks a failed phase and the stage's span with the error", async () => {
    const exporter = new InMemorySpanExporter();
    const { tracer } = createTelemetry({ serviceName: "relay", exporter, env: {} });
    const work = StageTrace.start(tracer, event("a", 0));
    const boom = new Error("sha256 of model.safetensors does not match manifest.json");
    await expect(work.phase("download", () => Promise.reject(boom))).rejects.toBe(boom);
    work.end(boom);
    const [receive, download, root] = exporter.getFinishedSpans();
    expect(receive?.name).toBe("receive");
    expect(download?.status).toEqual({ code: SpanStatusCode.ERROR, message: boom.message });
    expect(download?.events[0]?.name).toBe("exception");
    expect(root?.status.code).toBe(SpanStatusCode.ERROR);
    expect(root?.links).toEqual([]);
  });
});

describe("OTLP export", () => {
  it("posts spans to OTEL_EXPORTER_OTLP_ENDPOINT/v1/traces", async () => {
    const bodies: { path: string; body: string }[] = [];
    const collector = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        bodies.push({ path: req.url ?? "", body });
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((r) => collector.listen(0, "127.0.0.1", r));
    const port = (collector.address() as AddressInfo).port;
    try {
      const telemetry = createTelemetry({
        serviceName: "baton-test",
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}/` },
      });
      expect(telemetry.otlp).toBe(true);
      telemetry.tracer.startSpan("exported-span").end();
      await telemetry.shutdown();
      expect(bodies.map((b) => b.path)).toEqual(["/v1/traces"]);
      expect(bodies[0]?.body).toContain("exported-span");
      expect(bodies[0]?.body).toContain("baton-test");
    } finally {
      await new Promise((r) => collector.close(r));
    }
  });
});
