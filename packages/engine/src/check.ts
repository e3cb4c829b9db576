// check_vjp in the JAX sense: the dot-product test <u, J v> (numerical, central differences) against
// <J^T u, v> (our reverse mode), in float64 through onnxruntime itself, so lowering is checked too.
import { rng } from "@baton/rng";
import type { AnyTypedArray } from "./dtype.ts";
import { numel } from "./dtype.ts";
import { grad } from "./grad.ts";
import { compileInference } from "./infer.ts";
import { Graph, type Tensor } from "./tensor.ts";

export interface CheckInput {
  shape: number[];
  /** sample from [0.5, 2] instead of [-1, 1] (log, sqrt, division, pow) */
  positive?: boolean;
}

export interface VjpCheck {
  /** <J^T u, v> from the gradient graph */
  analytic: number;
  /** (<u, f(x + eps v)> - <u, f(x - eps v)>) / (2 eps) */
  numeric: number;
  /** |analytic - numeric| / (1 + |analytic|) */
  error: number;
}

/** Compare reverse-mode gradients of `build` with central differences at a random point. */
export async function checkVjp(
  build: (g: Graph, xs: Tensor[]) => Tensor,
  inputs: CheckInput[],
  opts: { seed?: number; eps?: number } = {},
): Promise<VjpCheck> {
  const r = rng(opts.seed ?? 7);
  const eps = opts.eps ?? 1e-5;
  const g = new Graph();
  const xs = inputs.map((s, i) => g.input(`x${i}`, s.shape, "float64"));
  const out = build(g, xs);
  const u = g.input("u", [...out.shape], "float64");
  const loss = out.cast("float64").mul(u).sum();
  const grads = grad(loss, xs);
  const outputs: Record<string, Tensor> = { loss };
  grads.forEach((t, i) => (outputs[`g${i}`] = t));
  const prog = await compileInference({ graph: g, outputs, threads: 1, randomSeed: 0 });
  const sample = (n: number, pos = false) =>
    Float64Array.from({ length: n }, () => (pos ? 0.5 + 1.5 * r() : 2 * r() - 1));
  const x0 = inputs.map((s) => sample(numel(s.shape), s.positive));
  const v = inputs.map((s) => sample(numel(s.shape)));
  const feedsAt = (sign: number): Record<string, AnyTypedArray> => {
    const f: Record<string, AnyTypedArray> = { u: uData };
    x0.forEach((x, i) => (f[`x${i}`] = x.map((xv, j) => xv + sign * eps * (v[i]?.[j] ?? 0))));
    return f;
  };
  const uData = sample(numel(out.shape));
  const used = new Set(prog.userInputs.map((i) => i.name));
  const pick = (f: Record<string, AnyTypedArray>) => Object.fromEntries(Object.entries(f).filter(([k]) => used.has(k)));
  const at0 = await prog.run(pick(feedsAt(0)));
  const plus = await prog.run(pick(feedsAt(1)));
  const minus = await prog.run(pick(feedsAt(-1)));
  await prog.dispose();
  let analytic = 0;
  grads.forEach((_, i) => {
    const gi = at0[`g${i}`] as Float64Array;
    const vi = v[i] as Float64Array;
    for (let j = 0; j < vi.length; j++) analytic += (gi[j] as number) * (vi[j] as number);
  });
  const numeric =
    (((plus.loss as Float64Array)[0] as number) - ((minus.loss as Float64Array)[0] as number)) / (2 * eps);
  return { analytic, numeric, error: Math.abs(analytic - numeric) / (1 + Math.abs(analytic)) };
}
