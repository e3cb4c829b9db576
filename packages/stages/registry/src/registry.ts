// The stage implementations this build of Baton can serve, by name. A recipe names a stage kind
// (pretrain, cpt, ...); a service runs one implementation of it. Each is loaded only when asked for,
// so a service pulls in one stage's code. Swapping an implementation of a step = serving another
// name on the step (`baton stage serve finetune-last-layers --step finetune`), or choosing it for a
// local run (`baton run recipe.yaml --impl finetune=finetune-last-layers`); nothing else changes.
import { BatonError, type Recipe, type RecipeStep } from "@baton/contracts";
import type { StageDefinition } from "@baton/runner";
import { closestName, type StageDeps } from "@baton/stage-lm";

/** What an implementation's package exports. */
export interface StageModule {
  createStage(deps?: StageDeps): StageDefinition;
  /**
   * What the step needs of the steps before it in the recipe (an earlier step it reads a checkpoint
   * of, say): problems as "/json/path: what" relative to the step, as validate() gives them.
   */
  placementProblems?(step: RecipeStep, earlier: readonly RecipeStep[]): string[];
}

export interface Implementation {
  /** The stage kind it serves (recipe steps' `stage`). */
  stage: string;
  summary: string;
  load(): Promise<StageModule>;
}

export const IMPLEMENTATIONS: Record<string, Implementation> = {
  pretrain: {
    stage: "pretrain",
    summary: "GPT from random init on text, next-token loss",
    load: () => import("@baton/stage-pretrain"),
  },
  cpt: {
    stage: "cpt",
    summary: "continued pretraining on a domain corpus with general replay",
    load: () => import("@baton/stage-cpt"),
  },
  finetune: {
    stage: "finetune",
    summary: "prompt/completion fine-tuning, loss on completions",
    load: () => import("@baton/stage-finetune"),
  },
  "finetune-last-layers": {
    stage: "finetune",
    summary: "finetune training only the last block and final norm",
    load: () => import("@baton/stage-finetune-last-layers"),
  },
  instruct: {
    stage: "instruct",
    summary: "instruction tuning with a chat template, loss on assistant turns",
    load: () => import("@baton/stage-instruct"),
  },
  reward: {
    stage: "reward",
    summary: "reward model: the trunk plus a score head, Bradley-Terry on every ranked pair",
    load: () => import("@baton/stage-reward"),
  },
  "rlhf-ppo": {
    stage: "rlhf",
    summary: "PPO against the reward model with a KL penalty to the starting policy",
    load: () => import("@baton/stage-rlhf-ppo"),
  },
  "rlhf-dpo": {
    stage: "rlhf",
    summary: "DPO on the ranked pairs against the frozen starting policy",
    load: () => import("@baton/stage-rlhf-dpo"),
  },
};

/** Stage kinds whose default implementation is not named like the stage. */
const DEFAULTS: Record<string, string> = { rlhf: "rlhf-ppo" };

/** The implementation a stage kind gets unless another is chosen: the one named like the stage (rlhf: rlhf-ppo). */
export function defaultImplementation(stage: string): string | undefined {
  const name = DEFAULTS[stage] ?? stage;
  return IMPLEMENTATIONS[name]?.stage === stage ? name : undefined;
}

const known = () =>
  Object.entries(IMPLEMENTATIONS)
    .map(([name, i]) =>
      name === i.stage
        ? name
        : `${name} (stage ${i.stage}${defaultImplementation(i.stage) === name ? ", its default" : ""})`,
    )
    .join(", ");

/** The named implementation, or a CONFIG_INVALID error listing the known ones. */
export function implementation(name: string, where: string): Implementation {
  const impl = IMPLEMENTATIONS[name];
  if (!impl)
    throw BatonError.fatal(
      "CONFIG_INVALID",
      `${where}: unknown stage implementation "${name}"; this build serves ${known()}`,
    );
  return impl;
}

export interface ResolvedStep {
  step: string;
  stage: string;
  implementation: string;
}

