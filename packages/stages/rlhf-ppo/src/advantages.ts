// Rewards to advantages, in plain TypeScript (one response of n tokens at a time, k = 0..n-1):
//   r_k   = -beta * (log pi(a_k) - log ref(a_k))  + [k = n-1] * (score - noEos penalty)
//   delta = r_k + gamma * V_{k+1} - V_k            (V_n = 0: the episode ends with the response)
//   A_k   = delta + gamma * lam * A_{k+1}          (GAE, a reversed loop)
//   R_k   = A_k + V_k                              (the value model's target)
// then advantages are whitened over every token of the iteration.

export interface Trajectory {
  logp: Float64Array; // [n] log pi(a_k) when sampled
  refLogp: Float64Array; // [n] log ref(a_k)
  values: Float64Array; // [n] V(s_k)
  /** the reward model's score at the response's last token, bias included */
  score: number;
  endedWithEos: boolean;
}

export interface Advantaged {
  advantages: Float64Array; // [n]
  returns: Float64Array; // [n]
  /** sum_k (log pi - log ref): the response's KL to the reference (nats) */
  kl: number;
  /** score minus the EOS penalty: what the reward model gave */
  reward: number;
}

export function gae(tr: Trajectory, o: { beta: number; gamma: number; lam: number; noEosPenalty: number }): Advantaged {
  const n = tr.logp.length;
  const rewards = new Float64Array(n);
  let kl = 0;
  for (let k = 0; k < n; k++) {
    const d = (tr.logp[k] as number) - (tr.refLogp[k] as number);
    kl += d;
    rewards[k] = -o.beta * d;
  }
  const reward = tr.score - (tr.endedWithEos ? 0 : o.noEosPenalty);
  rewards[n - 1] = (rewards[n - 1] as number) + reward;
  const advantages = new Float64Array(n);
  const returns = new Float64Array(n);
  let last = 0;
  for (let k = n - 1; k >= 0; k--) {
    const next = k + 1 < n ? (tr.values[k + 1] as number) : 0;
    const delta = (rewards[k] as number) + o.gamma * next - (tr.values[k] as number);
    last = delta + o.gamma * o.lam * last;
    advantages[k] = last;
    returns[k] = last + (tr.values[k] as number);
  }
  return { advantages, returns, kl, reward };
}

/** Shifts and scales every advantage of the iteration to mean 0, std 1 (in place). */
export function whiten(all: readonly Float64Array[]): void {
  let n = 0;
  let sum = 0;
  for (const a of all) {
    for (const v of a) {
      sum += v;
      n++;
    }
  }
  const mean = sum / Math.max(n, 1);
  let sq = 0;
  for (const a of all) for (const v of a) sq += (v - mean) ** 2;
  const std = Math.sqrt(sq / Math.max(n - 1, 1)) + 1e-8;
  for (const a of all) for (let i = 0; i < a.length; i++) a[i] = ((a[i] as number) - mean) / std;
}

/**
 * The adaptive KL controller of Ziegler et al. (lm-human-preferences): beta grows when the KL runs
 * above target and shrinks below it, by at most 20% per `horizon` rollouts.
 */
export class KlController {
  constructor(
    public beta: number,
    private readonly o: { mode: string; target: number; horizon: number },
  ) {}

  update(meanKl: number, rollouts: number): void {
    if (this.o.mode !== "adaptive") return;
    const error = Math.min(Math.max(meanKl / this.o.target - 1, -0.2), 0.2);
    this.beta *= 1 + (error * rollouts) / this.o.horizon;
  }
}
