#!/usr/bin/env node
// The `baton` command: `baton <command> [args]`. Each command lives in commands/<name>.ts and is
// loaded only when called, so `baton sample` does not pay for the NATS or S3 clients.
import { redactStandardStreams } from "@baton/contracts";
import { CliError } from "./args.ts";
import { commands } from "./commands.ts";

function usage(): string {
  const rows = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(16)} ${c.summary}`);
  return [
    "usage: baton <command> [options]",
    "",
    "commands:",
    ...rows,
    "",
    "`baton <command> --help` shows a command's options.",
  ].join("\n");
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    console.log(usage());
    return 0;
  }
  const command = commands[name];
  if (command === undefined) {
    console.error(`baton: unknown command "${name}".\n\n${usage()}`);
    return 2;
  }
  const mod = await command.load();
  return (await mod.run(rest)) ?? 0;
}

// Everything this process prints (its own lines, a service's logs, a library's warnings) goes
// through the one redactor: no secret from the environment reaches a terminal or a log collector.
redactStandardStreams();

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof CliError) {
      console.error(`baton: ${err.message}`);
      process.exit(err.exitCode);
    }
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
