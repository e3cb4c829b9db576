// Evaluation over a whole split: every token predicted once, the last partial window included and
// padded rows ignored, checked against a plain float64 forward pass window by window.
import { describe, expect, it } from "vitest";
import { gptTensorSpecs } from "../checkpoint/hf-gpt2.ts";
import type { GptModelConfig } from "../gpt/config.ts";
import { referenceLogits } from "../gpt/reference.ts";
import { Evaluator } from "./evaluate.ts";

const cfg: GptModelConfig = {
  arch: "gpt2",
  nLayer: 1,
  nHead: 2,
  nEmbd: 8,
  blockSize: 6,
  vocabSize: 11,
  layerNormEps: 1e-5,
  activation: "gelu_new",
  tieWordEmbeddings: true,
  bias: false,
  dropout: 0,
};

function randomParams(seed: number): Map<string, Float32Array> {
  let s = seed;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296) * 2 - 1;
  return new Map(
    gptTensorSpecs(cfg).map((t) => [
      t.name,
      Float32Array.from({ length: t.shape.reduce((a, b) => a * b, 1) }, () =>
        /ln_(1|2|f)\.weight$/.test(t.name) ? 1 : 0.5 * rnd(),
      ),
    ]),
  );
}

/** Mean next-token NLL over consecutive windows of blockSize, in float64. */
function referenceWholeSplit(params: Map<string, Float32Array>, ids: number[]): number {
  let sum = 0;
  let n = 0;
  for (let at = 0; at < ids.length - 1; at += cfg.blockSize) {
    const x = ids.slice(at, Math.min(at + cfg.blockSize, ids.length - 1));
    const logits = referenceLogits(cfg, params, x);
    x.forEach((_, t) => {
      const row = logits[t] as number[];
      const max = Math.max(...row);
      const lse = max + Math.log(row.reduce((a, v) => a + Math.exp(v - max), 0));
      sum += lse - (row[ids[at + t + 1] as number] as number);
      n++;
    });
  }
  return sum / n;
}

const split = (ids: number[]) => ({
  length: ids.length,
  read: (at: number, count: number) => Int32Array.from(ids.slice(at, at + count)),
});

describe("Evaluator.wholeSplitLoss", () => {
  it("counts every token once, the last partial window and batch included, as a float64 forward pass does", async () => {
    const params = randomParams(7);
    const ev = await Evaluator.compile(cfg, { batch: 2, seq: cfg.blockSize, threads: 1 });
    try {
      // 3 full windows and one of 3 tokens: 4 windows = 2 batches; then 2 full windows and one of 1
      for (const length of [3 * 6 + 3 + 1, 2 * 6 + 1 + 1, 4 * 6 + 1]) {
        const ids = Array.from({ length }, (_, i) => (i * 7 + (i >> 2)) % cfg.vocabSize);
        expect(await ev.wholeSplitLoss(params, split(ids)), `length ${length}`).toBeCloseTo(
          referenceWholeSplit(params, ids),
          4,
        );
      }
    } finally {
      await ev.dispose();
    }
  });
});
