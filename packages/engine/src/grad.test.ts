// One generic finite-difference check (float64, dot-product form) looped over EVERY entry of the
// gradient table, with random shapes including broadcasting.

import { rng } from "@baton/rng";
import { describe, expect, it } from "vitest";
import { type CheckInput, checkVjp } from "./check.ts";
import { layerNorm } from "./composites.ts";
import { VJP } from "./grad.ts";
import { normal } from "./init.ts";
import type { Op } from "./ops.ts";
import { concat, type Graph, scatterAdd, type Tensor, where } from "./tensor.ts";

const r = rng(2026);
const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const randShape = (rank: number) => Array.from({ length: rank }, () => int(2, 4));
/** A shape that broadcasts against `s`: some dims set to 1, maybe fewer leading dims. */
const broadcastOf = (s: number[]) => s.slice(int(0, Math.max(0, s.length - 1))).map((d) => (r() < 0.5 ? 1 : d));

interface Case {
  name: string;
  inputs: CheckInput[];
  f: (g: Graph, xs: Tensor[]) => Tensor;
  eps?: number;
  tol?: number;
}
const x = (xs: Tensor[], i = 0) => xs[i] as Tensor;

function unary(op: (t: Tensor) => Tensor, positive = false): Case[] {
  return [2, 3].map((rank) => ({
    name: `rank ${rank}`,
    inputs: [{ shape: randShape(rank), positive }],
    f: (_g, xs) => op(x(xs)),
  }));
}
function binary(op: (a: Tensor, b: Tensor) => Tensor, positive = false): Case[] {
  const s = randShape(3);
  const b = broadcastOf(s);
  return [
    {
      name: `same ${s}`,
      inputs: [
        { shape: s, positive },
        { shape: s, positive },
      ],
      f: (_g, xs) => op(x(xs), x(xs, 1)),
    },
    {
      name: `broadcast b [${b}]`,
      inputs: [
        { shape: s, positive },
        { shape: b, positive },
      ],
      f: (_g, xs) => op(x(xs), x(xs, 1)),
    },
    {
      name: `broadcast a [${b}]`,
      inputs: [
        { shape: b, positive },
        { shape: s, positive },
      ],
      f: (_g, xs) => op(x(xs), x(xs, 1)),
    },
  ];
}
const bools = (g: Graph, shape: number[]) =>
  g.const(
    Uint8Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (r() < 0.5 ? 1 : 0)),
    shape,
  );
const indices = (g: Graph, n: number, V: number) =>
  g.const(
    BigInt64Array.from({ length: n }, () => BigInt(int(0, V - 1))),
    [n],
  );

