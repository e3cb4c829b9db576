// The DPO objective as a graph over 2B rows: row 2i is pair i's chosen response, row 2i+1 its
// rejected one (prompt + response, loss_mask on the response's tokens). With log-ratios
//   d = sum_t log pi(y_t) - ref_logp          (per row; ref_logp from the frozen reference)
// the loss of pair i is -log sigmoid(beta * (d_chosen - d_rejected)), plus sftWeight times the chosen
// response's mean negative log-likelihood (RPO, Pang et al. 2024; TRL's rpo_alpha): without it DPO can
// widen the margin by pushing both responses down, and a right answer's probability falls with the
// wrong one's when they share most of their tokens. Weighted by pair_weight [B] (0 for padding),
// normalised over the pairs.
import { nn } from "@baton/engine";
import type { LossTerms, Objective } from "@baton/model";
import { targetLogProbs } from "@baton/stage-lm";

export function dpoLoss(beta: number, sftWeight = 0): Objective {
  return (t): LossTerms => {
    const R = t.batch; // 2B
    const B = R / 2;
    const mask = t.g.input("loss_mask", [R * t.seq], "float32");
    const seqLogp = targetLogProbs(t).mul(mask).reshape([R, t.seq]).sum(-1); // [2B]
    const d = seqLogp.sub(t.g.input("ref_logp", [R], "float32")).reshape([B, 2]);
    const margin = d
      .slice(1, 0, 1)
      .sub(d.slice(1, 1, 2))
      .reshape([B])
      .mul(beta);
    const weight = t.g.input("pair_weight", [B], "float32");
    let perPair = nn.logSigmoid(margin).neg(); // [B]
    if (sftWeight > 0) {
      const chosen = (x: typeof seqLogp) => x.reshape([B, 2]).slice(1, 0, 1).reshape([B]);
      const tokens = chosen(mask.reshape([R, t.seq]).sum(-1)).add(1e-6); // a padding pair has none
      perPair = perPair.add(chosen(seqLogp).div(tokens).mul(-sftWeight));
    }
    return { sum: perPair.mul(weight).sum(), count: weight.sum() };
  };
}

/** Summed log-probability of each row's response tokens: logprobs and mask [R*T] -> [R]. */
export function responseLogp(logprobs: Float32Array, mask: Float32Array, R: number, T: number): Float32Array {
  const out = new Float32Array(R);
  for (let r = 0; r < R; r++) {
    let s = 0;
    for (let t = 0; t < T; t++) s += (logprobs[r * T + t] as number) * (mask[r * T + t] as number);
    out[r] = s;
  }
  return out;
}
