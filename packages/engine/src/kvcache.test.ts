// A KV-cache inference graph (static shapes: a cache of S slots and a position input) written with
// the engine's primitives gives the same attention outputs, token by token, as the full causal pass.
import { describe, expect, it } from "vitest";
import { arange, causalBias, MASKED_SCORE } from "./composites.ts";
import { compileInference } from "./infer.ts";
import { normal } from "./init.ts";
import { Graph, type Tensor, where } from "./tensor.ts";

const [C, H, S] = [8, 2, 6]; // width, heads, cache slots (= block size)
const D = C / H;
const params = (g: Graph) => ({
  wq: g.param("attn.q", [C, C], { init: normal(0.5) }),
  wkv: g.param("attn.kv", [C, 2 * C], { init: normal(0.5) }),
});
const split = (t: Tensor, T: number) => t.reshape([1, T, H, D]).transpose([0, 2, 1, 3]); // [1,H,T,D]

describe("KV-cache inference", () => {
  it("matches the full causal pass position by position", async () => {
    // full pass over S positions
    const gf = new Graph();
    const xf = gf.input("x", [1, S, C]);
    const pf = params(gf);
    const kv = xf.matmul(pf.wkv);
    const att = split(xf.matmul(pf.wq), S)
      .matmul(split(kv.slice(2, 0, C), S).mT())
      .mul(1 / Math.sqrt(D))
      .add(causalBias(gf, S));
    const yFull = att.softmax(-1).matmul(split(kv.slice(2, C, 2 * C), S)); // [1,H,S,D]
    const full = await compileInference({ graph: gf, outputs: { y: yFull }, seed: 3, threads: 1 });

    // one token at `position`, reading and writing caches [1,H,S,D]
    const g = new Graph();
    const x = g.input("x", [1, 1, C]);
    const pos = g.input("position", [1], "int64");
    const pastK = g.input("past.key", [1, H, S, D]);
    const pastV = g.input("past.value", [1, H, S, D]);
    const p = params(g);
    const kvNew = x.matmul(p.wkv);
    const slot = arange(g, S).eq(pos).reshape([1, 1, S, 1]); // the slot this token writes
    const k = where(slot, split(kvNew.slice(2, 0, C), 1), pastK); // [1,H,S,D]
    const v = where(slot, split(kvNew.slice(2, C, 2 * C), 1), pastV);
    const future = arange(g, S).gt(pos).reshape([1, 1, 1, S]); // slots not written yet
    const scores = where(
      future,
      MASKED_SCORE,
      split(x.matmul(p.wq), 1)
        .matmul(k.mT())
        .mul(1 / Math.sqrt(D)),
    ); // [1,H,1,S]
    const y = scores.softmax(-1).matmul(v); // [1,H,1,D]
    const step = await compileInference({
      graph: g,
      outputs: { y, "present.key": k, "present.value": v },
      seed: 3,
      threads: 1,
    });

    const xs = Float32Array.from({ length: S * C }, (_, i) => Math.sin(i * 0.7));
    const want = (await full.run({ x: xs })).y as Float32Array; // [1,H,S,D]
    let key: Float32Array = new Float32Array(H * S * D);
    let value: Float32Array = new Float32Array(H * S * D);
    for (let t = 0; t < S; t++) {
      const out = await step.run({
        x: xs.slice(t * C, (t + 1) * C),
        position: BigInt64Array.of(BigInt(t)),
        "past.key": key,
        "past.value": value,
      });
      key = out["present.key"] as Float32Array;
      value = out["present.value"] as Float32Array;
      const got = out.y as Float32Array; // [1,H,1,D]
      for (let h = 0; h < H; h++)
        for (let d = 0; d < D; d++) expect(got[h * D + d]).toBeCloseTo(want[(h * S + t) * D + d] as number, 5);
    }
  });
});
