// `baton web`: the web app (ranking pages for people, console for runs) over the bus and store of
// this environment: NATS_URL / S3_ENDPOINT as the stage services read them, else the in-memory bus
// and the local folder store. `baton web add-user` issues a login token, printed once, stored hashed.
import { jsonLogger, stageEnv } from "@baton/runner";
import { DEFAULT_WEB_PORT, ROLES, type Role, startWeb, UserFile, usersFileFor } from "@baton/web";
import { CliError, numberFlag, parseCommandArgs } from "../args.ts";

const USAGE = `usage: baton web [--port ${DEFAULT_WEB_PORT}] [--host 127.0.0.1]
       baton web add-user <name> --role rater|admin
       baton web users

  --port <n>     port to serve on (default ${DEFAULT_WEB_PORT}; 0 = any free port)
  --host <addr>  interface to listen on (default 127.0.0.1; 0.0.0.0 behind a proxy or in a pod)

Users and their hashed tokens live in $BATON_WEB_USERS, else web-users.json under $BATON_HOME
(default ./runs). The token add-user prints is shown this once: give it to the person, who logs in
with it at /login. Against a cluster the app reads NATS_URL and S3_ENDPOINT / S3_BUCKET.`;

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === "add-user") return addUser(rest);
  if (sub === "users") {
    const users = new UserFile(usersFileFor());
    for (const u of await users.list()) console.log(`${u.name.padEnd(24)} ${u.role}`);
    return 0;
  }
  const { values, positionals } = parseCommandArgs(
    argv,
    { port: { type: "string" }, host: { type: "string" } },
    USAGE,
    false,
  );
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length > 0) throw new CliError(`unknown subcommand "web ${positionals[0]}"\n\n${USAGE}`);
  const port = numberFlag("port", values.port, DEFAULT_WEB_PORT, 0);
  const env = await stageEnv();
  const web = await startWeb({
    bus: env.bus,
    store: env.store,
    log: jsonLogger({ service: "web" }),
    port,
    ...(values.host !== undefined && { hostname: values.host }),
  });
  process.stderr.write(
    `baton web on ${web.url} (listening on ${web.listening}) over ${env.describe}; users in ${usersFileFor()}\n`,
  );
  await new Promise<void>((resolve) => {
    process.once("SIGTERM", resolve);
    process.once("SIGINT", resolve);
  });
  await web.close();
  await env.close();
  return 0;
}

async function addUser(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { role: { type: "string" } }, USAGE);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const [name] = positionals;
  if (!name || positionals.length > 1) throw new CliError(`give one user name\n\n${USAGE}`);
  if (!values.role || !ROLES.includes(values.role as Role))
    throw new CliError(`--role must be ${ROLES.join(" or ")}, got ${JSON.stringify(values.role ?? "")}`);
  const users = new UserFile(usersFileFor());
  const token = await users.add(name, values.role as Role).catch((err: Error) => {
    throw new CliError(err.message, 1);
  });
  process.stderr.write(`added ${name} (${values.role}) to ${users.path}; the token below is shown only now:\n`);
  console.log(token);
  return 0;
}
