import type { Logger } from "./types.ts";

/** Default logger: JSON lines on stderr (run id, step, stage and trace id come in `fields`). */
export function jsonLogger(base: Record<string, unknown> = {}): Logger {
  const write = (level: string, msg: string, fields?: Record<string, unknown>): void => {
    process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...base, ...fields })}\n`);
  };
  return {
    info: (msg, fields) => write("info", msg, fields),
    warn: (msg, fields) => write("warn", msg, fields),
    error: (msg, fields) => write("error", msg, fields),
  };
}

/** The same logger with fields added to every line. */
export function withFields(log: Logger, fields: Record<string, unknown>): Logger {
  return {
    info: (msg, f) => log.info(msg, { ...fields, ...f }),
    warn: (msg, f) => log.warn(msg, { ...fields, ...f }),
    error: (msg, f) => log.error(msg, { ...fields, ...f }),
  };
}

export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };
