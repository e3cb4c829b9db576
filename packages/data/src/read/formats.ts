import { readFileSync } from "node:fs";
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";

/**
 * Dataset formats and their records. The rules live in schemas/datasets/*.schema.json; this module only
 * compiles them and turns ajv's errors into `/json/path: what is wrong` messages.
 */
export type DatasetFormat = "text" | "jsonl-text" | "prompt-completion" | "alpaca" | "chat" | "preference" | "ranking";

export const DATASET_FORMATS: readonly DatasetFormat[] = [
  "text",
  "jsonl-text",
  "prompt-completion",
  "alpaca",
  "chat",
  "preference",
  "ranking",
];

export type ChatRole = "system" | "user" | "assistant";
export interface ChatMessage {
  role: ChatRole;
  content: string;
}

/** Where a record came from, "train.jsonl:12", for every later error about it. */
interface Located {
  where: string;
}

/** A text piece. From a plain text file: chunks of ONE document, `end` on the last; from JSONL: whole documents. */
export interface TextRecord extends Located {
  kind: "text";
  text: string;
  end: boolean;
}
export interface PromptCompletionRecord extends Located {
  kind: "prompt-completion";
  prompt: string;
  completion: string;
}
export interface AlpacaRecord extends Located {
  kind: "alpaca";
  instruction: string;
  input: string;
  output: string;
}
export interface ChatRecord extends Located {
  kind: "chat";
  messages: ChatMessage[];
}
export interface PreferenceRecord extends Located {
  kind: "preference";
  prompt: string;
  chosen: string;
  rejected: string;
}
export interface RankingRecord extends Located {
  kind: "ranking";
  prompt: string;
  responses: string[];
  /** Indices into responses, best first. */
  ranking: number[];
  /** Positions of `ranking` tied with the position before them (no training pair between them). */
  ties: number[];
  rater?: string;
  /** The checkpoint whose outputs were ranked. */
  checkpoint?: string;
}

export type DatasetRecord =
  | TextRecord
  | PromptCompletionRecord
  | AlpacaRecord
  | ChatRecord
  | PreferenceRecord
  | RankingRecord;

/** Record type for each format, so `readDataset(uri, { format: "chat" })` yields ChatRecord. */
export interface RecordOf {
  text: TextRecord;
  "jsonl-text": TextRecord;
  "prompt-completion": PromptCompletionRecord;
  alpaca: AlpacaRecord;
  chat: ChatRecord;
  preference: PreferenceRecord;
  ranking: RankingRecord;
}

const SCHEMA_FILE: Record<Exclude<DatasetFormat, "text">, string> = {
  "jsonl-text": "text",
  "prompt-completion": "prompt-completion",
  alpaca: "alpaca",
  chat: "chat",
  preference: "preference",
  ranking: "ranking",
};

export const SCHEMA_DIR = new URL("../../../../schemas/datasets/", import.meta.url);

const ajv = new Ajv2020({ allErrors: false, strict: true });
const compiled = new Map<string, ValidateFunction>();

function validator(format: Exclude<DatasetFormat, "text">): ValidateFunction {
  let v = compiled.get(format);
  if (!v) {
    const schema = JSON.parse(
      readFileSync(new URL(`${SCHEMA_FILE[format]}.schema.json`, SCHEMA_DIR), "utf8"),
    ) as object;
    v = ajv.compile(schema);
    compiled.set(format, v);
  }
  return v;
}

function describe(e: ErrorObject): string {
  const path = e.instancePath || "/";
  switch (e.keyword) {
    case "required":
      return `missing field ${e.instancePath}/${(e.params as { missingProperty: string }).missingProperty}`;
    case "pattern":
      return `${path} is empty (it needs a non-space character)`;
    case "type":
      return `${path} must be ${(e.params as { type: string }).type}`;
    case "enum":
      return `${path} must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(", ")}`;
    case "contains":
      return `${path} has no assistant turn; a training conversation needs at least one`;
    case "minItems":
      return `${path} needs at least ${(e.params as { limit: number }).limit} items`;
    case "maxItems":
      return `${path} has more than ${(e.params as { limit: number }).limit} items`;
    case "uniqueItems":
      return `${path} names the same item twice`;
    default:
      return `${path} ${e.message ?? "is invalid"}`;
  }
}

