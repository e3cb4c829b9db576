// The strict config loader every stage uses: a stage's defaults object is the schema. A recipe step's
// `config` may override any key of it, nested objects merge key by key, and anything else is an error
// that names the JSON path: an unknown key (with the keys that exist), or a value whose type differs
// from the default's. nanoGPT's configurator works the same way, and for the same reason: a typo in a
// recipe must not silently train with the default.
import { BatonError } from "@baton/contracts";

export type ConfigValue = string | number | boolean | null | ConfigValue[] | { [key: string]: ConfigValue };

/** Describes the allowed values of a key whose default alone does not say enough. */
export interface KeyRule {
  /** The value must be one of these. */
  oneOf?: readonly (string | number)[];
  /** Inclusive bounds for numbers. */
  min?: number;
  max?: number;
  integer?: boolean;
  /** A string that must compile as a regular expression (file-name patterns). */
  regex?: boolean;
  /** Longest string allowed (default DEFAULT_MAX_STRING). */
  maxLength?: number;
  /** The default is null but the value may be of this type. */
  type?: "string" | "number" | "boolean" | "object" | "array";
}

export type ConfigRules = Record<string, KeyRule>;

/**
 * A default that may be any of `options`: typed as their union, so a stage reads the loaded value
 * without a cast. Its key's rule names the same list (`{ oneOf: options }`).
 */
export function choice<T extends string>(_options: readonly T[], value: NoInfer<T>): T {
  return value;
}

/** Rules across keys, checked on the merged config once every key is valid: "/path: problem" lines. */
export type CrossRules<T> = (config: T) => string[];

/**
 * A recipe step's config that can never work. Carries each problem as "/json/path: what" (relative to
 * the step's config), so a whole-recipe check can place them under /steps/<i>/config.
 */
export class ConfigInvalid extends BatonError {
  readonly problems: string[];
  constructor(where: string, problems: string[]) {
    // A problem of the config as a whole (": expected an object") reads after `where` itself.
    const whole = problems.length === 1 && problems[0]!.startsWith(":");
    super(
      "CONFIG_INVALID",
      "fatal",
      whole
        ? `${where}${problems[0]}`
        : `${where} is invalid:\n  - ${problems.join("\n  - ")}\nFix the recipe step's config; the defaults and their meaning are in the stage's config.ts.`,
    );
    this.problems = problems;
  }
}

/**
 * A step that can never run for a reason outside its config's keys (the roles of its data, say).
 * Carries each problem as "/json/path: what" relative to the step ("/data: ..."), as ConfigInvalid
 * does for /config.
 */
export class StepInvalid extends BatonError {
  readonly problems: string[];
  constructor(step: string, problems: string[]) {
    super("CONFIG_INVALID", "fatal", `recipe step "${step}": ${problems.join("; ")}`);
    this.problems = problems;
  }
}

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Merges `overrides` into `defaults`, strictly. `where` names the source (e.g. `recipe step "cpt"
 * config`) and `rules` (keyed by JSON path such as `/optim/lr`) add bounds and enums.
 * Throws BatonError CONFIG_INVALID (fatal: retrying can not fix a recipe) listing every problem.
 */
export function loadConfig<T extends object>(
  defaults: T,
  overrides: unknown,
  where: string,
  rules: ConfigRules = {},
  cross?: CrossRules<T>,
): T {
  const problems: string[] = [];
  if (overrides !== undefined && !isPlainObject(overrides)) {
    throw new ConfigInvalid(where, [`: expected an object, got ${typeOf(overrides)}`]);
  }
  const merged = merge(defaults as Record<string, unknown>, overrides ?? {}, "", problems, rules) as T;
  // Cross-key rules only make sense once every key has its right type.
  if (problems.length === 0 && cross) problems.push(...cross(merged));
  if (problems.length > 0) throw new ConfigInvalid(where, problems);
  return merged;
}

