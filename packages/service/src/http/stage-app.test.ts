import { describe, expect, it } from "vitest";
import { families, sampleValue } from "./exposition.ts";
import { serveStageApp } from "./serve.ts";
import { createStageApp } from "./stage-app.ts";
import { type ProgressEvent, StageMonitor, type StageStatus } from "./stage-monitor.ts";

const ok = async () => undefined;

describe("stage HTTP app", () => {
  it("answers /healthz, and /readyz only when every probe passes, naming the one that failed", async () => {
    let storeDown = false;
    const app = createStageApp({
      monitor: new StageMonitor("sft"),
      probes: {
        bus: ok,
        store: async () => {
          if (storeDown)
            throw Object.assign(new Error("connect ECONNREFUSED http://minio:s3cr3t-pass@127.0.0.1:9000"), {
              code: "ECONNREFUSED",
            });
        },
        slow: () => new Promise(() => undefined),
      },
      probeTimeoutMs: 50,
      readyCacheMs: 0,
    });
    expect(await (await app.request("/healthz")).json()).toEqual({ ok: true, stage: "sft" });

    let res = await app.request("/readyz");
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      ready: false,
      checks: { bus: "ok", store: "ok", slow: "slow did not answer within 50 ms" },
    });

    const ready = createStageApp({ monitor: new StageMonitor("sft"), probes: { bus: ok, store: ok } });
    expect((await ready.request("/readyz")).status).toBe(200);

    storeDown = true;
    res = await app.request("/readyz");
    // a short reason, never the error's text (it can quote an endpoint and its password)
    const body = await res.text();
    expect((JSON.parse(body) as { checks: Record<string, string> }).checks["store"]).toBe(
      "store unreachable (ECONNREFUSED)",
    );
    expect(body).not.toContain("s3cr3t");
  });

  it("answers /readyz from one probe round per interval, however many ask", async () => {
    let rounds = 0;
    const probes = { bus: async () => void rounds++ };
    const cached = createStageApp({ monitor: new StageMonitor("sft"), probes, readyCacheMs: 60_000 });
    const answers = await Promise.all(Array.from({ length: 50 }, () => cached.request("/readyz")));
    expect(answers.every((r) => r.status === 200)).toBe(true);
    expect((await cached.request("/readyz")).status).toBe(200);
    expect(rounds).toBe(1);
    const fresh = createStageApp({ monitor: new StageMonitor("sft"), probes, readyCacheMs: 0 });
    await fresh.request("/readyz");
    await fresh.request("/readyz");
    expect(rounds).toBe(3);
  });

  it("reports run, step, progress and loss on /status and /metrics", async () => {
    const monitor = new StageMonitor("pretrain");
    const app = createStageApp({ monitor, probes: {} });
    monitor.eventReceived();
    monitor.workStarted({ runId: "r1", step: "base", cursor: 0, eventId: "e1" });
    monitor.bytesMoved("download", 1024);
    monitor.progress({ done: 25, total: 100, loss: 3.25 });

    const status = (await (await app.request("/status")).json()) as StageStatus;
    expect(status).toMatchObject({
      stage: "pretrain",
      state: "working",
      runId: "r1",
      step: "base",
      cursor: 0,
      loss: 3.25,
      progress: { done: 25, total: 100, fraction: 0.25 },
    });

    monitor.stepFinished(1500);
    monitor.eventReceived();
    monitor.workStarted({ runId: "r2", step: "base", cursor: 0, eventId: "e2" });
    monitor.eventFailed({ disposition: "dead-lettered", reason: "manifest.json missing" });

    const res = await app.request("/metrics");
    expect(res.headers.get("content-type")).toContain("text/plain; version=0.0.4");
    const text = await res.text();
    const stage = { stage: "pretrain" };
    expect(sampleValue(text, "baton_events_consumed_total", stage)).toBe(2);
    expect(sampleValue(text, "baton_events_failed_total", { ...stage, disposition: "dead-lettered" })).toBe(1);
    expect(sampleValue(text, "baton_bytes_moved_total", { ...stage, direction: "download" })).toBe(1024);
    expect(sampleValue(text, "baton_loss", stage)).toBe(3.25);
    // Histogram buckets are cumulative: the 1.5 s step is in every bucket from le=5 up, none below.
    const buckets = families(text).find((f) => f.name === "baton_step_duration_seconds")?.metrics[0]?.buckets;
    expect(buckets).toMatchObject({ "1": "0", "5": "1", "+Inf": "1" });
    expect(text).toMatch(/^baton_step_duration_seconds_count\{stage="pretrain"\} 1$/m);

    const after = (await (await app.request("/status")).json()) as StageStatus;
    expect(after).toMatchObject({
      state: "failed",
      runId: "r2",
      lastError: "manifest.json missing",
      stepsCompleted: 1,
    });
  });

  it("says which routes exist on a 404", async () => {
    const res = await createStageApp({ monitor: new StageMonitor("x"), probes: {} }).request("/nope");
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: string }).error).toContain("/healthz");
  });

  it("streams progress as server-sent events over a real socket", async () => {
    const monitor = new StageMonitor("instruct");
    const served = await serveStageApp(createStageApp({ monitor, probes: {} }), { hostname: "127.0.0.1" });
    try {
      const res = await fetch(`${served.url}/events`);
      expect(res.headers.get("content-type")).toContain("text/event-stream");
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      const received: { event: string; data: unknown }[] = [];
      let buffer = "";
      const readEvents = async (count: number) => {
        while (received.length < count) {
          const { value, done } = await reader.read();
          if (done) throw new Error("event stream ended early");
          buffer += value;
          let end: number;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const event = /^event: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (event && data) received.push({ event, data: JSON.parse(data) });
          }
        }
      };
      await readEvents(1);
      expect(received[0]).toMatchObject({ event: "status", data: { stage: "instruct", state: "idle" } });

      monitor.eventReceived();
      monitor.workStarted({ runId: "r9", step: "chat", cursor: 2, eventId: "e9" });
      monitor.progress({ done: 1, total: 4, loss: 1.5 });
      monitor.stepFinished(20);
      await readEvents(4);
      const events = received.slice(1).map((r) => r.data as ProgressEvent);
      expect(events.map((e) => e.type)).toEqual(["started", "progress", "finished"]);
      expect(events[1]).toMatchObject({ runId: "r9", step: "chat", done: 1, total: 4, loss: 1.5 });
      await reader.cancel();
    } finally {
      await served.close();
    }
  });
});
