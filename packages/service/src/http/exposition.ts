// Reads Prometheus text exposition back into numbers, through an independent parser (not the library
// that wrote it), so a test checks what a scraper would see. Test use only.
import parse from "parse-prometheus-text-format";

export interface Family {
  name: string;
  type: string;
  metrics: { value?: string; labels?: Record<string, string>; buckets?: Record<string, string> }[];
}

export function families(text: string): Family[] {
  return parse(text) as Family[];
}

/** The value of the one sample of `name` whose labels include `labels`; undefined when none. */
export function sampleValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const family = families(text).find((f) => f.name === name);
  const m = family?.metrics.find((s) => Object.entries(labels).every(([k, v]) => s.labels?.[k] === v));
  return m?.value === undefined ? undefined : Number(m.value);
}
