// Steps 2-4 of a PPO iteration, each a function: score the rollouts (policy, reference, value and
// reward models, forward only), turn rewards into advantages, update both models over shuffled
// minibatches. Rows: a minibatch of M responses, T tokens each; a response of n tokens after a prompt
// of P sits at positions P-1 .. P+n-2 of its row (where its tokens are predicted).
import { keyedPermutation } from "@baton/data";
import type { TrainStep } from "@baton/engine";
import { type SeqProgram, type SeqRows, seqRows } from "@baton/stage-lm";
import { type Advantaged, gae, whiten } from "./advantages.ts";
import type { Rollout } from "./rollout.ts";

export interface Scored {
  logp: Float64Array[]; // [rollout][n] under the policy that sampled
  refLogp: Float64Array[];
  values: Float64Array[];
  entropy: Float64Array[];
  scores: number[]; // reward model at the last token, bias included
}

export interface Shape {
  rows: number; // M
  seq: number; // T
  pad: number;
}

export function rowsOf(rollouts: readonly Rollout[], s: Shape): SeqRows {
  return seqRows(
    rollouts.map((r) => ({ prompt: r.prompt.ids, response: r.response })),
    s.rows,
    s.seq,
    s.pad,
  );
}

/** The response tokens' entries of a [M*T] output, per rollout. */
function perResponse(out: Float32Array, rollouts: readonly Rollout[], s: Shape): Float64Array[] {
  return rollouts.map((r, i) => {
    const from = i * s.seq + r.prompt.ids.length - 1;
    return Float64Array.from(out.subarray(from, from + r.response.length));
  });
}

/** Runs `program` over every minibatch-sized chunk of rollouts, with `weights` loaded. */
async function over(
  program: SeqProgram,
  weights: ReadonlyMap<string, Float32Array>,
  rollouts: readonly Rollout[],
  s: Shape,
  take: (out: Record<string, Float32Array>, chunk: readonly Rollout[], rows: SeqRows) => void,
): Promise<void> {
  program.load(weights);
  for (let i = 0; i < rollouts.length; i += s.rows) {
    const chunk = rollouts.slice(i, i + s.rows);
    const rows = rowsOf(chunk, s);
    take((await program.run(rows)) as Record<string, Float32Array>, chunk, rows);
  }
}

export async function scoreRollouts(
  rollouts: readonly Rollout[],
  m: {
    lp: SeqProgram;
    vs: SeqProgram;
    policy: ReadonlyMap<string, Float32Array>;
    reference: ReadonlyMap<string, Float32Array>;
    value: ReadonlyMap<string, Float32Array>;
    reward: ReadonlyMap<string, Float32Array>;
    rewardBias: number;
  },
  s: Shape,
): Promise<Scored> {
  const out: Scored = { logp: [], refLogp: [], values: [], entropy: [], scores: [] };
  await over(m.lp, m.policy, rollouts, s, (o, c) => {
    out.logp.push(...perResponse(o.logprobs as Float32Array, c, s));
    out.entropy.push(...perResponse(o.entropy as Float32Array, c, s));
  });
  await over(m.lp, m.reference, rollouts, s, (o, c) =>
    out.refLogp.push(...perResponse(o.logprobs as Float32Array, c, s)),
  );
  await over(m.vs, m.value, rollouts, s, (o, c) => out.values.push(...perResponse(o.values as Float32Array, c, s)));
  await over(m.vs, m.reward, rollouts, s, (o, c) =>
    c.forEach((_, i) => out.scores.push(((o.scores as Float32Array)[i] as number) + m.rewardBias)),
  );
  return out;
}

export function advantagesOf(
  rollouts: readonly Rollout[],
  sc: Scored,
  o: { beta: number; gamma: number; lam: number; noEosPenalty: number; whiten: boolean },
): Advantaged[] {
  const adv = rollouts.map((r, i) =>
    gae(
      {
        logp: sc.logp[i] as Float64Array,
        refLogp: sc.refLogp[i] as Float64Array,
        values: sc.values[i] as Float64Array,
        score: sc.scores[i] as number,
        endedWithEos: r.endedWithEos,
      },
      o,
    ),
  );
  if (o.whiten) whiten(adv.map((a) => a.advantages));
  return adv;
}

