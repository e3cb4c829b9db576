/**
 * Task metrics on generated text. Both normalise the same way: trim, collapse runs of whitespace
 * (a model that emits " foxes" for " foxes " is right), case kept (case can be the task).
 */
export function normalizeAnswer(text: string): string {
  return text.trim().replace(/\s+/g, " ");
}

/** 1 when the normalised prediction equals the normalised reference, else 0. */
export function exactMatch(prediction: string, reference: string): number {
  return normalizeAnswer(prediction) === normalizeAnswer(reference) ? 1 : 0;
}

/**
 * ROUGE-L F1 over whitespace tokens: the longest common subsequence as precision (of the prediction)
 * and recall (of the reference), combined as F1 (beta = 1). Two empty strings score 1.
 */
export function rougeL(prediction: string, reference: string): number {
  const p = normalizeAnswer(prediction).split(" ").filter(Boolean);
  const r = normalizeAnswer(reference).split(" ").filter(Boolean);
  if (p.length === 0 && r.length === 0) return 1;
  if (p.length === 0 || r.length === 0) return 0;
  // LCS length, one row at a time: O(|p| * |r|) time, O(|r|) memory.
  let prev = new Int32Array(r.length + 1);
  let cur = new Int32Array(r.length + 1);
  for (let i = 1; i <= p.length; i++) {
    for (let j = 1; j <= r.length; j++)
      cur[j] = p[i - 1] === r[j - 1] ? prev[j - 1]! + 1 : Math.max(prev[j]!, cur[j - 1]!);
    [prev, cur] = [cur, prev];
  }
  const lcs = prev[r.length]!;
  if (lcs === 0) return 0;
  const precision = lcs / p.length;
  const recall = lcs / r.length;
  return (2 * precision * recall) / (precision + recall);
}

/** Mean of a metric over (prediction, reference) pairs. */
export function meanScore(
  pairs: ReadonlyArray<readonly [string, string]>,
  metric: (prediction: string, reference: string) => number,
): number {
  if (pairs.length === 0) return 0;
  return pairs.reduce((s, [p, r]) => s + metric(p, r), 0) / pairs.length;
}
