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
import { BatonError, type RecipeStep } from "@baton/contracts";
import { adamw, compileTrainStep, type TrainStep } from "@baton/engine";
import { type Objective, SCORE_WEIGHT, traceGpt } from "@baton/model";
import type { StageContext, StageDefinition, TrainResult } from "@baton/runner";
import {
  type Answers,
  accuracyEffect,
  answerSamples,
  answersOf,
  datasetCounts,
  finish,
  heldOutWinRate,
  type LmSession,
  type LoadedModel,
  openSession,
  type PromptItem,
  prefsReading,
  readingData,
  readPrompts,
  requireSplit,
  rlhfModels,
  rlhfPlacement,
  SeqProgram,
  type SplitData,
  type StageDeps,
  sampledEffects,
  seqRows,
  stepProblems,
  storeOpener,
} from "@baton/stage-lm";
import { type Advantaged, KlController } from "./advantages.ts";
import { type PpoConfig, ppoConfig } from "./config.ts";
import type { Scored, Shape, UpdateStats } from "./iteration.ts";
import { advantagesOf, movement, scoreRollouts, update } from "./iteration.ts";
import { clippedPolicyLoss, clippedValueLoss } from "./losses.ts";
import { type Rollout, sampleRollouts } from "./rollout.ts";
import { decodeState, encodeState, type IterationLog, type PpoState } from "./state.ts";

export { gae, KlController, whiten } from "./advantages.ts";
export type { PpoConfig } from "./config.ts";
export { PPO_DEFAULTS, PPO_RULES, ppoConfig } from "./config.ts";
export const IMPLEMENTATION = "baton-gpt-rlhf-ppo";
export const VERSION = "0.1.0";

/** The step's config and its data split by role: every check that needs no training (train() runs it first). */
function checkedStep(step: RecipeStep): { cfg: PpoConfig; split: SplitData } {
  const cfg = ppoConfig(step);
  return { cfg, split: requireSplit(step, cfg.heldOut, true, "PPO") };
}

/** What the step needs of the steps before it (baton run checks it once validate() finds nothing). */
export function placementProblems(step: RecipeStep, earlier: readonly RecipeStep[]): string[] {
  return rlhfPlacement(earlier, { policyStep: ppoConfig(step).policyStep, needReward: true, what: "PPO" });
}

