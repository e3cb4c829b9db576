// The rules file of `baton trigger serve`, read once at start: validated against
// schemas/trigger-rules.schema.json, then against the recipes it names, so a rule that could never
// start a run (unknown recipe, step, or a data pattern that matches nothing) is refused with the
// JSON path of the bad key before anything is consumed.
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { assertValid, BatonError, type Recipe, type TriggerRule, type TriggerRules } from "@baton/contracts";
import { tail } from "@baton/runner";
import { readRecipeFile, recipeProblems } from "@baton/stage-registry";
import { parse as parseYaml } from "yaml";
import { durationMs } from "./duration.ts";

export const DEFAULT_WINDOW_MS = 30_000;

/** Where a rule's first step starts. */
export type StartCheckpoint = { kind: "event" } | { kind: "latest"; pipeline: string; step: string };

export interface Rule {
  name: string;
  on: { kind: "dataset"; prefix: string } | { kind: "feedback"; prefix: string | null };
  recipe: Recipe;
  recipeFile: string;
  from: string;
  checkpoint: StartCheckpoint;
  /** In each named step's data, the entries whose file name matches are replaced by the update's files. */
  data: { step: string; match: RegExp }[];
  windowMs: number;
  maxWaitMs: number;
}

export interface Rules {
  file: string;
  rules: Rule[];
  /** Subject of the object store's own notification records, when configured. */
  bucketSubject: string | null;
}

export async function loadRules(file: string): Promise<Rules> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw BatonError.fatal(
      "CONFIG_INVALID",
      `rules ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (err) {
    throw BatonError.fatal("CONFIG_INVALID", `rules ${file}: not valid YAML: ${(err as Error).message}`);
  }
  const raw = assertValid<TriggerRules>("triggerRules", value, `rules ${file}`, "CONFIG_INVALID");
  const window = raw.window ? durationMs(raw.window) : DEFAULT_WINDOW_MS;
  const maxWait = raw.maxWait ? durationMs(raw.maxWait) : null;
  const problems: string[] = [];
  const rules: Rule[] = [];
  const names = new Map<string, number>();
  for (const [i, r] of raw.rules.entries()) {
    const at = (key: string) => `${file}: /rules/${i}/${key}`;
    const first = names.get(r.name);
    if (first !== undefined)
      problems.push(
        `${at("name")}: rule name "${r.name}" repeats /rules/${first}/name; give every rule its own name (it names the rule's runs)`,
      );
    names.set(r.name, i);
    const rule = await compileRule(r, resolve(dirname(file), r.recipe), at, problems, window, maxWait);
    if (rule) rules.push(rule);
  }
  if (problems.length > 0)
    throw BatonError.fatal("CONFIG_INVALID", `rules ${file} refused:\n  ${problems.join("\n  ")}`);
  return { file, rules, bucketSubject: raw.bucketNotifications?.subject ?? null };
}

async function compileRule(
  r: TriggerRule,
  recipeFile: string,
  at: (key: string) => string,
  problems: string[],
  window: number,
  maxWait: number | null,
): Promise<Rule | null> {
  let recipe: Recipe;
  try {
    recipe = await readRecipeFile(recipeFile);
  } catch (err) {
    problems.push(`${at("recipe")}: ${(err as Error).message}`);
    return null;
  }
  // The recipe as `baton run` checks it (a stage this build cannot serve, every step's config and
  // placement), when the rules load rather than when the first update arrives hours later; its data
  // is the rule's to bring.
  const bad = await recipeProblems(recipe, recipeFile, { skipData: true });
  if (bad.length > 0) {
    problems.push(...bad.map((p) => `${at("recipe")}: ${p}`));
    return null;
  }
  const steps = recipe.steps.map((s) => s.name);
  const before = problems.length;
  let run: Recipe["steps"] = [];
  try {
    run = tail(recipe, r.from);
  } catch (err) {
    problems.push(`${at("from")}: ${(err as Error).message}`);
  }
  const on: Rule["on"] = r.on.dataset
    ? { kind: "dataset", prefix: r.on.dataset.prefix }
    : { kind: "feedback", prefix: r.on.feedback?.prefix ?? null };
  let checkpoint: StartCheckpoint;
  if (r.checkpoint === "event") {
    if (on.kind !== "feedback")
      problems.push(
        `${at("checkpoint")}: "event" takes the checkpoint named in feedback.ready, but this rule is on new data; use { latest: <step> }`,
      );
    checkpoint = { kind: "event" };
  } else {
    const pipeline = r.checkpoint.pipeline ?? recipe.name;
    if (pipeline === recipe.name && !steps.includes(r.checkpoint.latest)) {
      problems.push(
        `${at("checkpoint/latest")}: recipe "${recipe.name}" (${recipeFile}) has no step "${r.checkpoint.latest}"; its steps are ${steps.join(", ")}`,
      );
    }
    checkpoint = { kind: "latest", pipeline, step: r.checkpoint.latest };
  }
  const data: Rule["data"] = [];
  for (const [step, pattern] of Object.entries(r.data ?? {})) {
    const target = run.find((s) => s.name === step);
    if (!target) {
      problems.push(
        `${at(`data/${step}`)}: "${step}" is not a step the rule runs (${run.map((s) => s.name).join(", ") || "none"}); name one of them`,
      );
      continue;
    }
    let match: RegExp;
    try {
      match = new RegExp(pattern);
    } catch (err) {
      problems.push(`${at(`data/${step}`)}: ${(err as Error).message}`);
      continue;
    }
    if (!target.data.some((d) => match.test(fileName(d)))) {
      problems.push(
        `${at(`data/${step}`)}: /${pattern}/ matches no file name in step "${step}"'s data (${target.data.map(fileName).join(", ")}); the new files would replace nothing`,
      );
      continue;
    }
    data.push({ step, match });
  }
  if (problems.length > before) return null;
  const windowMs = r.window ? durationMs(r.window) : window;
  return {
    name: r.name,
    on,
    recipe,
    recipeFile,
    from: r.from,
    checkpoint,
    data,
    windowMs,
    maxWaitMs: r.maxWait ? durationMs(r.maxWait) : (maxWait ?? 10 * windowMs),
  };
}

/** The recipe's tail from rule.from, with each `data` rule's matching entries replaced by `uris` (in place of the first match). */
export function recipeFor(rule: Rule, uris: string[]): Recipe {
  const steps = rule.recipe.steps.map((s) => {
    const d = rule.data.find((x) => x.step === s.name);
    if (!d) return s;
    const out: string[] = [];
    let placed = false;
    for (const entry of s.data) {
      if (!d.match.test(fileName(entry))) out.push(entry);
      else if (!placed) {
        out.push(...uris);
        placed = true;
      }
    }
    return { ...s, data: out };
  });
  return { ...rule.recipe, steps };
}

/** Does the rule take an update of this kind at this URI? */
export function matches(rule: Rule, kind: "dataset" | "feedback", uri: string): boolean {
  if (rule.on.kind !== kind) return false;
  return rule.on.prefix === null || uri.startsWith(rule.on.prefix);
}

function fileName(uri: string): string {
  return uri.slice(uri.lastIndexOf("/") + 1);
}
