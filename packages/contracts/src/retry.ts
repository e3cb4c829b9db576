/**
 * The ONE retry policy: how often a step is attempted and how long to wait between attempts.
 * Attempt n (1-based) that fails retryably is nak'ed with backoffMs[min(n-1, last)]; attempt
 * maxAttempts that fails goes to the dead-letter subject instead.
 */
export interface RetryPolicy {
  maxAttempts: number;
  backoffMs: number[];
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 5, backoffMs: [1_000, 5_000, 15_000, 30_000, 60_000] };

export function backoffFor(policy: RetryPolicy, attempt: number): number {
  const i = Math.min(Math.max(attempt - 1, 0), policy.backoffMs.length - 1);
  return policy.backoffMs[i] ?? 0;
}

export function isLastAttempt(policy: RetryPolicy, attempt: number): boolean {
  return attempt >= policy.maxAttempts;
}

/**
 * The wait before retrying after the bus or store faulted `faults` times in a row (a pull loop, a
 * watch being opened while nats-server restarts): doubling from 200 ms, at most `capMs`.
 */
export function faultBackoffMs(faults: number, capMs = 5_000): number {
  return Math.min(capMs, 100 * 2 ** Math.min(Math.max(faults, 1), 6));
}
