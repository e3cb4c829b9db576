// Whole-model finite-difference checks (float64): a small MLP with cross-entropy, and one
// transformer block (layer norm, attention with a causal mask, GELU MLP) under a loss.
import { describe, expect, it } from "vitest";
import { checkVjp } from "./check.ts";
import {
  crossEntropy,
  gelu,
  geluFromPrimitives,
  layerNorm,
  layerNormFromPrimitives,
  logSigmoid,
  rmsNorm,
  tokenLogProbs,
} from "./composites.ts";
import { compileInference } from "./infer.ts";
import type { Tensor } from "./tensor.ts";
import { Graph } from "./tensor.ts";
import { type BlockWeights, block, blockShapes } from "./testing/block.ts";

describe("whole-model gradients against finite differences", () => {
  it("a two-layer MLP with cross-entropy and an ignored target", async () => {
    const [N, I, H, V] = [6, 3, 5, 4];
    const res = await checkVjp(
      (g, [x, w1, b1, w2]) => {
        const targets = g.const(BigInt64Array.of(0n, 3n, -1n, 2n, 1n, 3n), [N]);
        const logits = gelu((x as Tensor).matmul(w1 as Tensor).add(b1 as Tensor)).matmul(w2 as Tensor);
        return crossEntropy(logits, targets, { ignoreIndex: -1 }).mean;
      },
      [{ shape: [N, I] }, { shape: [I, H] }, { shape: [H] }, { shape: [H, V] }],
    );
    expect(res.error, `${res.analytic} vs ${res.numeric}`).toBeLessThan(1e-6);
  });

  it("tokenLogProbs: every row's gradient, its log-softmax value, 0 for a target outside [0, V)", async () => {
    const [N, V] = [5, 7];
    const picked = [3n, 0n, 6n, -1n, 3n];
    const targets = (g: Graph) => g.const(BigInt64Array.from(picked), [N]);
    const res = await checkVjp(
      (g, [logits]) => tokenLogProbs((logits as Tensor).mul(3), targets(g)),
      [{ shape: [N, V] }],
    );
    expect(res.error, `${res.analytic} vs ${res.numeric}`).toBeLessThan(1e-6);

    const g = new Graph();
    const logits = g.input("logits", [N, V], "float64");
    const prog = await compileInference({ graph: g, outputs: { lp: tokenLogProbs(logits, targets(g)) }, threads: 1 });
    const x = Float64Array.from({ length: N * V }, (_, i) => Math.sin(i * 1.7) * 4);
    const lp = (await prog.run({ logits: x })).lp as Float64Array;
    picked.forEach((t, n) => {
      const row = x.subarray(n * V, (n + 1) * V);
      const logZ = Math.log(row.reduce((a, v) => a + Math.exp(v), 0));
      expect(lp[n]).toBeCloseTo(t >= 0n ? (row[Number(t)] as number) - logZ : 0, 10);
    });
    expect(() => tokenLogProbs(logits, g.const(BigInt64Array.of(0n), [1]))).toThrow(
      /want logits \[N,V\] and targets \[N\]/,
    );
  });

  it("one transformer block (pre-LN, causal attention, GELU MLP)", async () => {
    const [B, T, C, H] = [2, 4, 8, 2];
    const shapes = blockShapes(C);
    const names = Object.keys(shapes) as (keyof BlockWeights)[];
    const res = await checkVjp(
      (g, [x, ...ws]) => {
        const w = Object.fromEntries(names.map((n, i) => [n, ws[i] as Tensor])) as unknown as BlockWeights;
        return block(g, x as Tensor, w, H);
      },
      [
        { shape: [B, T, C] },
        ...names.map((n) => ({ shape: shapes[n], positive: n.startsWith("ln") && n.endsWith("w") })),
      ],
    );
    expect(res.error, `${res.analytic} vs ${res.numeric}`).toBeLessThan(1e-6);
  });

  it("fused GELU and layer norm equal their primitive references", async () => {
    const g = new Graph();
    const x = g.input("x", [3, 8], "float64");
    const w = g.const(
      Float64Array.from({ length: 8 }, (_, i) => 0.5 + i / 8),
      [8],
    );
    const b = g.const(
      Float64Array.from({ length: 8 }, (_, i) => i / 10 - 0.3),
      [8],
    );
    const outputs = {
      g1: gelu(x),
      g2: geluFromPrimitives(x),
      l1: layerNorm(x, w, b),
      l2: layerNormFromPrimitives(x, w, b),
    };
    const prog = await compileInference({ graph: g, outputs, threads: 1 });
    const out = await prog.run({ x: Float64Array.from({ length: 24 }, (_, i) => Math.sin(i) * 3) });
    const close = (a: string, b2: string) =>
      (out[a] as Float64Array).forEach((v, i) => expect(v).toBeCloseTo((out[b2] as Float64Array)[i] as number, 7)); // onnxruntime's Gelu rounds its constants to ~1e-9
    close("g1", "g2");
    close("l1", "l2");
  });

  it("float32 invStd (LayerNormalization's InvStdDev output) matches its definition", async () => {
    const g = new Graph();
    const x = g.input("x", [4, 16]);
    const xc = x.sub(x.mean(-1, true));
    const outputs = {
      fused: g.apply("invStd", [x], { eps: 1e-5 }),
      ref: xc.mul(xc).mean(-1, true).add(1e-5).sqrt().reciprocal(),
    };
    const prog = await compileInference({ graph: g, outputs, threads: 1 });
    const out = await prog.run({ x: Float32Array.from({ length: 64 }, (_, i) => Math.cos(i * 1.3) * 2) });
    (out.fused as Float32Array).forEach((v, i) => expect(v).toBeCloseTo((out.ref as Float32Array)[i] as number, 4));
  });

  it("logSigmoid: gradients, and finite where log(sigmoid(x)) would underflow", async () => {
    const res = await checkVjp((_g, [x]) => logSigmoid((x as Tensor).mul(4)), [{ shape: [3, 5] }]);
    expect(res.error, `${res.analytic} vs ${res.numeric}`).toBeLessThan(1e-6);
    const g = new Graph();
    const x = g.input("x", [3]);
    const prog = await compileInference({ graph: g, outputs: { y: logSigmoid(x) }, threads: 1 });
    const y = (await prog.run({ x: Float32Array.of(-200, 0, 200) })).y as Float32Array;
    expect(y[0]).toBeCloseTo(-200, 4);
    expect(y[1]).toBeCloseTo(Math.log(0.5), 6);
    expect(y[2]).toBeCloseTo(0, 6);
  });

  it("layer norm and RMS norm on their own", async () => {
    for (const norm of [
      (x: Tensor, w: Tensor) => layerNormFromPrimitives(x, w, null),
      (x: Tensor, w: Tensor) => rmsNorm(x, w),
    ]) {
      const res = await checkVjp((_g, [x, w]) => norm(x as Tensor, w as Tensor), [{ shape: [3, 5] }, { shape: [5] }]);
      expect(res.error, `${res.analytic} vs ${res.numeric}`).toBeLessThan(1e-6);
    }
  });
});
