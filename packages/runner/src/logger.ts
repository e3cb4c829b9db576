// JSON-lines logs: one object per line with time, level, msg and the relay's context
// (stage, runId, step, traceId). Secrets never reach a line: see ../redact.ts.
import { createRedactor, type Redactor, secretsFromEnv } from "@baton/contracts";

export { secretsFromEnv };

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
 * A copy of `value` safe to log, by the one redactor (../redact.ts): fields with secret names are
 * replaced, known secret values are cut out of strings, and passwords in URLs are hidden.
 */
export function redact(value: unknown, secrets: readonly string[]): unknown {
  return createRedactor(secrets).value(value);
}

export function createLogger(options: JsonLoggerOptions = {}): JsonLogger {
  const envLevel = process.env["BATON_LOG_LEVEL"] as LogLevel | undefined;
  const level = options.level ?? (envLevel && envLevel in ORDER ? envLevel : "info");
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const r = createRedactor(options.secrets ?? secretsFromEnv());
  return make(options.context ?? {}, ORDER[level], write, r);
}

function make(context: LogContext, min: number, write: (line: string) => void, r: Redactor): JsonLogger {
  const log =
    (lvl: LogLevel) =>
    (msg: string, fields: Record<string, unknown> = {}) => {
      if (ORDER[lvl] < min) return;
      const record = r.value({ time: new Date().toISOString(), level: lvl, msg, ...context, ...fields });
      write(JSON.stringify(record));
    };
  return {
    debug: log("debug"),
    info: log("info"),
    warn: log("warn"),
    error: log("error"),
    child: (more) => make({ ...context, ...more }, min, write, r),
  };
}
