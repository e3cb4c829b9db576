// The byte-level BPE path through the stages: pretrain learns a GPT-2 byte-level BPE from the step's
// data, commits it as tokenizer.json with the weights sized to it, and CPT starts from that checkpoint
// with nothing converted (the same tokenizer, the same shapes).

import { localContext, tempDir, writeJsonl } from "@baton/stage-contract";
import { loadModel } from "@baton/stage-lm";
import { IMPLEMENTATIONS } from "@baton/stage-registry";
import { describe, expect, it } from "vitest";

const sentences = [
  "the cat sat on the mat.",
  "a dog ran to the red door.",
  "we saw the sun set over the hill.",
  "the bird sang in the old tree.",
];
const docs = (n: number, k: number) =>
  Array.from({ length: n }, (_, i) => ({
    text: `${sentences[(i + k) % 4]} ${sentences[(i + k + 1) % 4]} Émile's café — naïve?`,
  }));
const stage = async (name: string) => (await IMPLEMENTATIONS[name]!.load()).createStage({ threads: 1 });

describe("pretrain with a byte-level BPE tokenizer", () => {
  it("learns the vocabulary from the data, trains, and commits a checkpoint CPT starts from unchanged", {
    timeout: 120_000,
  }, async () => {
    const dir = await tempDir();
    const config = {
      tokenizer: "bpe",
      bpeVocabSize: 320,
      model: { nLayer: 1, nHead: 2, nEmbd: 32, blockSize: 32 },
      train: { steps: 40, batchSize: 8, warmupSteps: 4, evalEvery: 20, snapshotEvery: 100 },
      optim: { lr: 3e-3 },
      evalBatches: 2,
      samples: { count: 1, promptChars: 8, maxTokens: 8 },
    };
    const data = [
      await writeJsonl(dir, "general.train.jsonl", docs(60, 0)),
      await writeJsonl(dir, "general.val.jsonl", docs(8, 1)),
    ];
    const { ctx } = await localContext({ step: { name: "pretrain-bpe", stage: "pretrain", config, data } });
    const r = await (await stage("pretrain")).train(ctx);
    const out = await loadModel(ctx.outputDir, "pretrain output");

    // GPT-2's byte-level BPE with merges learned here, no larger than asked, and the weights sized to it
    const hf = out.tokenizer.toHfJson() as unknown as {
      model: { type: string; merges: unknown[] };
      pre_tokenizer: { type: string };
    };
    expect(out.tokenizer.kind).toBe("byte-bpe");
    expect(hf.model.type).toBe("BPE");
    expect(hf.pre_tokenizer.type).toBe("ByteLevel");
    expect(hf.model.merges.length).toBeGreaterThan(0);
    expect(out.tokenizer.vocabSize).toBeLessThanOrEqual(320);
    expect(out.config.vocabSize).toBe(out.tokenizer.vocabSize);
    expect(out.weights.get("transformer.wte.weight")?.length).toBe(out.tokenizer.vocabSize * 32);
    // bytes, not characters: text the corpus never showed still round-trips
    const s = "Émile's café — naïve? ☕ 東京";
    expect(out.tokenizer.decode(out.tokenizer.encode(s))).toBe(s);
    // random init sits near ln(V); training goes well below it
    const m = r.metrics ?? {};
    expect(m.random_init_val_loss).toBeGreaterThan(Math.log(out.tokenizer.vocabSize) - 0.5);
    expect(m.val_loss).toBeLessThan((m.random_init_val_loss as number) * 0.6);

    const cptData = [
      await writeJsonl(dir, "domain.train.jsonl", docs(10, 2)),
      await writeJsonl(dir, "domain.val.jsonl", docs(4, 3)),
      ...data,
    ];
    const cptConfig = {
      train: { steps: 2, batchSize: 4, warmupSteps: 1, evalEvery: 2, snapshotEvery: 100 },
      evalBatches: 1,
      samples: { count: 1, promptChars: 8, maxTokens: 4 },
    };
    const next = await localContext({
      step: { name: "cpt-bpe", stage: "cpt", config: cptConfig, data: cptData },
      inputDir: ctx.outputDir,
    });
    await (await stage("cpt")).train(next.ctx);
    const cpt = await loadModel(next.ctx.outputDir, "cpt output");
    expect(cpt.tokenizer.toHfJson()).toEqual(out.tokenizer.toHfJson());
    expect(cpt.config).toEqual(out.config);
  });
});
