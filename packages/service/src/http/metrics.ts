// A small Prometheus registry: counters, gauges and histograms with labels, rendered in the text
// exposition format 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/).
// Small on purpose: a stage exports a handful of series and needs no default process metrics.

export type Labels = Record<string, string>;

interface Metric {
  readonly name: string;
  render(): string[];
}

/** Label set -> series key; labels sorted so {a,b} and {b,a} are one series. */
function seriesKey(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}="${escapeLabel(labels[k] ?? "")}"`)
    .join(",");
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

function sample(name: string, key: string, value: number): string {
  return key ? `${name}{${key}} ${formatValue(value)}` : `${name} ${formatValue(value)}`;
}

function header(name: string, help: string, type: string): string[] {
  return [`# HELP ${name} ${help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`, `# TYPE ${name} ${type}`];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

export class Counter implements Metric {
  private readonly series = new Map<string, number>();
  constructor(readonly name: string, private readonly help: string) {}
  /** Adds `by` (default 1); a counter only goes up. */
  inc(labels: Labels = {}, by = 1): void {
    if (by < 0 || !Number.isFinite(by)) throw new Error(`counter ${this.name}: cannot add ${by}; counters only go up`);
    const key = seriesKey(labels);
    this.series.set(key, (this.series.get(key) ?? 0) + by);
  }
  get(labels: Labels = {}): number {
    return this.series.get(seriesKey(labels)) ?? 0;
  }
  render(): string[] {
    const lines = header(this.name, this.help, "counter");
    for (const [key, value] of this.series) lines.push(sample(this.name, key, value));
    return lines;
  }
}

export class Gauge implements Metric {
  private readonly series = new Map<string, number>();
  constructor(readonly name: string, private readonly help: string) {}
  set(value: number, labels: Labels = {}): void {
    this.series.set(seriesKey(labels), value);
  }
  get(labels: Labels = {}): number | undefined {
    return this.series.get(seriesKey(labels));
  }
  render(): string[] {
    const lines = header(this.name, this.help, "gauge");
    for (const [key, value] of this.series) lines.push(sample(this.name, key, value));
    return lines;
  }
}

interface HistogramSeries {
  labels: Labels;
  counts: number[]; // per bucket, not cumulative; rendered cumulative
  sum: number;
  count: number;
}

export class Histogram implements Metric {
  private readonly series = new Map<string, HistogramSeries>();
  /** `buckets` are upper bounds in ascending order; +Inf is implied. */
  constructor(readonly name: string, private readonly help: string, readonly buckets: readonly number[]) {
    for (let i = 1; i < buckets.length; i++) {
      if (buckets[i]! <= buckets[i - 1]!) throw new Error(`histogram ${name}: buckets must ascend, got ${buckets.join(", ")}`);
    }
  }
  observe(value: number, labels: Labels = {}): void {
    const key = seriesKey(labels);
    let s = this.series.get(key);
    if (!s) {
      s = { labels, counts: new Array<number>(this.buckets.length).fill(0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    const i = this.buckets.findIndex((upper) => value <= upper);
    if (i >= 0) s.counts[i]! += 1;
    s.sum += value;
    s.count += 1;
  }
  /** Number of observations and their sum for one label set. */
  get(labels: Labels = {}): { count: number; sum: number } {
    const s = this.series.get(seriesKey(labels));
    return { count: s?.count ?? 0, sum: s?.sum ?? 0 };
  }
  render(): string[] {
    const lines = header(this.name, this.help, "histogram");
    for (const s of this.series.values()) {
      let cumulative = 0;
      this.buckets.forEach((upper, i) => {
        cumulative += s.counts[i]!;
        lines.push(sample(`${this.name}_bucket`, seriesKey({ ...s.labels, le: formatValue(upper) }), cumulative));
      });
      lines.push(sample(`${this.name}_bucket`, seriesKey({ ...s.labels, le: "+Inf" }), s.count));
      lines.push(sample(`${this.name}_sum`, seriesKey(s.labels), s.sum));
      lines.push(sample(`${this.name}_count`, seriesKey(s.labels), s.count));
    }
    return lines;
  }
}

/** Holds metrics by name and renders them all; a name registered twice is a programming error. */
export class MetricsRegistry {
  private readonly metrics = new Map<string, Metric>();
  static readonly contentType = "text/plain; version=0.0.4; charset=utf-8";

  counter(name: string, help: string): Counter {
    return this.add(new Counter(name, help));
  }
  gauge(name: string, help: string): Gauge {
    return this.add(new Gauge(name, help));
  }
  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    return this.add(new Histogram(name, help, buckets));
  }
  render(): string {
    return [...this.metrics.values()].flatMap((m) => m.render()).join("\n") + "\n";
  }
  private add<M extends Metric>(metric: M): M {
    if (!NAME.test(metric.name)) throw new Error(`metric name "${metric.name}" is not a valid Prometheus name (${NAME})`);
    if (this.metrics.has(metric.name)) throw new Error(`metric "${metric.name}" is registered twice`);
    this.metrics.set(metric.name, metric);
    return metric;
  }
}
