// Stage `rlhf`, implementation `rlhf-ppo`, as a recipe (the order PPO runs in):
//   consumes  the reward model's checkpoint (its parent, or `policyStep`, is the policy) and the
//             step's data: instructions as prompts, held-out ones with reference answers
//   roles     policy (trained), reference (the frozen starting policy), reward model (frozen, score at
//             the response's last token), value model (trained, initialised from the reward model)
//   each iteration
//     1. rollout    the policy answers `rollouts` prompts with the KV-cache sampler
//     2. score      log-probs under policy and reference, values, the reward model's score
//     3. advantage  per-token reward = -beta * KL + score at the end (- a penalty without EOS); GAE; whiten
//     4. update     `epochs` x shuffled minibatches of the clipped policy and value losses
//     then the adaptive KL controller moves beta towards the target KL
//   emits     the policy, with mean reward, KL, entropy, clip fraction, value loss, approx KL, response
//             length and EOS rate per iteration, and held-out reward and accuracy before and after
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { type BadRecordPolicy, chatTemplateOf } from "@baton/data";
import { adamw, compileTrainStep, type TrainStep } from "@baton/engine";
import { SCORE_WEIGHT, type Objective, traceGpt } from "@baton/model";
import { BatonError } from "@baton/contracts";
import type { StageContext, StageDefinition, TrainResult } from "@baton/runner";
import { type LmSession, type LoadedModel, type PromptItem, SeqProgram, type StageDeps, answerPrompts, datasetCounts, heldOutWinRate, sampledEffects, EVAL_SEED, finish, openSession, readPrompts, readingData, requireData, stepProblems, rlhfModels, seqRows, splitByRole, storeOpener } from "@baton/stage-lm";
import { KlController } from "./advantages.ts";
import { type PpoConfig, ppoConfig } from "./config.ts";
import { type Shape, advantagesOf, movement, scoreRollouts, update } from "./iteration.ts";
import { clippedPolicyLoss, clippedValueLoss } from "./losses.ts";
import { sampleRollouts } from "./rollout.ts";
import { type IterationLog, type PpoState, decodeState, encodeState } from "./state.ts";

export { PPO_DEFAULTS, PPO_RULES, ppoConfig } from "./config.ts";
export type { PpoConfig } from "./config.ts";
export { gae, whiten, KlController } from "./advantages.ts";
export const IMPLEMENTATION = "baton-gpt-rlhf-ppo";
export const VERSION = "0.1.0";

