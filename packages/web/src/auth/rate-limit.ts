// A fixed-window request budget per key (a user's name, or the client address for login attempts):
// enough to stop one account or script from flooding the app, cheap enough to check on every request.
export interface RateLimit {
  /** requests allowed per window */
  requests: number;
  windowMs: number;
}

export class RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(readonly limit: RateLimit) {}

  /** Counts one request for `key`; returns the seconds to wait when it is over budget, else 0. */
  take(key: string, now = Date.now()): number {
    let w = this.windows.get(key);
    if (!w || now - w.start >= this.limit.windowMs) {
      w = { start: now, count: 0 };
      this.windows.set(key, w);
      if (this.windows.size > 10_000) this.sweep(now);
    }
    w.count++;
    return w.count > this.limit.requests ? Math.ceil((w.start + this.limit.windowMs - now) / 1000) : 0;
  }

  private sweep(now: number): void {
    for (const [k, w] of this.windows) if (now - w.start >= this.limit.windowMs) this.windows.delete(k);
  }
}
