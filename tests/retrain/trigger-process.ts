// `baton trigger serve` as its own OS process, as a Deployment runs it, for the retraining tests.
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { tsxNodeArgs } from "@baton/testing";
import type { Cluster } from "../e2e/cluster.ts";

const CLI = fileURLToPath(new URL("../../packages/cli/src/main.ts", import.meta.url));

export interface TriggerProcess {
  child: ChildProcess;
  output: string[];
  exited: Promise<number | null>;
  /** Resolves once the output contains `text` (rejects after timeoutMs, with the output). */
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<void>;
  /** How many output lines contain `text`. */
  count(text: string): number;
  kill(signal: NodeJS.Signals): void;
  stop(): Promise<void>;
}

export function startTrigger(cluster: Cluster, rulesFile: string, tickMs = 200): TriggerProcess {
  const child = spawn(
    process.execPath,
    [...tsxNodeArgs(), CLI, "trigger", "serve", "--rules", rulesFile, "--tick-ms", String(tickMs)],
    {
      env: { ...process.env, ...cluster.processEnv },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const output: string[] = [];
  child.stdout!.on("data", (b: Buffer) => output.push(b.toString()));
  child.stderr!.on("data", (b: Buffer) => output.push(b.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const text = () => output.join("");
  return {
    child,
    output,
    exited,
    async waitFor(pattern, timeoutMs = 60_000) {
      const until = Date.now() + timeoutMs;
      const hit = () => (typeof pattern === "string" ? text().includes(pattern) : pattern.test(text()));
      while (!hit()) {
        if (Date.now() > until) throw new Error(`trigger output never showed ${String(pattern)}:\n${text()}`);
        if (child.exitCode !== null)
          throw new Error(`trigger exited ${child.exitCode} before showing ${String(pattern)}:\n${text()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    count: (needle) =>
      text()
        .split("\n")
        .filter((l) => l.includes(needle)).length,
    kill: (signal) => child.kill(signal),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
