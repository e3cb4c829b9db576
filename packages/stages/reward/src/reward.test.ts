import { join } from "node:path";
import { isBatonError } from "@baton/contracts";
import { DEFAULT_CHAT_TEMPLATE } from "@baton/data";
import { Evaluator, SCORE_WEIGHT } from "@baton/model";
import { localContext, stageContract, tempDir, tinyCheckpoint, writeJsonl } from "@baton/stage-contract";
import { bradleyTerry, loadModel, promptIds, readStageReport, responseIds, SeqProgram, seqRows } from "@baton/stage-lm";
import { describe, expect, it } from "vitest";
import { createStage } from "./index.ts";
import { groupsBatch } from "./rankings.ts";

const WORDS = ["cat", "sun", "map", "red", "box", "pen"];
/** The right answer (the word reversed) ranked over a near miss and a refusal, shuffled. */
function rankings(n: number, from: number) {
  return Array.from({ length: n }, (_, i) => {
    const w = WORDS[(from + i) % WORDS.length] as string;
    const responses = [[...w].reverse().join(""), w, "no"];
    const order = [
      [0, 1, 2],
      [2, 0, 1],
      [1, 2, 0],
    ][i % 3] as number[];
    return {
      prompt: `rev ${w}`,
      responses: order.map((k) => responses[k]),
      ranking: [0, 1, 2].map((k) => order.indexOf(k)),
      rater: "fixture",
    };
  });
}

async function fixture(dir: string) {
  return {
    data: [
      await writeJsonl(dir, "rankings.train.jsonl", rankings(24, 0)),
      await writeJsonl(dir, "rankings.test.jsonl", rankings(6, 2)),
    ],
    config: {
      train: { steps: 6, batchSize: 2, warmupSteps: 2, evalEvery: 3, snapshotEvery: 2 },
      eval: { maxGroups: 6, samples: 1 },
    },
    inputDir: await tinyCheckpoint(join(dir, "input")),
  };
}

stageContract({ stage: "reward", create: () => createStage({ threads: 1 }), fixture });

describe("reward", () => {
  it("scores each of a prompt's K responses once: one forward row per response, all C(K,2) pairs from them", async () => {
    const dir = await tempDir();
    const model = await loadModel(await tinyCheckpoint(join(dir, "m")), "fixture");
    const tok = model.tokenizer;
    const weights = new Map(model.weights).set(
      SCORE_WEIGHT,
      Float32Array.from({ length: model.config.nEmbd }, (_, i) => Math.sin(i) * 0.5),
    );
    const prompt = promptIds(tok, DEFAULT_CHAT_TEMPLATE, "rev cat");
    const responses = ["tac", "cat", "no", "act"].map((r) => ({ prompt, response: responseIds(tok, r) }));
    const pairs: Array<[number, number]> = [
      [0, 3],
      [0, 1],
      [0, 2],
      [3, 1],
      [3, 2],
      [1, 2],
    ];
    const T = model.config.blockSize;
    // the training objective over one prompt: K = 4 rows in, 6 pair terms out
    const evaluator = await Evaluator.compile(model.config, {
      batch: 4,
      seq: T,
      threads: 1,
      objective: bradleyTerry(6),
    });
    evaluator.loadParams(weights);
    const batch = groupsBatch([{ prompt: "rev cat", responses: [], seqs: responses, pairs, where: "x" }], {
      prompts: 1,
      k: 4,
      seq: T,
      pad: tok.special.pad,
    });
    expect(batch.x.length).toBe(4 * T);
    const terms = await evaluator.lossTerms(batch);
    // the same four scores from the scoring program, and the pair losses by hand
    const scorer = await SeqProgram.compile(model.config, { rows: 4, seq: T, threads: 1, outputs: ["scores"] });
    scorer.load(weights);
    const s = (await scorer.run(seqRows(responses, 4, T, tok.special.pad))).scores as Float32Array;
    const expected = pairs.reduce(
      (acc, [b, w]) => acc + Math.log1p(Math.exp(-((s[b] as number) - (s[w] as number)))) / pairs.length,
      0,
    );
    expect(terms.count).toBeCloseTo(1, 6); // one prompt
    expect(terms.sum).toBeCloseTo(expected, 5);
    await evaluator.dispose();
    await scorer.dispose();
  });

  it("learns which answer people prefer: held-out pairwise accuracy from chance to >= 0.9, rewards centred", async () => {
    const dir = await tempDir();
    const f = await fixture(dir);
    const step = {
      name: "reward",
      stage: "reward",
      config: {
        train: { steps: 60, batchSize: 4, warmupSteps: 5, evalEvery: 30, snapshotEvery: 0 },
        optim: { lr: 3e-3 },
        eval: { maxGroups: 6, samples: 2 },
      },
      data: f.data,
    };
    const { ctx } = await localContext({ step, inputDir: f.inputDir });
    const r = await createStage({ threads: 1 }).train(ctx);
    expect(r.metrics?.pairwise_accuracy).toBeGreaterThanOrEqual(0.9);
    expect(r.metrics?.pairwise_accuracy_before).toBeLessThan(0.8);
    const out = await loadModel(ctx.outputDir, "reward output");
    expect(out.score?.weight.length).toBe(out.config.nEmbd);
    expect(out.score?.rewardBias).toBeCloseTo(r.metrics?.reward_bias as number, 6);
    const report = await readStageReport(ctx.outputDir);
    expect(report?.samples[0]?.after).toMatch(/\(([+-])\d/);
  });

  it("dead-letters a ranking that is not a permutation with file:line, before training", async () => {
    const dir = await tempDir();
    const f = await fixture(dir);
    const bad = await writeJsonl(dir, "bad.train.jsonl", [
      ...rankings(3, 0),
      { prompt: "rev cat", responses: ["tac", "cat"], ranking: [0, 0] },
    ]);
    const { ctx, progress } = await localContext({
      step: { name: "reward", stage: "reward", config: f.config, data: [bad, f.data[1]!] },
      inputDir: f.inputDir,
    });
    const err = await createStage({ threads: 1 })
      .train(ctx)
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(isBatonError(err) && err.code).toBe("DATASET_INVALID");
    expect(String((err as Error).message)).toMatch(/bad\.train\.jsonl:4: \/ranking must be a permutation/);
    expect(progress).toEqual([]);
  });
});
