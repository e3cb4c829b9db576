import { join } from "node:path";
import { isBatonError } from "@baton/contracts";
import { DEFAULT_CHAT_TEMPLATE } from "@baton/data";
import { Evaluator } from "@baton/model";
import { localContext, stageContract, tempDir, tinyCheckpoint, writeJsonl } from "@baton/stage-contract";
import { loadModel, promptIds, readStageReport, responseIds, rowsBatch, SeqProgram, seqRows } from "@baton/stage-lm";
import { describe, expect, it } from "vitest";
import { dpoLoss, responseLogp } from "./dpo-loss.ts";
import { createStage } from "./index.ts";

const WORDS = ["cat", "sun", "map", "red", "box", "pen"];
const rev = (w: string) => [...w].reverse().join("");
const pairs = (n: number, from: number) =>
  Array.from({ length: n }, (_, i) => {
    const w = WORDS[(from + i) % WORDS.length] as string;
    return { prompt: `rev ${w}`, chosen: rev(w), rejected: w };
  });
const asks = (n: number, from: number) =>
  Array.from({ length: n }, (_, i) => {
    const w = WORDS[(from + i) % WORDS.length] as string;
    return { instruction: `rev ${w}`, input: "", output: rev(w) };
  });

async function fixture(dir: string) {
  return {
    data: [
      await writeJsonl(dir, "prefs.train.jsonl", pairs(24, 0)),
      await writeJsonl(dir, "prefs.test.jsonl", pairs(6, 2)),
      await writeJsonl(dir, "asks.test.jsonl", asks(3, 1)),
    ],
    config: {
      train: { steps: 6, batchSize: 2, warmupSteps: 2, evalEvery: 3, snapshotEvery: 2 },
      eval: { maxPairs: 6, maxPrompts: 2, maxTokens: 6, samples: 1 },
    },
    inputDir: await tinyCheckpoint(join(dir, "input")),
  };
}

stageContract({ stage: "rlhf", create: () => createStage({ threads: 1 }), fixture });

describe("rlhf-dpo", () => {
  it("costs -log sigmoid(beta * margin) plus sftWeight times the chosen answer's mean NLL, per pair", async () => {
    const model = await loadModel(await tinyCheckpoint(join(await tempDir(), "m")), "fixture");
    const tok = model.tokenizer;
    const T = model.config.blockSize;
    const seqs = (p: string, c: string, r: string) => ({
      prompt: p,
      chosen: { prompt: promptIds(tok, DEFAULT_CHAT_TEMPLATE, p), response: responseIds(tok, c) },
      rejected: { prompt: promptIds(tok, DEFAULT_CHAT_TEMPLATE, p), response: responseIds(tok, r) },
    });
    const pairs = [
      { ...seqs("rev cat", "tac", "cat"), ref: [-9, -7] as [number, number] },
      { ...seqs("rev sun", "nus", "sunny"), ref: [-8, -12] as [number, number] },
    ];
    const lp = await SeqProgram.compile(model.config, { rows: 4, seq: T, threads: 1, outputs: ["logprobs"] });
    lp.load(model.weights);
    const rows = seqRows(
      pairs.flatMap((p) => [p.chosen, p.rejected]),
      4,
      T,
      tok.special.pad,
    );
    const logp = responseLogp((await lp.run(rows)).logprobs as Float32Array, rows.responseMask, 4, T);
    const beta = 0.3;
    const alpha = 0.7;
    const expected = pairs.reduce((acc, p, i) => {
      const margin = beta * ((logp[2 * i] as number) - p.ref[0] - ((logp[2 * i + 1] as number) - p.ref[1]));
      return acc + Math.log1p(Math.exp(-margin)) - (alpha * (logp[2 * i] as number)) / p.chosen.response.length;
    }, 0);
    for (const [weight, want] of [
      [alpha, expected],
      [0, expected + pairs.reduce((a, p, i) => a + (alpha * (logp[2 * i] as number)) / p.chosen.response.length, 0)],
    ] as const) {
      const ev = await Evaluator.compile(model.config, {
        batch: 4,
        seq: T,
        threads: 1,
        objective: dpoLoss(beta, weight),
      });
      ev.loadParams(model.weights);
      const terms = await ev.lossTerms(
        rowsBatch(rows, {
          ref_logp: Float32Array.from(pairs.flatMap((p) => p.ref)),
          pair_weight: Float32Array.of(1, 1),
        }),
      );
      expect(terms.count).toBeCloseTo(2, 6);
      expect(terms.sum).toBeCloseTo(want, 4);
      await ev.dispose();
    }
    await lp.dispose();
  });

  it("moves probability from rejected to chosen answers on held-out pairs", async () => {
    const f = await fixture(await tempDir());
    const step = {
      name: "rlhf",
      stage: "rlhf",
      config: {
        ...f.config,
        train: { steps: 40, batchSize: 4, warmupSteps: 4, evalEvery: 20, snapshotEvery: 0 },
        optim: { lr: 3e-3 },
        beta: 0.5,
      },
      data: f.data,
    };
    const { ctx } = await localContext({ step, inputDir: f.inputDir });
    const r = await createStage({ threads: 1 }).train(ctx);
    expect(r.metrics?.["rewards/accuracies"]).toBeGreaterThanOrEqual(0.9);
    expect(r.metrics?.["rewards/margins"]).toBeGreaterThan(0);
    expect((r.metrics?.["rewards/chosen"] as number) - (r.metrics?.["rewards/rejected"] as number)).toBeCloseTo(
      r.metrics?.["rewards/margins"] as number,
      5,
    );
    expect(r.inputs).toEqual([]); // the input checkpoint was the policy
    expect((await readStageReport(ctx.outputDir))?.evals.length).toBeGreaterThan(0);
  });

  it("starts from the earlier step named by policyStep and records it as the policy input", async () => {
    const dir = await tempDir();
    const f = await fixture(dir);
    const other = await tinyCheckpoint(join(dir, "other"), { seed: 9 });
    const { ctx } = await localContext({
      step: { name: "rlhf", stage: "rlhf", config: { ...f.config, policyStep: "instruct" }, data: f.data },
      inputDir: other,
      earlier: { instruct: f.inputDir },
    });
    const r = await createStage({ threads: 1 }).train(ctx);
    expect(r.inputs?.map((i) => i.role)).toEqual(["policy"]);
    expect(r.inputs?.[0]?.checkpoint.uri).toContain(f.inputDir);
  });

  it("refuses a policyStep that is not an earlier step, naming the config path", async () => {
    const f = await fixture(await tempDir());
    const { ctx, progress } = await localContext({
      step: { name: "rlhf", stage: "rlhf", config: { ...f.config, policyStep: "instrukt" }, data: f.data },
      inputDir: f.inputDir,
      earlier: { instruct: f.inputDir },
    });
    const err = await createStage({ threads: 1 })
      .train(ctx)
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(isBatonError(err) && err.code).toBe("CONFIG_INVALID");
    expect(String((err as Error).message)).toMatch(
      /\/config\/policyStep: step "instrukt" is not an earlier step .*earlier steps: instruct/,
    );
    expect(progress).toEqual([]);
  });
});
