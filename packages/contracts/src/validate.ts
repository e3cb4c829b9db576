import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { BatonError, type BatonErrorCode } from "./errors.ts";
import { loadSchemaDocs, SCHEMA_ID_BASE } from "./schemas.ts";

// ajv-formats is CommonJS; under NodeNext its default import is the module object.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: Ajv2020,
) => Ajv2020;

let ajv: Ajv2020 | undefined;
const compiled = new Map<string, ValidateFunction>();

function instance(): Ajv2020 {
  if (!ajv) {
    ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
    ajv.addKeyword("x-baton-event-type");
    addFormats(ajv);
    for (const { schema } of loadSchemaDocs()) ajv.addSchema(schema);
  }
  return ajv;
}

/** Schema file (path under schemas/) for each contract Baton validates. */
export const SCHEMA_FILES = {
  envelope: "cloudevent.schema.json",
  recipe: "recipe.schema.json",
  manifest: "checkpoint-manifest.schema.json",
  datasetManifest: "dataset-manifest.schema.json",
  triggerRules: "trigger-rules.schema.json",
  "dev.baton.checkpoint.ready": "events/checkpoint.ready.schema.json",
  "dev.baton.stage.started": "events/stage.started.schema.json",
  "dev.baton.stage.progress": "events/stage.progress.schema.json",
  "dev.baton.stage.failed": "events/stage.failed.schema.json",
  "dev.baton.run.completed": "events/run.completed.schema.json",
  "dev.baton.dataset.updated": "events/dataset.updated.schema.json",
  "dev.baton.feedback.ready": "events/feedback.ready.schema.json",
} as const;

export type ContractName = keyof typeof SCHEMA_FILES;

/** One schema violation: JSON path (e.g. "/data/pipeline/0/name") and what is wrong there. */
export interface Violation {
  path: string;
  message: string;
}

export function violations(contract: ContractName, value: unknown, pathPrefix = ""): Violation[] {
  const file = SCHEMA_FILES[contract];
  let validate = compiled.get(file);
  if (!validate) {
    const found = instance().getSchema(SCHEMA_ID_BASE + file);
    if (!found) throw new Error(`schemas/${file} is not loaded; is the schemas/ folder complete?`);
    validate = found;
    compiled.set(file, validate);
  }
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e) => ({
    path: pathPrefix + (e.instancePath || "") || "/",
    message: describe(e),
  }));
}

function describe(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case "required":
      return `missing required property ${JSON.stringify(p.missingProperty)}`;
    case "additionalProperties":
      return `unknown property ${JSON.stringify(p.additionalProperty)} (check the spelling against the schema)`;
    case "pattern":
      return `must match ${String(p.pattern)}`;
    case "enum":
      return `must be one of ${JSON.stringify(p.allowedValues)}`;
    case "const":
      return `must be ${JSON.stringify(p.allowedValue)}`;
    default:
      return e.message ?? e.keyword;
  }
}

/**
 * Throws a fatal BatonError listing every violation with its JSON path, or returns the value typed.
 * `what` says where the value came from (a file path, an event id) so the message points at it.
 */
export function assertValid<T>(
  contract: ContractName,
  value: unknown,
  what: string,
  code: BatonErrorCode = "EVENT_INVALID",
  pathPrefix = "",
): T {
  const found = violations(contract, value, pathPrefix);
  if (found.length > 0) {
    const lines = found.slice(0, 10).map((v) => `  at ${v.path}: ${v.message}`);
    if (found.length > 10) lines.push(`  ... and ${found.length - 10} more`);
    throw BatonError.fatal(
      code,
      `${what} does not match schemas/${SCHEMA_FILES[contract]}:\n${lines.join("\n")}\nFix the producer of this value; see schemas/ for the contract.`,
    );
  }
  return value as T;
}
