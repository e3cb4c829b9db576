// The graph pieces of the preference stages, each a function of a traced GPT (see @baton/model's
// GptTrace): a score head, the per-token log-probabilities of the targets, and the losses built on
// them. Shapes: R rows of T tokens, N = R*T, C the width.
import { nn, normal, type Tensor } from "@baton/engine";
import { type GptTrace, type LossTerms, type Objective, SCORE_WEIGHT } from "@baton/model";

/** The head's weight [1, C], HF GPT2ForSequenceClassification's `score.weight` (no bias). */
function scoreWeight(t: GptTrace): Tensor {
  return (
    t.g.params.get(SCORE_WEIGHT)?.tensor ??
    t.g.param(SCORE_WEIGHT, [1, t.cfg.nEmbd], { init: normal(0.02), decay: false })
  );
}

/** The score of every position: hidden [N, C] @ w^T -> [N] (a value model reads all of them). */
export function positionScores(t: GptTrace): Tensor {
  const N = t.batch * t.seq;
  return t.hidden
    .reshape([N, t.cfg.nEmbd])
    .matmul(scoreWeight(t).transpose([1, 0]))
    .reshape([N]);
}

/** The score of each row at its `last_index` [R] (flat index of the response's last token) -> [R]. */
export function lastTokenScores(t: GptTrace): Tensor {
  const last = t.g.input("last_index", [t.batch], "int64");
  return t.hidden
    .reshape([t.batch * t.seq, t.cfg.nEmbd])
    .gather(last)
    .matmul(scoreWeight(t).transpose([1, 0]))
    .reshape([t.batch]);
}

/** log p(target) at every position [N]. */
export function targetLogProbs(t: GptTrace): Tensor {
  return nn.tokenLogProbs(t.logits(), t.g.input("targets", [t.batch * t.seq], "int64"));
}

/** Entropy of the next-token distribution at every position [N] (a PPO diagnostic). */
export function positionEntropy(t: GptTrace): Tensor {
  const logits = t.logits();
  return logits.softmax(-1).mul(logits.logSoftmax(-1)).sum(-1).neg();
}

/**
 * Bradley-Terry over the pairs of each prompt: -log sigmoid(r_better - r_worse). Every response is a
 * row scored once per step; pair_better / pair_worse [P] index rows, pair_weight [P] is 1/pairs of
 * its prompt (0 for a padding slot), so each prompt counts once and `count` is the number of prompts.
 */
export function bradleyTerry(pairs: number): Objective {
  return (t): LossTerms => {
    const scores = lastTokenScores(t); // [R]
    const better = t.g.input("pair_better", [pairs], "int64");
    const worse = t.g.input("pair_worse", [pairs], "int64");
    const weight = t.g.input("pair_weight", [pairs], "float32");
    const margin = scores.gather(better).sub(scores.gather(worse)); // [P]
    return { sum: nn.logSigmoid(margin).mul(weight).sum().neg(), count: weight.sum() };
  };
}
