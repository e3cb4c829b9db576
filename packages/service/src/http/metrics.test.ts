import { describe, expect, it } from "vitest";
import { families, sampleValue } from "./exposition.ts";
import { createStageApp } from "./stage-app.ts";
import { StageMonitor } from "./stage-monitor.ts";

describe("GET /metrics", () => {
  it("is a valid Prometheus exposition with Baton's series and the process's own", async () => {
    const monitor = new StageMonitor("reward");
    monitor.eventReceived();
    monitor.eventFailed({ disposition: "retry", reason: 'bad "input"\nsecond line' });
    const res = await createStageApp({ monitor, probes: {} }).request("/metrics");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain; version=0.0.4");
    const text = await res.text();
    const byName = new Map(families(text).map((f) => [f.name, f.type]));
    expect(byName.get("baton_events_consumed_total")).toBe("COUNTER");
    expect(byName.get("baton_step_duration_seconds")).toBe("HISTOGRAM");
    expect(byName.get("baton_loss")).toBe("GAUGE");
    // process metrics come from the library: what a dashboard for any Node service expects
    expect(byName.get("process_cpu_seconds_total")).toBe("COUNTER");
    expect(sampleValue(text, "process_resident_memory_bytes")).toBeGreaterThan(0);
    expect(sampleValue(text, "baton_events_failed_total", { stage: "reward", disposition: "retry" })).toBe(1);
  });

  it("keeps each monitor's series to itself (two services in one process do not collide)", async () => {
    const a = new StageMonitor("a");
    const b = new StageMonitor("b");
    a.eventReceived();
    expect(sampleValue(await a.registry.metrics(), "baton_events_consumed_total", { stage: "a" })).toBe(1);
    expect(sampleValue(await b.registry.metrics(), "baton_events_consumed_total", { stage: "a" })).toBeUndefined();
  });
});
