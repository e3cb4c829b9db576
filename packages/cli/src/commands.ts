// The command table: one line per command. A command module exports
// `run(argv: string[]): Promise<number | void>`.
export interface CommandModule {
  run(argv: string[]): Promise<number | void>;
}

export interface Command {
  summary: string;
  load(): Promise<CommandModule>;
}

export const commands: Record<string, Command> = {
  version: { summary: "print the Baton version", load: () => import("./commands/version.ts") },
};