function merge(
  defaults: Record<string, unknown>,
  overrides: Record<string, unknown>,
  path: string,
  problems: string[],
  rules: ConfigRules,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...defaults };
  for (const [key, value] of Object.entries(overrides)) {
    const p = `${path}/${key}`;
    if (!(key in defaults)) {
      const known = Object.keys(defaults);
      const near = closestName(key, known);
      problems.push(
        `${p}: unknown key${near ? ` (did you mean "${near}"?)` : ""}; known keys here: ${known.join(", ")}`,
      );
      continue;
    }
    const def = defaults[key];
    const rule = rules[p];
    const expected = def === null ? (rule?.type ?? "any") : typeOf(def);
    const actual = typeOf(value);
    if (value === null && def === null) {
      out[key] = null;
      continue;
    }
    if (expected !== "any" && expected !== actual) {
      problems.push(`${p}: expected ${expected}, got ${actual} (${JSON.stringify(value)})`);
      continue;
    }
    if (isPlainObject(def) && isPlainObject(value)) {
      out[key] = merge(def, value, p, problems, rules);
      continue;
    }
    const bad = checkRule(value, rule);
    if (bad) {
      problems.push(`${p}: ${bad}`);
      continue;
    }
    out[key] = value;
  }
  return out;
}

/**
 * The name of `known` that `name` is most likely a typo of (at most one edit per three characters,
 * case aside), or null: what an error message suggests ("did you mean ...").
 */
export function closestName(name: string, known: readonly string[]): string | null {
  const limit = Math.max(1, Math.min(3, Math.floor(name.length / 3)));
  let best: string | null = null;
  let bestDistance = limit + 1;
  for (const k of known) {
    const d = editDistance(name.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best;
}

/** Levenshtein distance, with a swap of two neighbours counted as one edit (stpes -> steps). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i]!;
      const prev = d[i - 1]!;
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        row[j] = Math.min(row[j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** A string a recipe sets (a pattern, a template) is short unless its rule says otherwise. */
export const DEFAULT_MAX_STRING = 200;

function checkRule(value: unknown, rule: KeyRule | undefined): string | null {
  const maxLength = rule?.maxLength ?? DEFAULT_MAX_STRING;
  if (typeof value === "string" && value.length > maxLength)
    return `must be at most ${maxLength} characters, got ${value.length}`;
  if (!rule) return null;
  if (rule.oneOf && !rule.oneOf.includes(value as string | number))
    return `must be one of ${rule.oneOf.map((v) => JSON.stringify(v)).join(", ")}, got ${JSON.stringify(value)}`;
  if (rule.regex && typeof value === "string") {
    try {
      new RegExp(value, "i");
    } catch (err) {
      return `not a regular expression: ${(err as Error).message}`;
    }
  }
  if (typeof value === "number") {
    if (rule.integer && !Number.isInteger(value)) return `must be an integer, got ${value}`;
    if (rule.min !== undefined && value < rule.min) return `must be >= ${rule.min}, got ${value}`;
    if (rule.max !== undefined && value > rule.max) return `must be <= ${rule.max}, got ${value}`;
  }
  return null;
}

/**
 * Every problem a step has that needs no training to find, each as "/json/path: what" relative to the
 * step (a config problem under /config, a data problem under /data). `check` runs the stage's own
 * loaders and checks (the same ones train() runs first), so the two can never disagree.
 */
export function stepProblems(check: () => void): string[] {
  try {
    check();
    return [];
  } catch (err) {
    if (err instanceof ConfigInvalid) return err.problems.map((p) => `/config${p}`);
    if (err instanceof StepInvalid) return err.problems;
    if (err instanceof BatonError && err.disposition === "fatal") return [err.message];
    throw err;
  }
}

/**
 * The JSON paths of numbers in `defaults` that `rules` give no upper bound: every size a recipe (and
 * so an event) can set must have one, or one event could make a service allocate without limit.
 */
export function unboundedKeys(defaults: object, rules: ConfigRules, path = ""): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(defaults)) {
    const p = `${path}/${key}`;
    if (isPlainObject(value)) out.push(...unboundedKeys(value, rules, p));
    else if (typeof value === "number" && rules[p]?.max === undefined && rules[p]?.oneOf === undefined) out.push(p);
  }
  return out;
}
