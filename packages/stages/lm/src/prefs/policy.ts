// Where an RLHF step's models come from. The incoming checkpoint is the reward model when a reward
// step ran before (its manifest's parent is the policy it was trained from: by default the step
// before the reward step); `policyStep` names another earlier step of the run instead. A step after
// a plain LM checkpoint (DPO straight after instruct) starts its policy from that checkpoint.
import { BatonError, type CheckpointRef, type InputRef, type RecipeStep } from "@baton/contracts";
import type { StageContext } from "@baton/runner";
import { type LoadedModel, loadModel } from "../checkpoint-io.ts";
import { closestName } from "../config.ts";
import { startFrom } from "../stage-steps.ts";

export interface RlhfModels {
  policy: LoadedModel;
  /** the incoming checkpoint when it is a reward model */
  reward: LoadedModel | null;
  /** the policy's checkpoint, for the manifest's `inputs`, when it is not the incoming one */
  inputs: InputRef[];
}

/**
 * Where an RLHF step can sit in a recipe, checked before anything runs (rlhfModels finds the same at
 * train time, after every earlier step has trained): `policyStep` names an earlier step that trains
 * a policy, and with `needReward` the step right before is a reward step (its checkpoint is the
 * input). Problems are relative to the step, as validate() gives them.
 */
export function rlhfPlacement(
  earlier: readonly RecipeStep[],
  o: { policyStep: string | null; needReward: boolean; what: string },
): string[] {
  const problems: string[] = [];
  const before = earlier.at(-1);
  if (o.needReward && before?.stage !== "reward") {
    const which = before ? `"${before.name}" (stage ${before.stage})` : "none (it is the first step)";
    problems.push(
      `${o.what} optimises the policy against a reward model, the step before's checkpoint, but the step before is ${which}; put a reward step right before it`,
    );
  }
  if (o.policyStep !== null) {
    const named = earlier.find((s) => s.name === o.policyStep);
    const names = earlier.map((s) => s.name).join(", ") || "none";
    if (!named) {
      const near = closestName(
        o.policyStep,
        earlier.map((s) => s.name),
      );
      const hint = near ? ` (did you mean "${near}"?)` : "";
      problems.push(
        `/config/policyStep: "${o.policyStep}" is not an earlier step of the recipe${hint}; earlier steps: ${names}; name the step whose checkpoint is the policy, or remove the key`,
      );
    } else if (named.stage === "reward")
      problems.push(
        `/config/policyStep: "${o.policyStep}" is a reward step, whose checkpoint is a reward model; name the step that trained the policy (instruct, say)`,
      );
  }
  return problems;
}

export async function rlhfModels(
  ctx: StageContext,
  o: { policyStep: string | null; needReward: boolean; configPath: string },
): Promise<RlhfModels> {
  const incoming = await startFrom(ctx);
  const input = ctx.input as NonNullable<StageContext["input"]>;
  if (o.needReward && !incoming.score) {
    throw BatonError.fatal(
      "CHECKPOINT_INVALID",
      `recipe step "${ctx.step.name}" (${ctx.step.stage}) optimises a policy against a reward model, but its input checkpoint ${input.ref.uri} has no score head (config.json does not name GPT2ForSequenceClassification); put a reward step before it`,
    );
  }
  let ref: CheckpointRef | null = null;
  if (o.policyStep !== null) {
    ref = await ctx.stepCheckpoint(o.policyStep).catch((err: unknown) => {
      throw BatonError.fatal(
        "CONFIG_INVALID",
        `recipe step "${ctx.step.name}" ${o.configPath}/policyStep: ${(err as Error).message}`,
      );
    });
    if (!ref)
      throw BatonError.fatal(
        "CONFIG_INVALID",
        `recipe step "${ctx.step.name}" ${o.configPath}/policyStep: step ${JSON.stringify(o.policyStep)} has no committed checkpoint in run ${ctx.runId}`,
      );
  } else if (incoming.score) {
    ref = input.manifest.parent;
    if (!ref)
      throw BatonError.fatal(
        "CHECKPOINT_INVALID",
        `recipe step "${ctx.step.name}": the reward model ${input.ref.uri} has no parent checkpoint to start the policy from; name one with ${o.configPath}/policyStep`,
      );
  }
  if (!ref) return { policy: incoming, reward: null, inputs: [] };
  const opened = await ctx.openCheckpoint(ref);
  const policy = await loadModel(opened.dir, `policy checkpoint ${ref.uri}`);
  if (policy.score)
    throw BatonError.fatal(
      "CHECKPOINT_INVALID",
      `recipe step "${ctx.step.name}": the policy checkpoint ${ref.uri} is a reward model; name the step that trained the policy with ${o.configPath}/policyStep`,
    );
  if (incoming.score && JSON.stringify(policy.tokenizer.toHfJson()) !== JSON.stringify(incoming.tokenizer.toHfJson())) {
    throw BatonError.fatal(
      "CHECKPOINT_INVALID",
      `recipe step "${ctx.step.name}": the policy ${ref.uri} and the reward model ${input.ref.uri} have different tokenizers; the reward model must be trained from the policy's line`,
    );
  }
  return { policy, reward: incoming.score ? incoming : null, inputs: [{ role: "policy", checkpoint: ref }] };
}
