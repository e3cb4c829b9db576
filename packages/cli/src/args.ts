import { type ParseArgsConfig, parseArgs } from "node:util";

/** A mistake in how a command was called: printed without a stack, with the exit code given. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = "CliError";
  }
}

type Options = NonNullable<ParseArgsConfig["options"]>;

/**
 * Strict option parsing shared by every command: an unknown flag or a missing value is a CliError
 * that names the flag and shows the command's usage.
 */
export function parseCommandArgs<O extends Options>(
  argv: string[],
  options: O,
  usage: string,
  allowPositionals = true,
) {
  try {
    return parseArgs({
      args: argv,
      options: { ...options, help: { type: "boolean", short: "h" } },
      allowPositionals,
      strict: true,
    });
  } catch (err) {
    throw new CliError(`${(err as Error).message}\n\n${usage}`);
  }
}

/** Parse a numeric flag, naming the flag when the value is not a number in range. */
/** A flag's whole number (>= min), or the fallback when it is absent. */
export function integerFlag(name: string, value: string | undefined, fallback: number, min: number): number {
  const n = numberFlag(name, value, fallback, min);
  if (!Number.isInteger(n)) throw new CliError(`--${name} must be an integer >= ${min}, got "${value}"`);
  return n;
}

export function numberFlag(name: string, value: string | undefined, fallback: number, min = -Infinity): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min)
    throw new CliError(`--${name} must be a number${min > -Infinity ? ` >= ${min}` : ""}, got "${value}"`);
  return n;
}
