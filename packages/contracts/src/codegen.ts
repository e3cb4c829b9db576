import type { JsonSchema, SchemaDoc } from "./schemas.ts";

/**
 * Turns the JSON Schemas under schemas/ into TypeScript types, so the schemas stay the one source
 * of truth. Named types: each file's `title` and each `$defs` key. `x-baton-event-type` on an event
 * data schema adds it to `EventDataByType`.
 */
export function generateTypes(docs: SchemaDoc[]): string {
  const names = new Map<string, string>(); // absolute schema URI -> type name
  for (const { schema } of docs) {
    const id = schema.$id!;
    if (schema.title && (schema.type || schema.oneOf || schema.anyOf || schema.$ref))
      names.set(id, typeName(schema.title));
    for (const key of Object.keys(schema.$defs ?? {})) names.set(`${id}#/$defs/${key}`, key);
  }
  const seen = new Set<string>();
  for (const name of names.values()) {
    if (seen.has(name)) throw new Error(`two schemas define the type name ${name}; rename one title or $defs key`);
    seen.add(name);
  }

  const out: string[] = [
    "// Generated from schemas/*.schema.json by `pnpm --filter @baton/contracts gen:types`. Do not edit:",
    "// change the schema and regenerate (a test fails when this file is stale).",
    "",
  ];
  const events: [string, string][] = [];
  for (const { file, schema } of docs) {
    const id = schema.$id!;
    const ctx: Ctx = { base: id, names, where: `schemas/${file}` };
    if (names.has(id)) out.push(...declare(names.get(id)!, schema, ctx));
    for (const [key, def] of Object.entries(schema.$defs ?? {}))
      out.push(...declare(key, def, { ...ctx, where: `${ctx.where}#/$defs/${key}` }));
    const eventType = schema["x-baton-event-type"];
    if (eventType) events.push([eventType, names.get(id)!]);
  }
  out.push("/** Data type of each CloudEvent type. */", "export interface EventDataByType {");
  for (const [type, name] of events) out.push(`  ${JSON.stringify(type)}: ${name};`);
  out.push("}", "");
  return out.join("\n");
}

/** A title as a type name: "Prompt / completion record" -> PromptCompletionRecord. */
export function typeName(title: string): string {
  const words = title.split(/[^A-Za-z0-9]+/).filter((w) => w.length > 0);
  const name = words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join("");
  if (!/^[A-Z][A-Za-z0-9]*$/.test(name))
    throw new Error(`schema title ${JSON.stringify(title)} gives no type name; start it with a letter`);
  return name;
}

interface Ctx {
  base: string;
  names: Map<string, string>;
  where: string;
}

function declare(name: string, s: JsonSchema, ctx: Ctx): string[] {
  const doc = s.description ? [`/** ${s.description} */`] : [];
  if (isObjectWithProps(s)) return [...doc, `export interface ${name} ${objectType(s, ctx, "")}`, ""];
  return [...doc, `export type ${name} = ${typeOf(s, ctx, "")};`, ""];
}

function isObjectWithProps(s: JsonSchema): boolean {
  return s.type === "object" && s.properties !== undefined;
}

function typeOf(s: JsonSchema, ctx: Ctx, indent: string): string {
  if (s.$ref !== undefined) return refName(s.$ref, ctx);
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(" | ");
  if (s.oneOf) return s.oneOf.map((x) => typeOf(x, ctx, indent)).join(" | ");
  if (s.anyOf) return s.anyOf.map((x) => typeOf(x, ctx, indent)).join(" | ");
  if (Array.isArray(s.type)) return s.type.map((t) => typeOf({ ...s, type: t }, ctx, indent)).join(" | ");
  switch (s.type) {
    case "string":
      return "string";
    case "integer":
    case "number":
      return "number";
    case "boolean":
      return "boolean";
    case "null":
      return "null";
    case "array": {
      const item = s.items ? typeOf(s.items, ctx, indent) : "unknown";
      return /[|&]/.test(item) ? `(${item})[]` : `${item}[]`;
    }
    case "object":
      if (s.properties) return objectType(s, ctx, indent);
      if (typeof s.additionalProperties === "object")
        return `Record<string, ${typeOf(s.additionalProperties, ctx, indent)}>`;
      return "Record<string, unknown>";
    case undefined:
      return "unknown";
    default:
      throw new Error(
        `${ctx.where}: type ${JSON.stringify(s.type)} is not handled by the type generator; use string, integer, number, boolean, null, array or object`,
      );
  }
}

function objectType(s: JsonSchema, ctx: Ctx, indent: string): string {
  const inner = `${indent}  `;
  const required = new Set(s.required ?? []);
  const lines = ["{"];
  for (const [key, prop] of Object.entries(s.properties ?? {})) {
    if (prop.description) lines.push(`${inner}/** ${prop.description} */`);
    const k = /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? key : JSON.stringify(key);
    lines.push(
      `${inner}${k}${required.has(key) ? "" : "?"}: ${typeOf(prop, { ...ctx, where: `${ctx.where}/properties/${key}` }, inner)};`,
    );
  }
  if (s.additionalProperties !== false && s.additionalProperties !== undefined) {
    const extra = typeof s.additionalProperties === "object" ? typeOf(s.additionalProperties, ctx, inner) : "unknown";
    lines.push(`${inner}[key: string]: ${extra};`);
  } else if (s.additionalProperties === undefined) {
    lines.push(`${inner}[key: string]: unknown;`);
  }
  lines.push(`${indent}}`);
  return lines.join("\n");
}

function refName(ref: string, ctx: Ctx): string {
  const abs = new URL(ref, ctx.base).href;
  const name = ctx.names.get(abs);
  if (!name)
    throw new Error(
      `${ctx.where}: $ref ${JSON.stringify(ref)} resolves to ${abs}, which names no schema title or $defs entry`,
    );
  return name;
}
