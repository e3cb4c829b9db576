import { join } from "node:path";
import { isBatonError } from "@baton/contracts";
import { localContext, stageContract, tempDir, tinyCheckpoint, writeJsonl } from "@baton/stage-contract";
import { loadModel, readStageReport, saveModel } from "@baton/stage-lm";
import { describe, expect, it } from "vitest";
import { gae, KlController, whiten } from "./advantages.ts";
import { createStage } from "./index.ts";

const WORDS = ["cat", "sun", "map", "red", "box", "pen"];
const asks = (n: number, from: number) =>
  Array.from({ length: n }, (_, i) => {
    const w = WORDS[(from + i) % WORDS.length] as string;
    return { instruction: `rev ${w}`, input: "", output: [...w].reverse().join("") };
  });

/** A reward model: the policy's architecture with a score head (a random one: the contract checks mechanics). */
async function rewardModel(dir: string, from: string): Promise<string> {
  const m = await loadModel(from, "policy fixture");
  const weight = Float32Array.from({ length: m.config.nEmbd }, (_, i) => Math.cos(i) * 0.3);
  await saveModel(dir, { ...m, score: { weight, rewardBias: 0.1 } });
  return dir;
}

async function fixture(dir: string) {
  const policy = await tinyCheckpoint(join(dir, "policy"));
  return {
    data: [
      await writeJsonl(dir, "asks.train.jsonl", asks(12, 0)),
      await writeJsonl(dir, "asks.test.jsonl", asks(3, 2)),
    ],
    config: {
      iterations: 4,
      rollouts: 4,
      minibatches: 2,
      epochs: 1,
      maxNewTokens: 6,
      snapshotEvery: 2,
      eval: { maxPrompts: 2, maxTokens: 6, samples: 1 },
    },
    inputDir: await rewardModel(join(dir, "reward"), policy),
    policyDir: policy,
  };
}

// the relay hands PPO the reward model; the manifest of a reward model names the policy as its parent
const contextFor = (f: Awaited<ReturnType<typeof fixture>>) => ({ inputParentDir: f.policyDir });

stageContract({ stage: "rlhf", create: () => createStage({ threads: 1 }), fixture, context: contextFor });

describe("rlhf-ppo", () => {
  it("GAE: per-token KL penalty, the score on the last token, a penalty without EOS, values bootstrapped", () => {
    const tr = {
      logp: Float64Array.of(-1, -2),
      refLogp: Float64Array.of(-1.5, -1),
      values: Float64Array.of(0.5, 0.25),
      score: 2,
      endedWithEos: false,
    };
    const a = gae(tr, { beta: 0.1, gamma: 1, lam: 0.5, noEosPenalty: 1 });
    // rewards: r0 = -0.1 * 0.5 = -0.05; r1 = -0.1 * -1 + (2 - 1) = 1.1
    const d1 = 1.1 - 0.25; // V_2 = 0
    const d0 = -0.05 + 0.25 - 0.5;
    expect(a.advantages[1]).toBeCloseTo(d1, 12);
    expect(a.advantages[0]).toBeCloseTo(d0 + 0.5 * d1, 12);
    expect(a.returns[0]).toBeCloseTo((a.advantages[0] as number) + 0.5, 12);
    expect(a.kl).toBeCloseTo(-0.5, 12);
    expect(a.reward).toBe(1);
    const all = [Float64Array.of(1, 2, 3), Float64Array.of(5)];
    whiten(all);
    const flat = all.flatMap((x) => [...x]);
    expect(flat.reduce((s, v) => s + v, 0)).toBeCloseTo(0, 10);
  });

  it("the adaptive KL controller raises beta above the target KL and lowers it below, by at most 20% a horizon", () => {
    const up = new KlController(0.1, { mode: "adaptive", target: 1, horizon: 100 });
    up.update(10, 100);
    expect(up.beta).toBeCloseTo(0.12, 12);
    const down = new KlController(0.1, { mode: "adaptive", target: 1, horizon: 100 });
    down.update(0.5, 50);
    expect(down.beta).toBeCloseTo(0.1 * (1 - 0.2 * 0.5), 12);
    const fixed = new KlController(0.1, { mode: "fixed", target: 1, horizon: 100 });
    fixed.update(10, 100);
    expect(fixed.beta).toBe(0.1);
  });

  it("learns what the reward says: a random policy penalised for running out of tokens learns to stop, logging every diagnostic", async () => {
    const f = await fixture(await tempDir());
    const config = {
      ...f.config,
      iterations: 15,
      rollouts: 32,
      minibatches: 4,
      epochs: 2,
      maxNewTokens: 4,
      noEosPenalty: 2,
      policyOptim: { lr: 3e-3 },
      kl: { beta: 0.01 },
      snapshotEvery: 0,
    };
    const { ctx } = await localContext({
      step: { name: "rlhf", stage: "rlhf", config, data: f.data },
      inputDir: f.inputDir,
      inputParentDir: f.policyDir,
    });
    const r = await createStage({ threads: 1 }).train(ctx);
    expect(r.inputs?.map((i) => i.role)).toEqual(["policy"]);
    const evals = (await readStageReport(ctx.outputDir))?.evals ?? [];
    expect(evals).toHaveLength(15);
    const mean = (k: string, from: number, to: number) =>
      evals.slice(from, to).reduce((a, e) => a + (e.metrics[k] as number), 0) / (to - from);
    // a uniform policy over ~100 symbols stops within 4 tokens about 4% of the time
    expect(mean("response/eos_rate", 0, 3)).toBeLessThan(0.2);
    expect(mean("response/eos_rate", 12, 15)).toBeGreaterThan(0.8);
    expect(mean("objective/reward", 12, 15)).toBeGreaterThan(mean("objective/reward", 0, 3) + 1);
    expect(r.metrics?.eos_rate).toBeGreaterThan(r.metrics?.eos_rate_before as number);
    for (const k of [
      "objective/score",
      "objective/kl",
      "objective/entropy",
      "policy/clipfrac",
      "policy/approxkl",
      "loss/policy",
      "loss/value",
      "response/length",
      "objective/beta",
    ]) {
      expect(Number.isFinite(evals[0]?.metrics[k]), k).toBe(true);
    }
  });

  it("refuses a reward step's input without a score head, naming the checkpoint, before sampling", async () => {
    const f = await fixture(await tempDir());
    const { ctx, progress } = await localContext({
      step: { name: "rlhf", stage: "rlhf", config: f.config, data: f.data },
      inputDir: f.policyDir,
    });
    const err = await createStage({ threads: 1 })
      .train(ctx)
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(isBatonError(err) && err.code).toBe("CHECKPOINT_INVALID");
    expect(String((err as Error).message)).toMatch(/has no score head.*put a reward step before it/);
    expect(progress).toEqual([]);
  });
});
