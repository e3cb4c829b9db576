// The one check a submitted order must pass: a permutation of exactly the response ids the server
// showed this rater for this prompt, with ties naming positions inside it. Anything else is refused
// with what was wrong, so a rater cannot inject text or rank a response they were not shown.
export interface CheckedRanking {
  /** indices into the item's responses, best first */
  ranking: number[];
  /** positions p (1..K-1) tied with p-1, sorted */
  ties: number[];
}

export function checkRanking(
  shown: readonly string[],
  canonical: readonly string[],
  order: unknown,
  ties: unknown,
): CheckedRanking | string {
  if (!Array.isArray(order) || order.some((id) => typeof id !== "string"))
    return `"order" must be an array of the response ids shown (strings), got ${JSON.stringify(order)?.slice(0, 200)}`;
  const ids = order as string[];
  const unknown = ids.filter((id) => !shown.includes(id));
  if (unknown.length > 0)
    return `"order" names response id(s) ${JSON.stringify(unknown.slice(0, 5))} that were not shown to you for this prompt`;
  const repeated = ids.filter((id, i) => ids.indexOf(id) !== i);
  if (repeated.length > 0)
    return `"order" names response id(s) ${JSON.stringify([...new Set(repeated)])} more than once; rank each response once`;
  const missing = shown.filter((id) => !ids.includes(id));
  if (missing.length > 0)
    return `"order" leaves out response id(s) ${JSON.stringify(missing)}; rank all ${shown.length} responses shown`;
  const t = ties ?? [];
  if (!Array.isArray(t) || t.some((p) => !Number.isInteger(p) || p < 1 || p >= ids.length)) {
    return `"ties" must be positions 1..${ids.length - 1} (a tie at p joins the response at p to the one above it), got ${JSON.stringify(ties)?.slice(0, 200)}`;
  }
  const positions = [...new Set(t as number[])].sort((a, b) => a - b);
  if (positions.length !== t.length) return `"ties" repeats a position: ${JSON.stringify(t)}`;
  return { ranking: ids.map((id) => canonical.indexOf(id)), ties: positions };
}