export function createStage(deps: StageDeps = {}): StageDefinition {
  const opener = storeOpener(deps.store, deps.dataAccess);
  const threads = deps.threads ?? 2;
  return {
    stage: "rlhf",
    implementation: IMPLEMENTATION,
    version: VERSION,
    validate: (step) => stepProblems(() => checkedStep(step)),
    async train(ctx: StageContext): Promise<TrainResult> {
      const startedAt = performance.now();
      const { cfg, split } = checkedStep(ctx.step);
      const models = { policyStep: cfg.policyStep, needReward: true, configPath: "/config" };
      const { policy, reward, inputs } = await rlhfModels(ctx, models);
      const rm = reward as LoadedModel & { score: NonNullable<LoadedModel["score"]> };
      const tok = policy.tokenizer;
      const T = policy.config.blockSize;
      const read = prefsReading(policy, cfg, opener);
      const train = await readingData(ctx.step.name, () => readPrompts(split.train, tok, { ...read, room: 2 }));
      const held = await readingData(ctx.step.name, () => readPrompts(split.heldOut, tok, { ...read, room: 4 }));
      if (train.items.length === 0) {
        const records = "instructions: alpaca, chat or prompt/completion records";
        const problem = `PPO needs prompts, and no training file of /data gives one (${records})`;
        throw BatonError.fatal("DATASET_INVALID", `recipe step "${ctx.step.name}": ${problem}`);
      }
      const heldOut = held.items.slice(0, cfg.eval.maxPrompts);
      const shape: Shape = { rows: cfg.rollouts / cfg.minibatches, seq: T, pad: tok.special.pad };

      // the four roles: policy (trained), reference (its starting weights), reward model, value model (trained)
      const program = { rows: shape.rows, seq: T, threads };
      const seed = ctx.seed;
      const session = await openSession(policy, { batchSize: shape.rows, optim: cfg.policyOptim, seed, threads });
      const reference = session.weights();
      const rewardWeights = new Map(rm.weights).set(SCORE_WEIGHT, rm.score.weight);
      const compiled = { shape, seed, threads };
      const policyStep = await trainStep(policy, clippedPolicyLoss(cfg.clipRange), cfg.policyOptim, compiled);
      const valueStep = await trainStep(rm, clippedValueLoss(cfg.clipRangeValue), cfg.valueOptim, compiled);
      policyStep.loadParams(reference);
      valueStep.loadParams(rewardWeights); // the value model starts as the reward model (InstructGPT, TRL)
      const lp = await SeqProgram.compile(policy.config, { ...program, outputs: ["logprobs", "entropy"] });
      const vs = await SeqProgram.compile(rm.config, { ...program, outputs: ["values", "scores"] });
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
          const state: PpoState = {
            iteration: done,
            updates,
            beta: kl.beta,
            log,
            plan,
            policy: { params: policyStep.params(), optimizer: policyStep.optimizerState() },
            value: { params: valueStep.params(), optimizer: valueStep.optimizerState() },
          };
          await ctx.snapshot.save(done, encodeState(state));
        };
        const judged = { vs, rewardWeights, bias: rm.score.rewardBias, prompts: heldOut, tok, cfg, shape };
        const judge = (weights: ReadonlyMap<string, Float32Array>) => heldOutScores(session, weights, judged);
        const before = await judge(reference);

        while (done < cfg.iterations) {
          if (ctx.signal.aborted) {
            await snapshot();
            const where = `step ${ctx.step.name} stopped after PPO iteration ${done} of ${cfg.iterations}`;
            throw BatonError.retry("INTERRUPTED", `${where}; snapshot saved, another worker resumes`);
          }
          const iteration = done + 1;
          const policyNow = policyStep.params();
          const t0 = performance.now();
          // 1. rollout
          session.loadWeights(policyNow);
          const rollouts = await sampleRollouts(await session.sampling(), train.items, {
            count: cfg.rollouts,
            seed,
            iteration,
            maxNewTokens: cfg.maxNewTokens,
            temperature: cfg.temperature,
            eos: tok.special.eos,
            blockSize: T,
          });
          const t1 = performance.now();
          // 2. score
          const weights = { policy: policyNow, reference, value: valueStep.params(), reward: rewardWeights };
          const scored = await scoreRollouts(rollouts, { lp, vs, ...weights, rewardBias: rm.score.rewardBias }, shape);
          // 3. advantage
          const { gamma, lam, noEosPenalty, whitenAdvantages: whiten } = cfg;
          const adv = advantagesOf(rollouts, scored, { beta: kl.beta, gamma, lam, noEosPenalty, whiten });
          const t2 = performance.now();
          // 4. update
          const lrs = { policyLr: cfg.policyOptim.lr, valueLr: cfg.valueOptim.lr };
          const steps = { policy: policyStep, value: valueStep, ...lrs };
          const order = { epochs: cfg.epochs, seed, iteration, updates };
          const stats = await update(rollouts, scored, adv, steps, order, shape);
          const t3 = performance.now();
          if (!Number.isFinite(stats.policyLoss) || !Number.isFinite(stats.valueLoss)) {
            const losses = `policy loss ${stats.policyLoss} and value loss ${stats.valueLoss}`;
            const gave = `step ${ctx.step.name}: PPO iteration ${iteration} gave ${losses}`;
            throw BatonError.fatal("TRAIN_FAILED", `${gave}; lower policyOptim.lr / valueOptim.lr`);
          }
          const moved = await movement(lp, policyStep.params(), rollouts, scored, cfg.clipRange, shape);
          updates = stats.updates;
          const seconds: [number, number, number, number] = [t0, t1, t2, t3];
          const metrics = iterationMetrics({ rollouts, scored, adv, stats, moved, beta: kl.beta, seconds });
          kl.update(metrics["objective/kl"], rollouts.length);
          done = iteration;
          log.push({ iteration, metrics });
          const shown = { loss: stats.policyLoss, reward: metrics["objective/score"], kl: metrics["objective/kl"] };
          ctx.progress({ trainStep: iteration, totalSteps: cfg.iterations, metrics: shown });
          if (cfg.snapshotEvery > 0 && done % cfg.snapshotEvery === 0 && done < cfg.iterations) await snapshot();
        }
        const trained = policyStep.params();
        const after = await judge(trained);
        session.loadWeights(trained);
        const last = log.at(-1)?.metrics ?? {};
        const rolloutSeconds = log.reduce((s, l) => s + (l.metrics["time/rollout_s"] ?? 0), 0);
        const rolloutTokens = log.reduce((s, l) => s + (l.metrics["response/length"] ?? 0) * cfg.rollouts, 0);
        const rolloutTokensPerS = rolloutTokens / Math.max(rolloutSeconds, 1e-9);
        const curve = log.map((l) => ({ step: l.iteration, loss: l.metrics["loss/policy"] ?? Number.NaN }));
        const evals = log.map((l) => ({ step: l.iteration, metrics: l.metrics }));
        const withReward = (a: Judged, i: number) => `${a.answers.texts[i] ?? ""}  [reward ${fmt(a.perPrompt[i])}]`;
        const shown = heldOut.slice(0, cfg.eval.samples);
        return {
          ...(await finish(ctx, {
            model: policy,
            session,
            run: { curve, evals, tokensPerSecond: rolloutTokensPerS, resumedFrom: 0 },
            effect: {
              heldout_reward: { before: before.reward, after: after.reward },
              ...accuracyEffect(before.answers, after.answers),
              eos_rate: { before: before.answers.eosRate, after: after.answers.eosRate },
              ...heldOutWinRate(heldOut, before.answers, after.answers),
              ...sampledEffects(heldOut, before.sampled, after.sampled, cfg.eval.sampled),
              response_length: { before: before.answers.meanLength, after: after.answers.meanLength },
            },
            samples: answerSamples(
              shown,
              shown.map((_, i) => withReward(before, i)),
              shown.map((_, i) => withReward(after, i)),
            ),
            datasets: datasetCounts([...train.reports, ...held.reports]),
            implementation: IMPLEMENTATION,
            startedAt,
            metrics: {
              kl: last["objective/kl"] ?? 0,
              beta: kl.beta,
              iterations: done,
              rollout_tokens_per_s: rolloutTokensPerS,
            },
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

/** The diagnostics of one iteration, named as TRL names them; `seconds` are the phase boundaries t0..t3 (ms). */
function iterationMetrics(o: {
  rollouts: readonly Rollout[];
  scored: Scored;
  adv: readonly Advantaged[];
  stats: UpdateStats;
  moved: { clipFrac: number; approxKl: number };
  beta: number;
  seconds: [number, number, number, number];
}): Record<string, number> & { "objective/kl": number; "objective/score": number } {
  const { rollouts, scored, adv, stats, moved } = o;
  const [t0, t1, t2, t3] = o.seconds;
  const tokens = rollouts.reduce((n, r) => n + r.response.length, 0);
  const entropy = scored.entropy.reduce((s, e) => s + e.reduce((a, b) => a + b, 0), 0);
  return {
    "objective/score": mean(scored.scores),
    "objective/reward": mean(adv.map((a) => a.reward)),
    "objective/kl": mean(adv.map((a) => a.kl)),
    "objective/beta": o.beta,
    "objective/entropy": entropy / Math.max(tokens, 1),
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
}

/** A clipped-loss train step over M rows, no dropout (PPO's ratios compare like with like). */
async function trainStep(
  model: LoadedModel,
  objective: Objective,
  optim: PpoConfig["policyOptim"],
  o: { shape: Shape; seed: number; threads: number },
): Promise<TrainStep> {
  const { shape: s, seed, threads } = o;
  const trace = traceGpt(model.config, { batch: s.rows, seq: s.seq, dropout: 0 });
  const optimizer = adamw({ beta1: optim.beta1, beta2: optim.beta2, eps: 1e-8, weightDecay: optim.weightDecay });
  const clip = optim.clipNorm > 0 ? { clipNorm: optim.clipNorm } : {};
  return compileTrainStep({ graph: trace.g, loss: objective(trace), optimizer, ...clip, seed, threads });
}

async function resume(ctx: StageContext, plan: string): Promise<PpoState | null> {
  const latest = await ctx.snapshot.latest();
  if (!latest) return null;
  const files: Record<string, Uint8Array> = {};
  for (const name of await readdir(latest.dir)) files[name] = new Uint8Array(await readFile(join(latest.dir, name)));
  const state = decodeState(files, `snapshot ${latest.trainStep}`);
  if (state.plan !== plan) {
    const what = `the resume snapshot at iteration ${state.iteration} was taken with another config`;
    throw BatonError.fatal("CONFIG_INVALID", `step ${ctx.step.name}: ${what}; restore it or start a new run`);
  }
  return state;
}

/** The held-out prompts' answers under some weights, each greedy answer scored by the reward model. */
interface Judged {
  answers: Answers;
  sampled: Answers | null;
  /** the reward of each greedy answer (NaN: empty, or too long for the block) */
  perPrompt: number[];
  reward: number;
}

/** Greedy answers to the held-out prompts under `weights`, each scored by the reward model. */
async function heldOutScores(
  session: LmSession,
  weights: ReadonlyMap<string, Float32Array>,
  o: {
    vs: SeqProgram;
    rewardWeights: ReadonlyMap<string, Float32Array>;
    bias: number;
    prompts: readonly PromptItem[];
    tok: LoadedModel["tokenizer"];
    cfg: PpoConfig;
    shape: Shape;
  },
): Promise<Judged> {
  const { vs, prompts, tok, shape: s } = o;
  session.loadWeights(weights);
  const { greedy: answers, sampled } = await answersOf(session, tok, prompts, o.cfg.eval);
  vs.load(o.rewardWeights);
  const perPrompt: number[] = [];
  for (let i = 0; i < prompts.length; i += s.rows) {
    const seqs = prompts.slice(i, i + s.rows).map((p, j) => {
      const eos = answers.endedWithEos[i + j] ? [tok.special.eos] : [];
      return { prompt: p.ids, response: [...tok.encode(answers.texts[i + j] ?? ""), ...eos] };
    });
    const usable = seqs.map((q) => (q.response.length > 0 && q.prompt.length + q.response.length <= s.seq ? q : null));
    const { scores } = await vs.run(seqRows(usable, s.rows, s.seq, s.pad));
    usable.forEach((q, j) => perPrompt.push(q && scores ? (scores[j] ?? Number.NaN) + o.bias : Number.NaN));
  }
  const finite = perPrompt.filter(Number.isFinite);
  return { answers, sampled, perPrompt, reward: mean(finite) };
}
