import { type ChildProcess, spawn } from "node:child_process";
import { rm } from "node:fs/promises";

/** The last lines a child printed, kept so a failed start can say why. */
export class OutputTail {
  private lines: string[] = [];
  constructor(private readonly keep = 40) {}
  push(chunk: Buffer | string): void {
    for (const line of chunk.toString().split("\n")) {
      if (line.trim() === "") continue;
      this.lines.push(line);
      if (this.lines.length > this.keep) this.lines.shift();
    }
  }
  toString(): string {
    return this.lines.join("\n");
  }
}

// Children still running when this process exits (a test that failed before its cleanup, a crashed
// worker) are killed with it, so no server or stage is left running on a shared machine.
const running = new Set<ChildProcess>();
let reaperInstalled = false;

/** Kills `child` when this process exits, if it still runs then. */
export function reapOnExit(child: ChildProcess): void {
  if (!reaperInstalled) {
    reaperInstalled = true;
    process.once("exit", () => {
      for (const c of running) c.kill("SIGKILL");
    });
  }
  running.add(child);
  child.once("exit", () => running.delete(child));
}

/**
 * For a child process (a test server or stage): exits when its parent goes away, so a killed test
 * run leaves nothing behind. Checks every second; the timer does not keep the process alive.
 */
export function exitWithParent(): void {
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) process.exit(1);
  }, 1_000).unref();
}

export interface SpawnedService {
  child: ChildProcess;
  output: OutputTail;
  /** Resolves when the process has exited (immediately if it already has). */
  exited: () => Promise<void>;
}

/**
 * Spawns a server process and resolves once a line of its output matches `ready`.
 * Rejects with the tail of its output if it exits first or takes longer than `timeoutMs`.
 */
export async function spawnUntilReady(
  command: string,
  args: string[],
  ready: RegExp,
  timeoutMs: number,
  what: string,
  env?: NodeJS.ProcessEnv,
): Promise<SpawnedService> {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], ...(env && { env }) });
  reapOnExit(child);
  const output = new OutputTail();
  const exit = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const exited = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    await exit;
  };
  await new Promise<void>((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${what} did not get ready within ${timeoutMs} ms (${command} ${args.join(" ")}):\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output.push(chunk);
      seen = (seen + chunk.toString()).slice(-4096);
      if (ready.test(seen)) {
        clearTimeout(timer);
        child.stdout?.off("data", onData);
        child.stderr?.off("data", onData);
        // Keep draining output so the child never blocks on a full pipe.
        child.stdout?.on("data", (c: Buffer) => output.push(c));
        child.stderr?.on("data", (c: Buffer) => output.push(c));
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("error", (err) => {
      clearTimeout(timer);
      reject(new Error(`${what} could not start (${command}): ${err.message}`));
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited before it was ready (code ${code}, signal ${signal}):\n${output}`));
    });
  });
  return { child, output, exited };
}

/** Sends `signal` and waits for the exit; escalates to SIGKILL after `graceMs`. */
export async function stopProcess(service: SpawnedService, signal: NodeJS.Signals, graceMs = 5_000): Promise<void> {
  const { child } = service;
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await service.exited();
  clearTimeout(timer);
}

/** The lifecycle every local test server offers: stop, crash, come back on the same port and data. */
export interface ServiceLifecycle {
  /** Graceful stop (SIGTERM); `restart()` brings it back on the same port and data. */
  stop(): Promise<void>;
  /** SIGKILL: the server dies without flushing, as on a crash. */
  kill(): Promise<void>;
  /** Starts it again (stopping it first if it still runs), same port and data. */
  restart(): Promise<void>;
  /** Stops it and deletes its data directory. */
  dispose(): Promise<void>;
}

/** Launches a server now and returns its lifecycle; `dataDir` is removed by `dispose()`. */
export async function launchRestartable(
  launch: () => Promise<SpawnedService>,
  dataDir: string,
): Promise<ServiceLifecycle> {
  let current: SpawnedService | undefined = await launch();
  const stop = async (signal: NodeJS.Signals): Promise<void> => {
    if (current) await stopProcess(current, signal);
    current = undefined;
  };
  return {
    stop: () => stop("SIGTERM"),
    kill: () => stop("SIGKILL"),
    async restart() {
      await stop("SIGTERM");
      current = await launch();
    },
    async dispose() {
      await stop("SIGTERM");
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
