// Task metrics on generated text. Exact match compares after trimming surrounding whitespace (the
// answer is one line); ROUGE-L is the F-measure of the longest common subsequence of words
// (Lin 2004, beta = 1), so a nearly right answer earns partial credit where exact match gives none.

export function exactMatch(prediction: string, reference: string): number {
  return prediction.trim() === reference.trim() ? 1 : 0;
}

function words(s: string): string[] {
  return s.trim().split(/\s+/).filter((w) => w.length > 0);
}

/** Length of the longest common subsequence of a and b (O(|a|·|b|), answers are short). */
function lcs(a: readonly string[], b: readonly string[]): number {
  let prev = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    const cur = new Array<number>(b.length + 1).fill(0);
    for (let j = 1; j <= b.length; j++) {
      cur[j] = a[i - 1] === b[j - 1] ? (prev[j - 1] as number) + 1 : Math.max(prev[j] as number, cur[j - 1] as number);
    }
    prev = cur;
  }
  return prev[b.length] as number;
}

/** ROUGE-L F1 over whitespace-separated words; 1 for two empty strings. */
export function rougeL(prediction: string, reference: string): number {
  const p = words(prediction);
  const r = words(reference);
  if (p.length === 0 && r.length === 0) return 1;
  if (p.length === 0 || r.length === 0) return 0;
  const l = lcs(p, r);
  if (l === 0) return 0;
  const precision = l / p.length;
  const recall = l / r.length;
  return (2 * precision * recall) / (precision + recall);
}
