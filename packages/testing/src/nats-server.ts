import { existsSync } from "node:fs";
import { copyFile, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, delimiter, join } from "node:path";
import { launchRestartable, type ServiceLifecycle, spawnUntilReady } from "./child-process.ts";
import { freePort } from "./free-port.ts";

/** A nats-server process with JetStream, started by a test. The port and store survive restarts. */
export interface LocalNats extends ServiceLifecycle {
  readonly url: string;
  readonly port: number;
  /** JetStream's store directory (`-sd`): streams, consumers and KV survive `restart()`. */
  readonly storeDir: string;
}

export interface StartNatsOptions {
  /** Path of the nats-server binary; default `$NATS_SERVER_BIN`, then `nats-server` on PATH or /usr/sbin. */
  binary?: string;
  port?: number;
  /** How long to wait for "Server is ready"; JetStream recovers its store before that line. */
  readyTimeoutMs?: number;
  /**
   * Start with an authorization file (infra/nats-auth.conf): it is copied beside a generated config
   * (port, JetStream store) that includes it; `env` gives the server the passwords it references.
   */
  authorization?: { file: string; env: Record<string, string> };
}

const READY_LINE = /Server is ready/;

export function findNatsServerBinary(): string {
  const fromEnv = process.env["NATS_SERVER_BIN"];
  if (fromEnv) return fromEnv;
  const dirs = [...(process.env["PATH"] ?? "").split(delimiter), "/usr/sbin", "/usr/local/bin", "/usr/bin"];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, "nats-server");
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(
    "nats-server was not found on PATH or in /usr/sbin. Install it (Debian: `apt-get install nats-server`), " +
      "set NATS_SERVER_BIN to its path, or set NATS_URL to a running server with JetStream.",
  );
}

/** Starts nats-server with JetStream on a free port (`-js -sd <tmpdir>`) and waits until it is ready. */
export async function startNats(options: StartNatsOptions = {}): Promise<LocalNats> {
  const binary = options.binary ?? findNatsServerBinary();
  const port = options.port ?? (await freePort());
  const storeDir = await mkdtemp(join(tmpdir(), "baton-nats-"));
  const readyTimeoutMs = options.readyTimeoutMs ?? 15_000;
  let args = ["-js", "-sd", storeDir, "-a", "127.0.0.1", "-p", String(port)];
  let env: NodeJS.ProcessEnv | undefined;
  if (options.authorization) {
    // nats-server refuses -sd beside a config's jetstream block, and includes only relative paths
    const confDir = await mkdtemp(join(tmpdir(), "baton-nats-conf-"));
    await copyFile(options.authorization.file, join(confDir, basename(options.authorization.file)));
    await writeFile(
      join(confDir, "nats.conf"),
      `listen: 127.0.0.1:${port}\njetstream { store_dir: ${JSON.stringify(storeDir)} }\ninclude ${JSON.stringify(basename(options.authorization.file))}\n`,
    );
    args = ["-c", join(confDir, "nats.conf")];
    env = { ...process.env, ...options.authorization.env };
  }
  const launch = () => spawnUntilReady(binary, args, READY_LINE, readyTimeoutMs, `nats-server on port ${port}`, env);

  const lifecycle = await launchRestartable(launch, storeDir);
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    ...lifecycle,
  };
}
