import { createLogger } from "./logger.ts";
import type { Logger } from "./types.ts";

/**
 * Default logger: JSON lines on stderr (run id, step, stage and trace id come in `fields`), through
 * telemetry's logger so secret-named fields, secret env values and URL passwords never reach a line.
 */
export function jsonLogger(base: Record<string, unknown> = {}): Logger {
  return createLogger({ context: base, write: (line) => process.stderr.write(`${line}\n`) });
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
