// @baton/rng: the one seeded generator of the workspace, below both @baton/engine (parameter init,
// the finite-difference check) and @baton/data (data order, the demo data), so neither depends on
// the other for it. Every seeded result in the tests is pinned to this exact sequence.

/** mulberry32: small, fast and well mixed; the state is one uint32. Floats in [0, 1). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
