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
  train: { summary: "train a model from a preset and text (train pretrain ...)", load: () => import("./commands/train.ts") },
  sample: { summary: "continue a prompt with a trained model folder", load: () => import("./commands/sample.ts") },
  bench: { summary: "benchmark pretraining throughput and loss (bench pretrain ...)", load: () => import("./commands/bench.ts") },
};
