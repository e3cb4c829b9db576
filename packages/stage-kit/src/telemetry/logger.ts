// JSON-lines logs: one object per line with time, level, msg and the relay's context
// (stage, runId, step, traceId). Secrets never reach a line: see `redact`.

export type LogLevel = "debug" | "info" | "warn" | "error";
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Context every line of a logger carries; `child()` adds to it. */
export interface LogContext {
  stage?: string;
  runId?: string;
  step?: string;
  cursor?: number;
  traceId?: string;
  eventId?: string;
  [field: string]: unknown;
}

export interface JsonLoggerOptions {
  context?: LogContext;
  /** Lowest level written; default $BATON_LOG_LEVEL or "info". */
  level?: LogLevel;
  /** Where a line goes; default stdout. */
  write?: (line: string) => void;
  /** Values never to print, wherever they appear; default the values of secret-named env vars. */
  secrets?: string[];
}

export interface JsonLogger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(context: LogContext): JsonLogger;
}

/**
 * Field names whose values are secrets: AWS keys, passwords, auth headers, and tokens
 * (`token`, `NATS_TOKEN`, `sessionToken`) but not token counts (`tokens`, `tokensPerSecond`) or `tokenizer`.
 */
const SECRET_WORD = /(secret|password|passwd|authorization|credential|api[-_]?key|access[-_]?key|private[-_]?key)/i;
const TOKEN_NAME = /(^|[-_.])token$|[a-z]Token$/i;
const isSecretName = (name: string) => SECRET_WORD.test(name) || TOKEN_NAME.test(name);
const REDACTED = "[redacted]";

/** The values of environment variables with secret names (AWS_SECRET_ACCESS_KEY, NATS_TOKEN, ...). */
export function secretsFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  return Object.entries(env)
    .filter(([name, value]) => isSecretName(name) && typeof value === "string" && value.length >= 4)
    .map(([, value]) => value as string);
}

/**
 * A copy of `value` safe to log: fields with secret names are replaced, known secret values are cut
 * out of strings, and passwords in URLs (nats://user:pass@host) are hidden. Errors become
 * `{ name, message, stack }`.
 */
export function redact(value: unknown, secrets: readonly string[], depth = 0): unknown {
  if (depth > 8) return "[too deep]";
  if (typeof value === "string") return redactString(value, secrets);
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error) {
    const out: Record<string, unknown> = { name: value.name, message: redactString(value.message, secrets) };
    if (value.stack) out["stack"] = redactString(value.stack, secrets);
    if (value.cause !== undefined) out["cause"] = redact(value.cause, secrets, depth + 1);
    return out;
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, secrets, depth + 1));
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = isSecretName(k) ? REDACTED : redact(v, secrets, depth + 1);
    return out;
  }
  return value;
}

function redactString(s: string, secrets: readonly string[]): string {
  let out = s.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+):[^@\s/]+@/gi, `$1:${REDACTED}@`);
  for (const secret of secrets) if (secret) out = out.split(secret).join(REDACTED);
  return out;
}

export function createLogger(options: JsonLoggerOptions = {}): JsonLogger {
  const envLevel = process.env["BATON_LOG_LEVEL"] as LogLevel | undefined;
  const level = options.level ?? (envLevel && envLevel in ORDER ? envLevel : "info");
  const write = options.write ?? ((line: string) => process.stdout.write(line + "\n"));
  const secrets = options.secrets ?? secretsFromEnv();
  return make(options.context ?? {}, ORDER[level], write, secrets);
}

function make(context: LogContext, min: number, write: (line: string) => void, secrets: readonly string[]): JsonLogger {
  const log = (lvl: LogLevel) => (msg: string, fields: Record<string, unknown> = {}) => {
    if (ORDER[lvl] < min) return;
    const record = redact({ time: new Date().toISOString(), level: lvl, msg, ...context, ...fields }, secrets);
    write(JSON.stringify(record));
  };
  return {
    debug: log("debug"),
    info: log("info"),
    warn: log("warn"),
    error: log("error"),
    child: (more) => make({ ...context, ...more }, min, write, secrets),
  };
}