/** Every op of the table, each with at least one case: a missing op fails to compile. */
const CASES: { [K in Op]: Case[] } = {
  // leaves have no inputs; they appear in every case below as inputs and constants
  input: [{ name: "as the variable", inputs: [{ shape: [3] }], f: (_g, xs) => x(xs) }],
  param: [
    {
      name: "beside the variable",
      inputs: [{ shape: [3] }],
      f: (g, xs) =>
        x(xs)
          .mul(g.param("w", [3], { init: normal(1) }).cast("float64"))
          .sin(),
    },
  ],
  const: [
    {
      name: "times a constant",
      inputs: [{ shape: [3] }],
      f: (g, xs) => x(xs).mul(g.const(Float64Array.of(1, -2, 3), [3])),
    },
  ],
  bernoulli: [
    {
      name: "a random mask selecting x or 2x",
      inputs: [{ shape: [3, 4] }],
      f: (g, xs) => where(g.bernoulli([3, 4], 0.5), x(xs), x(xs).mul(2)),
    },
  ],
  random: [
    {
      name: "times uniform noise",
      inputs: [{ shape: [2, 3] }],
      f: (g, xs) => x(xs).mul(g.const(0, [], "float64").add(g.random([2, 3], "float64"))),
    },
  ],
  neg: unary((t) => t.neg()),
  exp: unary((t) => t.exp()),
  log: unary((t) => t.log(), true),
  tanh: unary((t) => t.tanh()),
  sqrt: unary((t) => t.sqrt(), true),
  reciprocal: unary((t) => t.reciprocal(), true),
  sigmoid: unary((t) => t.sigmoid()),
  relu: unary((t) => t.relu()),
  sin: unary((t) => t.sin()),
  cos: unary((t) => t.cos()),
  add: binary((a, b) => a.add(b)),
  sub: binary((a, b) => a.sub(b)),
  mul: binary((a, b) => a.mul(b)),
  div: binary((a, b) => a.div(b), true),
  pow: binary((a, b) => a.pow(b), true),
  maximum: binary((a, b) => a.maximum(b)),
  minimum: binary((a, b) => a.minimum(b)),
  // comparisons carry no gradient; a comparison-gated product checks that nothing leaks through them
  eq: [
    {
      name: "gate",
      inputs: [{ shape: [3, 4] }],
      f: (g, xs) => where(x(xs).eq(g.const(0.25, [], "float64")), 0, x(xs)).mul(x(xs)),
    },
  ],
  lt: [{ name: "gate", inputs: [{ shape: [3, 4] }], f: (_g, xs) => x(xs).lt(0.1).cast("float64").mul(x(xs)) }],
  gt: [
    {
      name: "gate",
      inputs: [{ shape: [3, 4] }, { shape: [4] }],
      f: (_g, xs) => where(x(xs).gt(x(xs, 1)), x(xs), x(xs, 1).mul(2)),
    },
  ],
  where: [
    {
      name: "broadcast cond",
      inputs: [{ shape: [2, 3, 4] }, { shape: [3, 1] }],
      f: (g, xs) => where(bools(g, [3, 4]), x(xs), x(xs, 1)),
    },
    { name: "scalar branch", inputs: [{ shape: [3, 4] }], f: (g, xs) => where(bools(g, [1, 4]), x(xs), 0) },
  ],
  cast: [
    {
      name: "f64 -> f32 -> f64",
      inputs: [{ shape: [3, 4] }],
      f: (_g, xs) => x(xs).cast("float32").exp().cast("float64"),
      eps: 1e-2,
      tol: 1e-3,
    },
  ],
  stopGradient: [
    {
      name: "constant w.r.t. its input",
      inputs: [{ shape: [3] }, { shape: [3] }],
      f: (_g, xs) => x(xs).mul(x(xs, 1).stopGradient().mul(0).add(2)),
    },
  ],
  matmul: [
    { name: "[M,K]@[K,N]", inputs: [{ shape: [3, 4] }, { shape: [4, 5] }], f: (_g, xs) => x(xs).matmul(x(xs, 1)) },
    {
      name: "linear [B,T,K]@[K,N]",
      inputs: [{ shape: [2, 3, 4] }, { shape: [4, 2] }],
      f: (_g, xs) => x(xs).matmul(x(xs, 1)),
    },
    {
      name: "batched [B,H,M,K]@[B,H,K,N]",
      inputs: [{ shape: [2, 2, 3, 4] }, { shape: [2, 2, 4, 3] }],
      f: (_g, xs) => x(xs).matmul(x(xs, 1)),
    },
    {
      name: "broadcast batch [B,1,M,K]@[H,K,N]",
      inputs: [{ shape: [2, 1, 3, 4] }, { shape: [3, 4, 2] }],
      f: (_g, xs) => x(xs).matmul(x(xs, 1)),
    },
  ],
  sum: [
    { name: "axes [0,2] keepDims", inputs: [{ shape: randShape(3) }], f: (_g, xs) => x(xs).sum([0, 2], true) },
    { name: "last axis", inputs: [{ shape: randShape(3) }], f: (_g, xs) => x(xs).sum(-1) },
    { name: "all", inputs: [{ shape: randShape(2) }], f: (_g, xs) => x(xs).sum() },
  ],
  max: [
    { name: "last axis keepDims", inputs: [{ shape: randShape(3) }], f: (_g, xs) => x(xs).max(-1, true) },
    { name: "axis 0", inputs: [{ shape: randShape(2) }], f: (_g, xs) => x(xs).max(0) },
  ],
  mean: [
    { name: "axes [0,2] keepDims", inputs: [{ shape: randShape(3) }], f: (_g, xs) => x(xs).mean([0, 2], true) },
    { name: "last axis", inputs: [{ shape: randShape(3) }], f: (_g, xs) => x(xs).mean(-1) },
  ],
  sumSquares: [
    { name: "all", inputs: [{ shape: randShape(2) }], f: (_g, xs) => x(xs).sumSquares() },
    { name: "axis 1 keepDims", inputs: [{ shape: randShape(3) }], f: (_g, xs) => x(xs).sumSquares(1, true) },
  ],
  reshape: [
    {
      name: "[2,3,4] -> [6,4]",
      inputs: [{ shape: [2, 3, 4] }],
      f: (_g, xs) =>
        x(xs)
          .reshape([6, -1])
          .mul(x(xs).reshape([6, 4])),
    },
  ],
  transpose: [{ name: "perm [2,0,1]", inputs: [{ shape: randShape(3) }], f: (_g, xs) => x(xs).transpose([2, 0, 1]) }],
  expand: [{ name: "[1,4] -> [2,3,4]", inputs: [{ shape: [1, 4] }], f: (_g, xs) => x(xs).expand([2, 3, 4]) }],
  slice: [{ name: "axis 1 [1,3)", inputs: [{ shape: [2, 4, 3] }], f: (_g, xs) => x(xs).slice(1, 1, 3) }],
  pad: [{ name: "axis 0 (1, 2)", inputs: [{ shape: [2, 3] }], f: (_g, xs) => x(xs).pad(0, 1, 2) }],
  concat: [
    {
      name: "three on axis 1",
      inputs: [{ shape: [2, 1, 3] }, { shape: [2, 2, 3] }, { shape: [2, 3, 3] }],
      f: (_g, xs) => concat(xs, 1),
    },
  ],
  gather: [
    { name: "repeated rows", inputs: [{ shape: [5, 3] }], f: (g, xs) => x(xs).gather(indices(g, 7, 5).reshape([7])) },
  ],
  scatterAdd: [
    { name: "repeated rows", inputs: [{ shape: [6, 3] }], f: (g, xs) => scatterAdd([4, 3], indices(g, 6, 4), x(xs)) },
  ],
  softmax: [
    { name: "last axis", inputs: [{ shape: randShape(3) }], f: (_g, xs) => x(xs).softmax(-1) },
    { name: "axis 0", inputs: [{ shape: randShape(2) }], f: (_g, xs) => x(xs).softmax(0) },
  ],
  logSoftmax: [{ name: "last axis", inputs: [{ shape: randShape(3) }], f: (_g, xs) => x(xs).logSoftmax(-1) }],
  gelu: unary((t) => t.gelu().mul(t.mul(3).gelu())),
  layerNorm: [
    {
      name: "with bias",
      inputs: [{ shape: [2, 3, 5] }, { shape: [5], positive: true }, { shape: [5] }],
      f: (_g, xs) => layerNorm(x(xs), x(xs, 1), x(xs, 2)),
    },
    {
      name: "without bias",
      inputs: [{ shape: [4, 6] }, { shape: [6], positive: true }],
      f: (_g, xs) => layerNorm(x(xs), x(xs, 1), null, 1e-3),
    },
  ],
  standardize: [
    { name: "last axis", inputs: [{ shape: [3, 6] }], f: (g, xs) => g.apply("standardize", [x(xs)], { eps: 1e-3 }) },
  ],
  invStd: [
    { name: "last axis", inputs: [{ shape: [2, 3, 5] }], f: (g, xs) => g.apply("invStd", [x(xs)], { eps: 1e-3 }) },
  ],
};

describe("gradient table: finite differences (float64, dot-product form)", () => {
  it("has a case list for every rule in the table", () => {
    expect(Object.keys(CASES).sort()).toEqual(Object.keys(VJP).sort());
    for (const [op, cases] of Object.entries(CASES)) expect(cases.length, op).toBeGreaterThan(0);
  });
  for (const [op, cases] of Object.entries(CASES)) {
    for (const c of cases) {
      it(`${op}: ${c.name}`, async () => {
        const res = await checkVjp(c.f, c.inputs, c.eps === undefined ? {} : { eps: c.eps });
        expect(res.error, `analytic ${res.analytic} vs numeric ${res.numeric}`).toBeLessThan(c.tol ?? 1e-6);
      });
    }
  }
  it("catches a wrong gradient (stopGradient hides a dependency)", async () => {
    const res = await checkVjp((_g, xs) => x(xs).mul(x(xs).stopGradient()), [{ shape: [4] }]);
    expect(res.error).toBeGreaterThan(1e-2);
  });
});
