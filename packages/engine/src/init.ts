// Parameter initialisers. Draws come from the seeded generator (@baton/rng) so init is a pure function of the seed.

export type Init =
  | { kind: "normal"; std: number }
  | { kind: "uniform"; low: number; high: number }
  | { kind: "constant"; value: number };

export const normal = (std: number): Init => ({ kind: "normal", std });
export const uniform = (low: number, high: number): Init => ({ kind: "uniform", low, high });
export const zeros = (): Init => ({ kind: "constant", value: 0 });
export const ones = (): Init => ({ kind: "constant", value: 1 });

/** Fill `out` according to `init`, drawing from `next` (Box-Muller for normals). */
export function fill(out: Float32Array, init: Init, next: () => number): void {
  switch (init.kind) {
    case "constant":
      out.fill(init.value);
      return;
    case "uniform":
      for (let i = 0; i < out.length; i++) out[i] = init.low + (init.high - init.low) * next();
      return;
    case "normal":
      for (let i = 0; i < out.length; i += 2) {
        const u = 1 - next(); // (0, 1]: log never sees 0
        const r = Math.sqrt(-2 * Math.log(u)) * init.std;
        const th = 2 * Math.PI * next();
        out[i] = r * Math.cos(th);
        if (i + 1 < out.length) out[i + 1] = r * Math.sin(th);
      }
      return;
  }
}

/** A stable 32-bit hash of a string (FNV-1a), to give each parameter its own init stream. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