export function createStage(deps: StageDeps = {}): StageDefinition {
  const opener = storeOpener(deps.store, deps.dataAccess);
  const threads = deps.threads ?? 2;
  return {
    stage: "rlhf",
    implementation: IMPLEMENTATION,
    version: VERSION,
    // The checks train() starts with, run before anything is published (baton run, the relay).
    validate: (step) => stepProblems(() => requireData(step, splitByRole(step.data, ppoConfig(step).heldOut), true, "PPO")),
    async train(ctx: StageContext): Promise<TrainResult> {
      const startedAt = performance.now();
      const cfg = ppoConfig(ctx.step);
      const split = splitByRole(ctx.step.data, cfg.heldOut);
      requireData(ctx.step, split, true, "PPO");
      const { policy, reward, inputs } = await rlhfModels(ctx, { policyStep: cfg.policyStep, needReward: true, configPath: "/config" });
      const rm = reward as LoadedModel & { score: NonNullable<LoadedModel["score"]> };
      const tok = policy.tokenizer;
      const T = policy.config.blockSize;
      const read = { policy: cfg.policy as BadRecordPolicy, maxChars: cfg.maxChars, opener, template: chatTemplateOf(policy.tokenizerConfig), blockSize: T };
      const train = await readingData(ctx.step.name, () => readPrompts(split.train, tok, { ...read, room: 2 }));
      const held = await readingData(ctx.step.name, () => readPrompts(split.heldOut, tok, { ...read, room: 4 }));
      if (train.items.length === 0) throw BatonError.fatal("DATASET_INVALID", `recipe step "${ctx.step.name}": PPO needs prompts, and no training file of /data gives one (instructions: alpaca, chat or prompt/completion records)`);
      const heldOut = held.items.slice(0, cfg.eval.maxPrompts);
      const shape: Shape = { rows: cfg.rollouts / cfg.minibatches, seq: T, pad: tok.special.pad };

      // the four roles
      const session = await openSession(policy, { batchSize: shape.rows, optim: cfg.policyOptim, seed: ctx.seed, threads });
      const reference = session.weights();
      const rewardWeights = new Map(rm.weights).set(SCORE_WEIGHT, rm.score.weight);
      const policyStep = await trainStep(policy, clippedPolicyLoss(cfg.clipRange), cfg.policyOptim, shape, ctx.seed, threads);
      const valueStep = await trainStep(rm, clippedValueLoss(cfg.clipRangeValue), cfg.valueOptim, shape, ctx.seed, threads);
      policyStep.loadParams(reference);
      valueStep.loadParams(rewardWeights); // the value model starts as the reward model (InstructGPT, TRL)
      const lp = await SeqProgram.compile(policy.config, { rows: shape.rows, seq: T, threads, outputs: ["logprobs", "entropy"] });
      const vs = await SeqProgram.compile(rm.config, { rows: shape.rows, seq: T, threads, outputs: ["values", "scores"] });
      const kl = new KlController(cfg.kl.beta, cfg.kl);
      const plan = JSON.stringify({ ...cfg, eval: undefined, snapshotEvery: undefined });
      let done = 0;
      let updates = 0;
      let log: IterationLog[] = [];
      try {
        const resumed = await resume(ctx, plan);
        if (resumed) {
          policyStep.loadParams(resumed.policy.params);
          policyStep.loadOptimizerState(resumed.policy.optimizer);
          valueStep.loadParams(resumed.value.params);
          valueStep.loadOptimizerState(resumed.value.optimizer);
          ({ iteration: done, updates, log } = resumed);
          kl.beta = resumed.beta;
          ctx.log.info("resumed from snapshot", { iteration: done });
        }
        const snapshot = async () => {
          const state: PpoState = { iteration: done, updates, beta: kl.beta, log, plan, policy: { params: policyStep.params(), optimizer: policyStep.optimizerState() }, value: { params: valueStep.params(), optimizer: valueStep.optimizerState() } };
          await ctx.snapshot.save(done, encodeState(state));
        };
        const judge = (weights: ReadonlyMap<string, Float32Array>) => heldOutScores(session, weights, vs, rewardWeights, rm.score.rewardBias, heldOut, tok, cfg, shape);
        const before = await judge(reference);

        while (done < cfg.iterations) {
          if (ctx.signal.aborted) {
            await snapshot();
            throw BatonError.retry("INTERRUPTED", `step ${ctx.step.name} stopped after PPO iteration ${done} of ${cfg.iterations}; snapshot saved, another worker resumes`);
          }
          const iteration = done + 1;
          const policyNow = policyStep.params();
          const t0 = performance.now();
          session.loadWeights(policyNow);
          const rollouts = await sampleRollouts(await session.sampling(), train.items, { count: cfg.rollouts, seed: ctx.seed, iteration, maxNewTokens: cfg.maxNewTokens, temperature: cfg.temperature, eos: tok.special.eos, blockSize: T });
          const t1 = performance.now();
          const scored = await scoreRollouts(rollouts, { lp, vs, policy: policyNow, reference, value: valueStep.params(), reward: rewardWeights, rewardBias: rm.score.rewardBias }, shape);
          const adv = advantagesOf(rollouts, scored, { beta: kl.beta, gamma: cfg.gamma, lam: cfg.lam, noEosPenalty: cfg.noEosPenalty, whiten: cfg.whitenAdvantages });
          const t2 = performance.now();
          const stats = await update(rollouts, scored, adv, { policy: policyStep, value: valueStep, policyLr: cfg.policyOptim.lr, valueLr: cfg.valueOptim.lr }, { epochs: cfg.epochs, seed: ctx.seed, iteration, updates }, shape);
          const t3 = performance.now();
          if (!Number.isFinite(stats.policyLoss) || !Number.isFinite(stats.valueLoss)) {
            throw BatonError.fatal("TRAIN_FAILED", `step ${ctx.step.name}: PPO iteration ${iteration} gave policy loss ${stats.policyLoss} and value loss ${stats.valueLoss}; lower policyOptim.lr / valueOptim.lr`);
          }
          const moved = await movement(lp, policyStep.params(), rollouts, scored, cfg.clipRange, shape);
          updates = stats.updates;
          const meanKl = mean(adv.map((a) => a.kl));
          const tokens = rollouts.reduce((n, r) => n + r.response.length, 0);
          const metrics: Record<string, number> = {
            "objective/score": mean(scored.scores),
            "objective/reward": mean(adv.map((a) => a.reward)),
            "objective/kl": meanKl,
            "objective/beta": kl.beta,
            "objective/entropy": scored.entropy.reduce((s, e) => s + e.reduce((a, b) => a + b, 0), 0) / Math.max(tokens, 1),
            "policy/clipfrac": moved.clipFrac,
            "policy/approxkl": moved.approxKl,
            "loss/policy": stats.policyLoss,
            "loss/value": stats.valueLoss,
            "response/length": tokens / rollouts.length,
            "response/eos_rate": rollouts.filter((r) => r.endedWithEos).length / rollouts.length,
            "time/rollout_s": (t1 - t0) / 1000,
            "time/score_s": (t2 - t1) / 1000,
            "time/update_s": (t3 - t2) / 1000,
            "time/rollout_tokens_per_s": tokens / ((t1 - t0) / 1000),
          };
          kl.update(meanKl, rollouts.length);
          done = iteration;
          log.push({ iteration, metrics });
          ctx.progress({ trainStep: iteration, totalSteps: cfg.iterations, metrics: { loss: stats.policyLoss, reward: metrics["objective/score"] as number, kl: meanKl } });
          if (cfg.snapshotEvery > 0 && done % cfg.snapshotEvery === 0 && done < cfg.iterations) await snapshot();
        }
        const trained = policyStep.params();
        const after = await judge(trained);
        session.loadWeights(trained);
        const last = log.at(-1)?.metrics ?? {};
        const rolloutSeconds = log.reduce((s, l) => s + (l.metrics["time/rollout_s"] as number), 0);
        const rolloutTokens = log.reduce((s, l) => s + (l.metrics["response/length"] as number) * cfg.rollouts, 0);
        return {
          ...(await finish(ctx, {
            model: policy,
            session,
            run: { curve: log.map((l) => ({ step: l.iteration, loss: l.metrics["loss/policy"] as number })), evals: log.map((l) => ({ step: l.iteration, metrics: l.metrics })), tokensPerSecond: rolloutTokens / Math.max(rolloutSeconds, 1e-9), resumedFrom: 0 },
            effect: {
              heldout_reward: { before: before.reward, after: after.reward },
              ...(Number.isFinite(after.answers.accuracy) ? { heldout_accuracy: { before: before.answers.accuracy, after: after.answers.accuracy } } : {}),
              eos_rate: { before: before.answers.eosRate, after: after.answers.eosRate },
              ...heldOutWinRate(heldOut, before.answers, after.answers),
              ...sampledEffects(heldOut, before.sampled, after.sampled, cfg.eval.sampled),
              response_length: { before: before.answers.meanLength, after: after.answers.meanLength },
            },
            samples: heldOut.slice(0, cfg.eval.samples).map((p, i) => ({
              prompt: p.prompt,
              before: `${before.answers.texts[i] ?? ""}  [reward ${fmt(before.perPrompt[i])}]`,
              after: `${after.answers.texts[i] ?? ""}  [reward ${fmt(after.perPrompt[i])}]`,
              ...(p.reference !== undefined ? { reference: p.reference } : {}),
            })),
            datasets: datasetCounts([...train.reports, ...held.reports]),
            implementation: IMPLEMENTATION,
            startedAt,
            metrics: { kl: last["objective/kl"] ?? 0, beta: kl.beta, iterations: done, rollout_tokens_per_s: rolloutTokens / Math.max(rolloutSeconds, 1e-9) },
          })),
          inputs,
        };
      } finally {
        await Promise.all([policyStep.dispose(), valueStep.dispose(), lp.dispose(), vs.dispose()]);
      }
    },
  };
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(xs.length, 1);
const fmt = (x: number | undefined): string => (x === undefined ? "?" : `${x >= 0 ? "+" : ""}${x.toFixed(2)}`);

/** A clipped-loss train step over M rows, no dropout (PPO's ratios compare like with like). */
async function trainStep(model: LoadedModel, objective: Objective, optim: PpoConfig["policyOptim"], s: Shape, seed: number, threads: number): Promise<TrainStep> {
  const trace = traceGpt(model.config, { batch: s.rows, seq: s.seq, dropout: 0 });
  return compileTrainStep({ graph: trace.g, loss: objective(trace), optimizer: adamw({ beta1: optim.beta1, beta2: optim.beta2, eps: 1e-8, weightDecay: optim.weightDecay }), ...(optim.clipNorm > 0 ? { clipNorm: optim.clipNorm } : {}), seed, threads });
}

async function resume(ctx: StageContext, plan: string): Promise<PpoState | null> {
  const latest = await ctx.snapshot.latest();
  if (!latest) return null;
  const files: Record<string, Uint8Array> = {};
  for (const name of await readdir(latest.dir)) files[name] = new Uint8Array(await readFile(join(latest.dir, name)));
  const state = decodeState(files, `snapshot ${latest.trainStep}`);
  if (state.plan !== plan) throw BatonError.fatal("CONFIG_INVALID", `step ${ctx.step.name}: the resume snapshot at iteration ${state.iteration} was taken with another config; restore it or start a new run`);
  return state;
}

/** Greedy answers to the held-out prompts under `weights`, each scored by the reward model. */
async function heldOutScores(session: LmSession, weights: ReadonlyMap<string, Float32Array>, vs: SeqProgram, rewardWeights: ReadonlyMap<string, Float32Array>, bias: number, prompts: readonly PromptItem[], tok: LoadedModel["tokenizer"], cfg: PpoConfig, s: Shape) {
  session.loadWeights(weights);
  const answers = await answerPrompts(session, tok, prompts, cfg.eval.maxTokens);
  const sampled = cfg.eval.sampled > 0 ? await answerPrompts(session, tok, prompts, cfg.eval.maxTokens, { samples: cfg.eval.sampled, seed: EVAL_SEED }) : null;
  vs.load(rewardWeights);
  const perPrompt: number[] = [];
  for (let i = 0; i < prompts.length; i += s.rows) {
    const seqs = prompts.slice(i, i + s.rows).map((p, j) => ({ prompt: p.ids, response: [...tok.encode(answers.texts[i + j] ?? ""), ...(answers.endedWithEos[i + j] ? [tok.special.eos] : [])] }));
    const usable = seqs.map((q) => (q.response.length > 0 && q.prompt.length + q.response.length <= s.seq ? q : null));
    const scores = (await vs.run(seqRows(usable, s.rows, s.seq, s.pad))).scores as Float32Array;
    usable.forEach((q, j) => perPrompt.push(q ? (scores[j] as number) + bias : Number.NaN));
  }
  const finite = perPrompt.filter(Number.isFinite);
  return { answers, sampled, perPrompt, reward: mean(finite) };
}
