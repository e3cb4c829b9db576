import { rng as seededRandom } from "@baton/rng";
import { describe, expect, it } from "vitest";
import { gptTensorSpecs } from "./checkpoint/hf-gpt2.ts";
import type { GptModelConfig } from "./gpt/config.ts";
import { pickToken, Sampler } from "./sample.ts";

const cfg: GptModelConfig = {
  arch: "gpt2",
  nLayer: 1,
  nHead: 2,
  nEmbd: 8,
  blockSize: 8,
  vocabSize: 12,
  layerNormEps: 1e-5,
  activation: "gelu_new",
  tieWordEmbeddings: true,
  bias: true,
  dropout: 0,
};
const EOS = 1;

function params(seed: number, rig?: (p: Map<string, Float32Array>) => void): Map<string, Float32Array> {
  const rnd = seededRandom(seed);
  const p = new Map(
    gptTensorSpecs(cfg).map((s) => [
      s.name,
      Float32Array.from({ length: s.shape.reduce((a, b) => a * b, 1) }, () =>
        s.name.endsWith("ln_f.weight") || /ln_\d\.weight/.test(s.name) ? 1 : rnd() - 0.5,
      ),
    ]),
  );
  rig?.(p);
  return p;
}

/** Logits = ln_f(h) @ wte^T with ln_f.weight 0 and ln_f.bias = 5 * wte[EOS]: EOS wins by a mile. */
const alwaysEos = (p: Map<string, Float32Array>) => {
  const C = cfg.nEmbd;
  const wte = p.get("transformer.wte.weight")!;
  for (let c = 0; c < C; c++) wte[EOS * C + c] = 3;
  p.get("transformer.ln_f.weight")!.fill(0);
  p.set(
    "transformer.ln_f.bias",
    Float32Array.from({ length: C }, () => 15),
  );
};

describe("pickToken", () => {
  const logits = Float32Array.of(0.5, 2.0, -1, 1.9, 0.1, 1.95);
  it("is the argmax at temperature 0 or top-k 1", () => {
    expect(pickToken(logits, { temperature: 0 }, seededRandom(1))).toBe(1);
    expect(pickToken(logits, { topK: 1 }, seededRandom(1))).toBe(1);
  });
  it("draws only from the k most likely tokens, and from the nucleus under top-p", () => {
    const rnd = seededRandom(3);
    const k3 = new Set(Array.from({ length: 2000 }, () => pickToken(logits, { topK: 3, temperature: 2 }, rnd)));
    expect([...k3].sort()).toEqual([1, 3, 5]);
    // softmax of (2.0, 1.95, 1.9, 0.5, ...): the top two hold 0.595 and the top three 0.87, so p = 0.6 keeps exactly three
    const p = new Set(Array.from({ length: 2000 }, () => pickToken(logits, { topP: 0.6 }, rnd)));
    expect([...p].sort()).toEqual([1, 3, 5]);
    const all = new Set(Array.from({ length: 4000 }, () => pickToken(logits, { temperature: 1 }, rnd)));
    expect(all.size).toBe(6);
  });
});

describe("Sampler", () => {
  it("stops at max tokens, is reproducible for a seed, and never leaves top-k", async () => {
    const s = await Sampler.create(cfg, params(9), { threads: 1 });
    const a = await s.generate([3, 4], { maxTokens: 20, seed: 5, stopTokens: [] }); // longer than the block: the cache restarts
    const b = await s.generate([3, 4], { maxTokens: 20, seed: 5, stopTokens: [] });
    expect(a.tokens).toHaveLength(20);
    expect(a.finishReason).toBe("max-tokens");
    expect(b.tokens).toEqual(a.tokens);
    const greedy = await s.generate([3, 4], { maxTokens: 5, temperature: 0, stopTokens: [] });
    const top1 = await s.generate([3, 4], { maxTokens: 5, topK: 1, seed: 77, stopTokens: [] });
    expect(top1.tokens).toEqual(greedy.tokens);
    // every sampled token is among the 2 most likely after its prefix
    const k2 = await s.generate([3, 4], { maxTokens: 6, topK: 2, seed: 1, temperature: 3, stopTokens: [] });
    const along = await s.logitsAlong([3, 4, ...k2.tokens]);
    k2.tokens.forEach((tok, i) => {
      const row = along[i + 1]!;
      const rank = [...row].filter((v) => v > row[tok]!).length;
      expect(rank).toBeLessThan(2);
    });
    await s.dispose();
  });

  it("stops right after EOS and reports it", async () => {
    const s = await Sampler.create(cfg, params(9, alwaysEos), { threads: 1 });
    const g = await s.generate([3, 4, 5], { maxTokens: 50, seed: 2, stopTokens: [EOS] });
    expect(g).toEqual({ tokens: [EOS], finishReason: "stop-token" });
    const ignored = await s.generate([3], { maxTokens: 4, seed: 2, stopTokens: [] });
    expect(ignored.tokens).toEqual([EOS, EOS, EOS, EOS]);
    await expect(s.generate([], { maxTokens: 3 })).rejects.toThrow(/prompt is empty/);
    await s.dispose();
  });

  it("generates a batch of rows at different lengths as each row alone would, in one call per token", async () => {
    const s = await Sampler.create(cfg, params(9), { threads: 1 });
    const requests = [
      { prompt: [3], options: { maxTokens: 6, temperature: 0, stopTokens: [EOS] } },
      { prompt: [3, 4, 5, 6], options: { maxTokens: 4, temperature: 1, seed: 11, stopTokens: [EOS] } },
      { prompt: [7, 2], options: { maxTokens: 5, temperature: 1.5, seed: 12, topK: 4, stopTokens: [] } },
      { prompt: [3, 4, 5, 6, 7, 8], options: { maxTokens: 6, temperature: 1, seed: 13, stopTokens: [] } }, // past the block: alone
    ];
    const alone = [];
    for (const r of requests) alone.push(await s.generate(r.prompt, r.options));
    const together = await s.generateBatch(requests);
    expect(together).toEqual(alone);
    expect(together[3]?.tokens).toHaveLength(6);
    // a different batch composition does not change a row's draw
    expect((await s.generateBatch([requests[1]!, requests[1]!]))[1]).toEqual(alone[1]);
    await expect(s.generateBatch([{ prompt: [], options: { maxTokens: 2 } }])).rejects.toThrow(
      /request 0's prompt is empty/,
    );
    await expect(s.generateBatch([{ prompt: [99], options: { maxTokens: 2 } }])).rejects.toThrow(
      /request 0: token id 99 is outside/,
    );
    await s.dispose();
  });

  it("ends every row of a batch at its own EOS", async () => {
    const s = await Sampler.create(cfg, params(9, alwaysEos), { threads: 1 });
    const out = await s.generateBatch(
      [3, 4].map((t) => ({ prompt: [t], options: { maxTokens: 5, seed: t, stopTokens: [EOS] } })),
    );
    expect(out).toEqual([
      { tokens: [EOS], finishReason: "stop-token" },
      { tokens: [EOS], finishReason: "stop-token" },
    ]);
    await s.dispose();
  });
});