/**
 * Which implementation runs each step of a recipe: `choices` (step name -> implementation) first, else
 * the stage's default. An unknown stage is an error naming the step's JSON path in the recipe file.
 */
export function resolveSteps(recipe: Recipe, file: string, choices: Record<string, string> = {}): ResolvedStep[] {
  const { steps, problems } = recipeStepProblems(recipe, file, choices);
  if (problems.length > 0) throw BatonError.fatal("CONFIG_INVALID", problems.join("\n"));
  return steps;
}

/** resolveSteps without the throw: the steps (implementation "" where none fits) and every problem found. */
export function recipeStepProblems(
  recipe: Recipe,
  file: string,
  choices: Record<string, string> = {},
): { steps: ResolvedStep[]; problems: string[] } {
  const problems = unknownChoices(recipe, choices);
  const steps = recipe.steps.map((s, i) => {
    const { implementation, problem } = resolveStep(s, i, file, choices[s.name]);
    if (problem) problems.push(problem);
    return { step: s.name, stage: s.stage, implementation };
  });
  return { steps, problems };
}

/** The --impl choices that name no step of the recipe. */
export function unknownChoices(recipe: Recipe, choices: Record<string, string>): string[] {
  const names = recipe.steps.map((s) => s.name);
  return Object.entries(choices)
    .filter(([step]) => !names.includes(step))
    .map(([step, impl]) => {
      const near = closestName(step, names);
      return `--impl ${step}=${impl}: the recipe has no step "${step}"${near ? ` (did you mean "${near}"?)` : ""}; its steps: ${names.join(", ")}`;
    });
}

/** One step's implementation ("" when none fits) and, when none does, what is wrong and what to do. */
export function resolveStep(
  s: RecipeStep,
  i: number,
  file: string,
  chosen: string | undefined,
): { implementation: string; problem?: string } {
  const stages = [...new Set(Object.values(IMPLEMENTATIONS).map((impl) => impl.stage))];
  if (!stages.includes(s.stage)) {
    const near = closestName(s.stage, stages);
    const hint = near ? `did you mean "${near}"? ` : "";
    return {
      implementation: "",
      problem: `${file}: /steps/${i}/stage: unknown stage "${s.stage}" in step "${s.name}"; ${hint}this build serves ${known()}`,
    };
  }
  if (chosen === undefined) {
    const name = defaultImplementation(s.stage);
    if (name) return { implementation: name };
    return {
      implementation: "",
      problem: `${file}: /steps/${i}/stage: stage "${s.stage}" has no default implementation; choose one with --impl ${s.name}=<name> (${servingStage(s.stage)})`,
    };
  }
  const impl = IMPLEMENTATIONS[chosen];
  if (!impl) {
    const near = closestName(
      chosen,
      Object.keys(IMPLEMENTATIONS).filter((n) => IMPLEMENTATIONS[n]!.stage === s.stage),
    );
    const hint = near ? `did you mean "${near}"? ` : "";
    return {
      implementation: "",
      problem: `--impl ${s.name}=${chosen}: unknown implementation "${chosen}" for step "${s.name}" (${file}: /steps/${i}, stage ${s.stage}); ${hint}stage ${s.stage} is served by ${servingStage(s.stage)}`,
    };
  }
  if (impl.stage !== s.stage) {
    return {
      implementation: "",
      problem: `--impl ${s.name}=${chosen}: ${chosen} serves stage "${impl.stage}", but step "${s.name}" (/steps/${i}) is a "${s.stage}" step; stage ${s.stage} is served by ${servingStage(s.stage)}`,
    };
  }
  return { implementation: chosen };
}

/** The implementations of one stage kind, its default marked. */
function servingStage(stage: string): string {
  const names = Object.keys(IMPLEMENTATIONS).filter((n) => IMPLEMENTATIONS[n]!.stage === stage);
  return names.map((n) => (defaultImplementation(stage) === n ? `${n} (its default)` : n)).join(", ");
}
