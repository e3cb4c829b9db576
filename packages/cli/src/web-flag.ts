// `--web [port]` on `baton run` and `baton demo`: the web console over this process's own bus and
// store, so a local run (memory bus) can be watched live. The flag's value is optional, which
// node:util's parseArgs cannot say, so it is taken out of argv before the command parses the rest.
import { jsonLogger, type StageEnv } from "@baton/runner";
import { DEFAULT_WEB_PORT, type RunningWeb, startWeb, UserFile, usersFileFor } from "@baton/web";
import { CliError } from "./args.ts";

/** Removes `--web` (and a port right after it) from argv; web is the port, or null without the flag. */
export function takeWebFlag(argv: readonly string[]): { argv: string[]; web: number | null } {
  const rest = [...argv];
  const at = rest.findIndex((a) => a === "--web" || a.startsWith("--web="));
  if (at < 0) return { argv: rest, web: null };
  const flag = rest[at]!;
  let value: string | undefined = flag.includes("=") ? flag.slice(flag.indexOf("=") + 1) : undefined;
  let take = 1;
  if (value === undefined && rest[at + 1] !== undefined && /^\d+$/.test(rest[at + 1]!)) {
    value = rest[at + 1];
    take = 2;
  }
  rest.splice(at, take);
  if (value === undefined) return { argv: rest, web: DEFAULT_WEB_PORT };
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new CliError(`--web takes a port number (0..65535), got "${value}"`);
  return { argv: rest, web: port };
}

/**
 * Serves the console over `env`. With no user yet, adds an admin named "local" and prints its token
 * once, so whoever started the run can log in.
 */
export async function serveConsole(env: StageEnv, port: number): Promise<RunningWeb> {
  const users = new UserFile(usersFileFor());
  if ((await users.list()).length === 0) {
    const token = await users.add("local", "admin");
    process.stderr.write(
      `web: no user in ${users.path} yet; added admin "local", log in with this token (shown only now):\n${token}\n`,
    );
  }
  const web = await startWeb({
    bus: env.bus,
    store: env.store,
    log: { ...jsonLogger({ service: "web" }), info: () => {} },
    users,
    port,
  });
  process.stderr.write(`web console: ${web.url}\n`);
  return web;
}

/** After the run: the console stays up until Ctrl-C (SIGINT) or SIGTERM. */
export async function keepServing(web: RunningWeb): Promise<void> {
  process.stderr.write(`run finished; the console stays at ${web.url} until Ctrl-C\n`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await web.close();
}