/** Per-token arrays laid out as [M*T] rows (0 outside responses). */
function spread(values: readonly Float64Array[], chunk: readonly Rollout[], s: Shape): Float32Array {
  const out = new Float32Array(s.rows * s.seq);
  chunk.forEach((r, i) => out.set(values[i] as Float64Array, i * s.seq + r.prompt.ids.length - 1));
  return out;
}

const int64 = (a: Int32Array): BigInt64Array => BigInt64Array.from(a, (v) => BigInt(v));

export interface UpdateStats {
  policyLoss: number;
  valueLoss: number;
  updates: number;
}

/** Epochs x shuffled minibatches: one clipped step of the policy and one of the value model each. */
export async function update(
  rollouts: readonly Rollout[],
  sc: Scored,
  adv: readonly Advantaged[],
  m: { policy: TrainStep; value: TrainStep; policyLr: number; valueLr: number },
  o: { epochs: number; seed: number; iteration: number; updates: number },
  s: Shape,
): Promise<UpdateStats> {
  let policyLoss = 0;
  let valueLoss = 0;
  let u = o.updates;
  for (let e = 0; e < o.epochs; e++) {
    const order = keyedPermutation(rollouts.length, o.seed, o.iteration, e);
    for (let b = 0; b < rollouts.length; b += s.rows) {
      const idx = [...order.subarray(b, b + s.rows)];
      const chunk = idx.map((i) => rollouts[i] as Rollout);
      const pick = <T>(xs: readonly T[]) => idx.map((i) => xs[i] as T);
      const rows = rowsOf(chunk, s);
      const tokens = int64(rows.x);
      u++;
      const p = await m.policy.run(
        {
          tokens,
          targets: int64(rows.y),
          loss_mask: rows.responseMask,
          old_logp: spread(pick(sc.logp), chunk, s),
          advantages: spread(
            pick(adv).map((a) => a.advantages),
            chunk,
            s,
          ),
        },
        { lr: m.policyLr, step: u },
      );
      const v = await m.value.run(
        {
          tokens,
          loss_mask: rows.responseMask,
          old_values: spread(pick(sc.values), chunk, s),
          returns: spread(
            pick(adv).map((a) => a.returns),
            chunk,
            s,
          ),
        },
        { lr: m.valueLr, step: u },
      );
      policyLoss += p.loss;
      valueLoss += v.loss;
    }
  }
  const n = Math.max(u - o.updates, 1);
  return { policyLoss: policyLoss / n, valueLoss: valueLoss / n, updates: u };
}

/** How far the update moved the policy on this iteration's tokens: approx KL and clip fraction (CleanRL's). */
export async function movement(
  lp: SeqProgram,
  policy: ReadonlyMap<string, Float32Array>,
  rollouts: readonly Rollout[],
  sc: Scored,
  clip: number,
  s: Shape,
): Promise<{ approxKl: number; clipFrac: number }> {
  const next: Float64Array[] = [];
  await over(lp, policy, rollouts, s, (o, c) => next.push(...perResponse(o.logprobs as Float32Array, c, s)));
  let kl = 0;
  let clipped = 0;
  let n = 0;
  next.forEach((lpNew, i) => {
    const old = sc.logp[i] as Float64Array;
    for (let k = 0; k < lpNew.length; k++) {
      const logRatio = (lpNew[k] as number) - (old[k] as number);
      const ratio = Math.exp(logRatio);
      kl += ratio - 1 - logRatio;
      clipped += Math.abs(ratio - 1) > clip ? 1 : 0;
      n++;
    }
  });
  return { approxKl: kl / Math.max(n, 1), clipFrac: clipped / Math.max(n, 1) };
}
