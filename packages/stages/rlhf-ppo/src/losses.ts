// PPO's two losses as graph objectives over R rows of T tokens (N = R*T), loss_mask [N] on the
// response tokens (the actions), as CleanRL writes them:
//   policy:  ratio = exp(log pi(a) - old_logp);  max(-A * ratio, -A * clip(ratio, 1-c, 1+c))
//   value:   0.5 * max((V - R)^2, (old_V + clip(V - old_V, -cv, cv) - R)^2)
// each averaged over the response tokens.
import type { LossTerms, Objective } from "@baton/model";
import { positionScores, targetLogProbs } from "@baton/stage-lm";

export function clippedPolicyLoss(clip: number): Objective {
  return (t): LossTerms => {
    const N = t.batch * t.seq;
    const mask = t.g.input("loss_mask", [N], "float32");
    const oldLogp = t.g.input("old_logp", [N], "float32");
    const adv = t.g.input("advantages", [N], "float32");
    const ratio = targetLogProbs(t).sub(oldLogp).exp(); // [N]
    const unclipped = adv.neg().mul(ratio);
    const clipped = adv.neg().mul(ratio.maximum(1 - clip).minimum(1 + clip));
    return { sum: unclipped.maximum(clipped).mul(mask).sum(), count: mask.sum() };
  };
}

export function clippedValueLoss(clip: number): Objective {
  return (t): LossTerms => {
    const N = t.batch * t.seq;
    const mask = t.g.input("loss_mask", [N], "float32");
    const oldValues = t.g.input("old_values", [N], "float32");
    const returns = t.g.input("returns", [N], "float32");
    const v = positionScores(t); // [N]: the value head at every position
    const vClipped = oldValues.add(v.sub(oldValues).maximum(-clip).minimum(clip));
    const loss = v.sub(returns).pow(2).maximum(vClipped.sub(returns).pow(2)).mul(0.5);
    return { sum: loss.mul(mask).sum(), count: mask.sum() };
  };
}