/** Validates one parsed JSON value; returns the record or the reason it is bad (with a JSON path). */
export function toRecord<F extends Exclude<DatasetFormat, "text">>(
  format: F,
  value: unknown,
  where: string,
): RecordOf[F] | string {
  const v = validator(format);
  if (!v(value)) return describe(v.errors![0]!);
  const o = value as Record<string, unknown>;
  switch (format) {
    case "jsonl-text":
      return { kind: "text", text: o["text"] as string, end: true, where } as RecordOf[F];
    case "prompt-completion":
      return {
        kind: "prompt-completion",
        prompt: o["prompt"] as string,
        completion: o["completion"] as string,
        where,
      } as RecordOf[F];
    case "alpaca":
      return {
        kind: "alpaca",
        instruction: o["instruction"] as string,
        input: (o["input"] as string | undefined) ?? "",
        output: o["output"] as string,
        where,
      } as RecordOf[F];
    case "chat":
      return {
        kind: "chat",
        messages: (o["messages"] as ChatMessage[]).map((m) => ({ role: m.role, content: m.content })),
        where,
      } as RecordOf[F];
    case "preference":
      return {
        kind: "preference",
        prompt: o["prompt"] as string,
        chosen: o["chosen"] as string,
        rejected: o["rejected"] as string,
        where,
      } as RecordOf[F];
    case "ranking": {
      const responses = o["responses"] as string[];
      const ranking = o["ranking"] as number[];
      // The one rule JSON Schema can not state: ranking is a permutation of 0..K-1.
      const sorted = [...ranking].sort((a, b) => a - b);
      if (ranking.length !== responses.length || sorted.some((r, i) => r !== i)) {
        return `/ranking must be a permutation of 0..${responses.length - 1} (indices into /responses, best first), got ${JSON.stringify(ranking)}`;
      }
      const ties = (o["ties"] as number[] | undefined) ?? [];
      const outside = ties.find((p) => p >= ranking.length);
      if (outside !== undefined)
        return `/ties names position ${outside}, but /ranking has positions 0..${ranking.length - 1} (a tie at p joins ranking[p] to ranking[p-1])`;
      const extra = {
        ...(typeof o["rater"] === "string" ? { rater: o["rater"] } : {}),
        ...(typeof o["checkpoint"] === "string" ? { checkpoint: o["checkpoint"] } : {}),
      };
      return {
        kind: "ranking",
        prompt: o["prompt"] as string,
        responses,
        ranking,
        ties: [...ties].sort((a, b) => a - b),
        ...extra,
        where,
      } as RecordOf[F];
    }
  }
  throw new Error(`unreachable format ${format as string}`);
}

/** Guesses a JSONL format from the keys of its first record. */
export function formatFromKeys(value: unknown): Exclude<DatasetFormat, "text"> | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const has = (k: string) => k in value;
  if (has("messages")) return "chat";
  if (has("responses") && has("ranking")) return "ranking";
  if (has("chosen") && has("rejected")) return "preference";
  if (has("instruction") && has("output")) return "alpaca";
  if (has("prompt") && has("completion")) return "prompt-completion";
  if (has("text")) return "jsonl-text";
  return undefined;
}

/** Characters a record's training text spans, for the over-long check. */
export function recordChars(r: DatasetRecord): number {
  switch (r.kind) {
    case "text":
      return r.text.length;
    case "prompt-completion":
      return r.prompt.length + r.completion.length;
    case "alpaca":
      return r.instruction.length + r.input.length + r.output.length;
    case "chat":
      return r.messages.reduce((n, m) => n + m.content.length, 0);
    case "preference":
      return r.prompt.length + Math.max(r.chosen.length, r.rejected.length);
    case "ranking":
      return r.prompt.length + Math.max(...r.responses.map((s) => s.length));
  }
}
