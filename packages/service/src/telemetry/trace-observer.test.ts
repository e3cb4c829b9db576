import { injectTraceContext, traceCarrierOf, withTraceAttributes } from "@baton/bus";
import { BatonError, createEvent, encodeEvent } from "@baton/contracts";
import { exampleData } from "@baton/contracts/testing";
import type { Phase, WorkInfo } from "@baton/runner";
import { SpanStatusCode } from "@opentelemetry/api";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace-node";
import { describe, expect, it } from "vitest";
import { startPublishSpan } from "./stage-trace.ts";
import { traceObserver } from "./trace-observer.ts";
import { createTelemetry } from "./tracing.ts";

const ready = createEvent({
  type: "dev.baton.checkpoint.ready",
  source: "test",
  id: "run-1:1:checkpoint.ready",
  data: exampleData["dev.baton.checkpoint.ready"],
});
const ref = exampleData["dev.baton.checkpoint.ready"].checkpoint!;

function work(headers: Record<string, string>): WorkInfo {
  return {
    step: "sft",
    stage: "instruct",
    subject: "baton.checkpoint.ready.sft",
    headers,
    deliveryCount: 2,
    receivedAt: Date.now(),
  };
}

/** A tracer over an in-memory exporter, and the trace headers of a producer's (ended) publish span for `ready`. */
function producedEvent() {
  const exporter = new InMemorySpanExporter();
  const { tracer } = createTelemetry({ serviceName: "instruct", exporter, env: {} });
  const producer = startPublishSpan(tracer, "baton.checkpoint.ready.sft", ready.id);
  const headers: Record<string, string> = {};
  injectTraceContext(producer, headers);
  producer.end();
  return { exporter, tracer, producer, headers };
}

describe("traceObserver", () => {
  it("follows a delivery as the runner drives it: one new trace linked to the producer, phase spans, emit context on the next event", async () => {
    const { exporter, tracer, producer, headers } = producedEvent();

    const w = traceObserver(tracer).onWork!(work(headers))!;
    w.onEvent!(ready);
    const published: Record<string, string>[] = [];
    for (const phase of ["download", "train", "upload", "commit", "emit"] as Phase[]) {
      await w.phase!(phase, async () => {
        if (phase === "emit") published.push(w.headers!());
      });
    }
    const traceId = w.traceId!();
    w.onEnd!({ kind: "committed", runId: "run-1", cursor: 1, checkpoint: ref, next: "run.completed", durationMs: 5 });

    const spans = exporter.getFinishedSpans();
    const root = spans.find((s) => s.name === "sft process")!;
    expect(root.spanContext().traceId).toBe(traceId);
    expect(traceId).not.toBe(producer.spanContext().traceId);
    expect(root.links[0]?.context.spanId).toBe(producer.spanContext().spanId);
    expect(root.attributes).toMatchObject({
      "baton.run_id": "run-1",
      "baton.cursor": 1,
      "messaging.message.id": ready.id,
      "messaging.consumer.group.name": "step-sft",
      "messaging.nats.delivery_count": 2,
      "baton.outcome": "committed",
    });
    const children = spans.filter((s) => s.parentSpanContext?.spanId === root.spanContext().spanId);
    expect(children.map((s) => s.name)).toEqual(["receive", "download", "train", "upload", "commit", "emit"]);
    const emit = children.find((s) => s.name === "emit")!;
    expect(published[0]?.["traceparent"]).toContain(emit.spanContext().spanId);
  });

  it("links to the producer named only by the event's traceparent attribute (no trace headers)", () => {
    const { exporter, tracer, producer, headers } = producedEvent();
    const event = withTraceAttributes(ready, { ...headers, tracestate: "baton=1" });
    expect(event).toMatchObject({ traceparent: headers["traceparent"], tracestate: "baton=1" });
    expect(
      withTraceAttributes(event, { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" })
        .traceparent,
    ).toBe(headers["traceparent"]); // its own wins
    expect(withTraceAttributes(ready, { traceparent: "not-a-trace" })).toBe(ready);

    const carrier = traceCarrierOf({ "Nats-Msg-Id": ready.id }, encodeEvent(event));
    expect(carrier).toEqual({ "Nats-Msg-Id": ready.id, traceparent: headers["traceparent"], tracestate: "baton=1" });
    const w = traceObserver(tracer).onWork!(work(carrier))!;
    w.onEvent!(event);
    w.onEnd!({ kind: "committed", runId: "run-1", cursor: 1, checkpoint: ref, next: "run.completed", durationMs: 5 });
    const root = exporter.getFinishedSpans().find((s) => s.name === "sft process")!;
    expect(root.links[0]?.context.spanId).toBe(producer.spanContext().spanId);
    expect(traceCarrierOf({}, new TextEncoder().encode("not json"))).toEqual({});
  });

  it("marks the trace failed with the reason when the event is dead-lettered before it decodes", () => {
    const exporter = new InMemorySpanExporter();
    const { tracer } = createTelemetry({ serviceName: "instruct", exporter, env: {} });
    const w = traceObserver(tracer).onWork!(work({}))!;
    const error = BatonError.fatal("EVENT_MALFORMED", "event bytes are not JSON (at byte 0)");
    w.onEnd!({ kind: "dead-lettered", runId: null, cursor: null, error, durationMs: 1 });
    const [receive, root] = exporter.getFinishedSpans();
    expect(receive?.name).toBe("receive");
    expect(receive?.status.code).toBe(SpanStatusCode.ERROR);
    expect(root?.status).toEqual({ code: SpanStatusCode.ERROR, message: error.message });
    expect(root?.links).toEqual([]);
  });
});
