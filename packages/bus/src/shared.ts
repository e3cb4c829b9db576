import { type BatonEvent, encodeEvent, validateEvent } from "@baton/contracts";
import { withTraceAttributes } from "./propagation.ts";

/**
 * Every publish validates first: a producer bug is caught where it is made, not downstream. The trace
 * context of the headers also becomes the event's distributed-tracing attributes (traceparent,
 * tracestate), so a consumer that reads only the event (another broker, a log) still finds its trace.
 */
export function encodeForPublish(subject: string, event: BatonEvent, headers?: Record<string, string>): Uint8Array {
  return encodeEvent(validateEvent(withTraceAttributes(event, headers), `event ${event.id} published to ${subject}`));
}

/** NATS subject match with `*` (one token) and `>` (the rest). */
export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split(".");
  const s = subject.split(".");
  for (let i = 0; i < f.length; i++) {
    if (f[i] === ">") return s.length > i;
    if (i >= s.length) return false;
    if (f[i] !== "*" && f[i] !== s[i]) return false;
  }
  return f.length === s.length;
}

/** Header values are one line and bounded (NATS headers are line-based; reasons can be long). */
export function headerValue(value: string): string {
  const oneLine = value.replace(/[\r\n]+/g, " | ");
  return oneLine.length > 2000 ? `${oneLine.slice(0, 1997)}...` : oneLine;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
