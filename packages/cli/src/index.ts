export { commands, type Command, type CommandModule } from "./commands.ts";
export { CliError, parseCommandArgs, numberFlag } from "./args.ts";
