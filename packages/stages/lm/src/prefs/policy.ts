// Where an RLHF step's models come from. The incoming checkpoint is the reward model when a reward
// step ran before (its manifest's parent is the policy it was trained from: by default the step
// before the reward step); `policyStep` names another earlier step of the run instead. A step after
// a plain LM checkpoint (DPO straight after instruct) starts its policy from that checkpoint.
import { BatonError, type CheckpointRef, type InputRef } from "@baton/contracts";
import type { StageContext } from "@baton/runner";
import { type LoadedModel, loadModel } from "../checkpoint-io.ts";
import { startFrom } from "../stage-steps.ts";

export interface RlhfModels {
  policy: LoadedModel;
  /** the incoming checkpoint when it is a reward model */
  reward: LoadedModel | null;
  /** the policy's checkpoint, for the manifest's `inputs`, when it is not the incoming one */
  inputs: InputRef[];
}

export async function rlhfModels(ctx: StageContext, o: { policyStep: string | null; needReward: boolean; configPath: string }): Promise<RlhfModels> {
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
      throw BatonError.fatal("CONFIG_INVALID", `recipe step "${ctx.step.name}" ${o.configPath}/policyStep: ${(err as Error).message}`);
    });
    if (!ref) throw BatonError.fatal("CONFIG_INVALID", `recipe step "${ctx.step.name}" ${o.configPath}/policyStep: step ${JSON.stringify(o.policyStep)} has no committed checkpoint in run ${ctx.runId}`);
  } else if (incoming.score) {
    ref = input.manifest.parent;
    if (!ref) throw BatonError.fatal("CHECKPOINT_INVALID", `recipe step "${ctx.step.name}": the reward model ${input.ref.uri} has no parent checkpoint to start the policy from; name one with ${o.configPath}/policyStep`);
  }
  if (!ref) return { policy: incoming, reward: null, inputs: [] };
  const opened = await ctx.openCheckpoint(ref);
  const policy = await loadModel(opened.dir, `policy checkpoint ${ref.uri}`);
  if (policy.score) throw BatonError.fatal("CHECKPOINT_INVALID", `recipe step "${ctx.step.name}": the policy checkpoint ${ref.uri} is a reward model; name the step that trained the policy with ${o.configPath}/policyStep`);
  if (incoming.score && JSON.stringify(policy.tokenizer.toHfJson()) !== JSON.stringify(incoming.tokenizer.toHfJson())) {
    throw BatonError.fatal("CHECKPOINT_INVALID", `recipe step "${ctx.step.name}": the policy ${ref.uri} and the reward model ${input.ref.uri} have different tokenizers; the reward model must be trained from the policy's line`);
  }
  return { policy, reward: incoming.score ? incoming : null, inputs: [{ role: "policy", checkpoint: ref }] };
}
