import { describe, expect, it } from "vitest";
import { MetricsRegistry } from "./metrics.ts";

describe("MetricsRegistry", () => {
  it("renders counters and gauges with sorted, escaped labels", () => {
    const r = new MetricsRegistry();
    const c = r.counter("jobs_total", "Jobs.");
    c.inc({ stage: "sft", reason: 'bad "input"\n' });
    c.inc({ reason: 'bad "input"\n', stage: "sft" }, 2);
    r.gauge("loss", "Loss.").set(2.5);
    expect(r.render()).toBe(
      [
        "# HELP jobs_total Jobs.",
        "# TYPE jobs_total counter",
        'jobs_total{reason="bad \\"input\\"\\n",stage="sft"} 3',
        "# HELP loss Loss.",
        "# TYPE loss gauge",
        "loss 2.5",
        "",
      ].join("\n"),
    );
  });

  it("renders histogram buckets cumulatively with +Inf, sum and count", () => {
    const r = new MetricsRegistry();
    const h = r.histogram("d_seconds", "Durations.", [0.1, 1]);
    for (const v of [0.05, 0.5, 0.7, 3]) h.observe(v, { stage: "a" });
    const lines = r.render().split("\n");
    expect(lines).toContain('d_seconds_bucket{le="0.1",stage="a"} 1');
    expect(lines).toContain('d_seconds_bucket{le="1",stage="a"} 3');
    expect(lines).toContain('d_seconds_bucket{le="+Inf",stage="a"} 4');
    expect(lines).toContain('d_seconds_sum{stage="a"} 4.25');
    expect(lines).toContain('d_seconds_count{stage="a"} 4');
  });

  it("refuses what Prometheus would reject: a counter going down, a bad name, a name twice, unsorted buckets", () => {
    const r = new MetricsRegistry();
    expect(() => r.counter("x_total", "").inc({}, -1)).toThrow(/only go up/);
    expect(() => r.gauge("bad-name", "")).toThrow(/not a valid Prometheus name/);
    expect(() => r.gauge("x_total", "")).toThrow(/registered twice/);
    expect(() => r.histogram("h", "", [1, 0.5])).toThrow(/must ascend/);
  });
});
