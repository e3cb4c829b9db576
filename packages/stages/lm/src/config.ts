// The strict config loader every stage uses: a stage's defaults object is the schema. A recipe step's
// `config` may override any key of it, nested objects merge key by key, and anything else is an error
// that names the JSON path: an unknown key (with the keys that exist), or a value whose type differs
// from the default's. nanoGPT's configurator works the same way, and for the same reason: a typo in a
// recipe must not silently train with the default.
import { BatonError } from "@baton/stage-kit";

export type ConfigValue = string | number | boolean | null | ConfigValue[] | { [key: string]: ConfigValue };

/** Describes the allowed values of a key whose default alone does not say enough. */
export interface KeyRule {
  /** The value must be one of these. */
  oneOf?: readonly (string | number)[];
  /** Inclusive bounds for numbers. */
  min?: number;
  max?: number;
  integer?: boolean;
  /** Longest string allowed (default DEFAULT_MAX_STRING). */
  maxLength?: number;
  /** The default is null but the value may be of this type. */
  type?: "string" | "number" | "boolean" | "object" | "array";
}

export type ConfigRules = Record<string, KeyRule>;

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
export function loadConfig<T extends object>(defaults: T, overrides: unknown, where: string, rules: ConfigRules = {}): T {
  const problems: string[] = [];
  if (overrides !== undefined && !isPlainObject(overrides)) {
    throw BatonError.fatal("CONFIG_INVALID", `${where}: expected an object, got ${typeOf(overrides)}`);
  }
  const merged = merge(defaults as Record<string, unknown>, overrides ?? {}, "", problems, rules);
  if (problems.length > 0) {
    throw BatonError.fatal("CONFIG_INVALID", `${where} is invalid:\n  - ${problems.join("\n  - ")}\nFix the recipe step's config; the defaults and their meaning are in the stage's config.ts.`);
  }
  return merged as T;
}

function merge(defaults: Record<string, unknown>, overrides: Record<string, unknown>, path: string, problems: string[], rules: ConfigRules): Record<string, unknown> {
  const out: Record<string, unknown> = { ...defaults };
  for (const [key, value] of Object.entries(overrides)) {
    const p = `${path}/${key}`;
    if (!(key in defaults)) {
      problems.push(`${p}: unknown key; known keys here: ${Object.keys(defaults).join(", ")}`);
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

/** A string a recipe sets (a pattern, a template) is short unless its rule says otherwise. */
export const DEFAULT_MAX_STRING = 200;

function checkRule(value: unknown, rule: KeyRule | undefined): string | null {
  const maxLength = rule?.maxLength ?? DEFAULT_MAX_STRING;
  if (typeof value === "string" && value.length > maxLength) return `must be at most ${maxLength} characters, got ${value.length}`;
  if (!rule) return null;
  if (rule.oneOf && !rule.oneOf.includes(value as string | number)) return `must be one of ${rule.oneOf.map((v) => JSON.stringify(v)).join(", ")}, got ${JSON.stringify(value)}`;
  if (typeof value === "number") {
    if (rule.integer && !Number.isInteger(value)) return `must be an integer, got ${value}`;
    if (rule.min !== undefined && value < rule.min) return `must be >= ${rule.min}, got ${value}`;
    if (rule.max !== undefined && value > rule.max) return `must be <= ${rule.max}, got ${value}`;
  }
  return null;
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
